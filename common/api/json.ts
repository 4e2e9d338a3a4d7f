// The API's JSON built from the manager's records and figures: the shapes of common/api/types.ts,
// which the CLI and the browser code read. The manager keeps records; this is how the API shows them.

import type { MountUsage } from '../collect/types.ts';
import type { AgentRecord, AlertRecord } from '../manager/state.ts';
import { ruleOfType } from '../rules/rule.ts';
import { agentHistory, type Range } from '../history/query.ts';
import type { Manager, ManagerFigures } from '../manager/manager.ts';
import type { Silence as SilenceRecord } from '../manager/silences.ts';
import type { Agent, Alert, History, Mount, Silence, Stats } from './types.ts';

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
    ...(a.samplesLost ? { samplesLost: { ...a.samplesLost, at: new Date(a.samplesLost.at).toISOString() } } : {}),
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
    ...(a.top?.length ? { top: a.top } : {}),
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

export function silenceJson(s: SilenceRecord): Silence {
  return { ...s, createdAt: new Date(s.createdAt).toISOString(), until: new Date(s.until).toISOString() };
}

/** The `history --json` shape: the agent, the range, the tier that answered and its points. */
export function historyJson(manager: Manager, rec: AgentRecord, r: Range & { detail?: boolean }): History {
  const h = agentHistory(manager.history, rec.id, r, !!r.detail);
  return { agent: rec.name, agentId: rec.id, interval: rec.interval, from: new Date(r.from).toISOString(), to: new Date(r.to).toISOString(), ...h } as History;
}
