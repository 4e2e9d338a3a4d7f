// The API's JSON built from the manager's records: the shapes of common/api/types.ts, which the
// CLI and the browser code read. ManagerState keeps records; this is how the API shows them.

import type { MountUsage } from '../collect/types.ts';
import type { ManagerFigures } from '../manager/manager.ts';
import type { AgentRecord, AlertRecord } from '../manager/state.ts';
import { ruleOfType } from '../rules/rule.ts';
import type { Agent, Alert, Mount, Stats } from './types.ts';

/** Readings every agent's JSON has, null before its first report. */
const EMPTY_METRICS_KEYS = ['cpuPercent', 'memPercent', 'diskPercent', 'netRxBytes', 'netTxBytes', 'uptimeSeconds', 'processCount'] as const;

/** The public JSON shape of `agents --json`. */
export function agentJson(a: AgentRecord): Agent {
  const metrics: Record<string, unknown> = {};
  for (const k of EMPTY_METRICS_KEYS) metrics[k] = a.metrics ? a.metrics[k] : null;
  if (a.metrics) Object.assign(metrics, a.metrics);
  return {
    id: a.id, name: a.name, hostname: a.hostname, address: a.address, platform: a.platform, version: a.version,
    online: a.online, restarting: a.restarting, down: a.down, trust: a.trust, fingerprint: a.fingerprint, lastSeen: a.lastSeen ? new Date(a.lastSeen).toISOString() : null,
    connectedAt: a.connectedAt ? new Date(a.connectedAt).toISOString() : null, interval: a.interval, metrics,
    rulesVersion: a.rulesVersion, labels: a.labels,
    mounts: a.mounts.map(mountJson),
  };
}

/** type and available are null (not absent) for an older agent's mounts, so every entry has one shape. */
function mountJson(m: MountUsage): Mount {
  return { mount: m.mount, type: m.type ?? null, size: m.size, used: m.used, available: m.available ?? null, percent: m.percent };
}

export function alertJson(a: AlertRecord): Alert {
  const r = a.rule ? { rule: a.rule, state: a.state ?? 'firing' } : ruleOfType(a.type);
  return {
    agent: a.agent, agentId: a.agentId, type: a.type, rule: r.rule, state: r.state, severity: a.severity ?? (r.rule === 'agent_down' ? 'critical' : 'warning'),
    value: a.value, ...(a.threshold !== undefined ? { threshold: a.threshold } : {}), labels: a.labels ?? {},
    at: new Date(a.at).toISOString(), seq: a.seq, n: a.n, via: a.via, ...(a.silenced ? { silenced: a.silenced } : {}),
  };
}

/** GET /api/stats: the manager's figures with times as ISO text, and this process's memory. */
export function statsJson(f: ManagerFigures): Stats {
  const m = process.memoryUsage();
  const { now, startedAt, storage, ...rest } = f;
  return {
    startedAt: new Date(startedAt).toISOString(), uptimeSeconds: Math.round((now - startedAt) / 1000), ...rest,
    storage: { ...storage, failingSince: storage.failingSince ? new Date(storage.failingSince).toISOString() : null },
    rssBytes: m.rss, heapUsedBytes: m.heapUsed, heapTotalBytes: m.heapTotal, externalBytes: m.external, arrayBuffersBytes: m.arrayBuffers,
  };
}
