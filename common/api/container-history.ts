// GET /api/agents/:agent/containers/history: the containers' usage records of a span, turned into
// one series per container on the records' times (what a chart and the CLI's table both read).

import type { ContainerLog, ContainerRecord } from '../history/container-log.ts';
import { CONTAINER_VALUE_KEYS as VALUES } from '../wire/container-usage.ts';
import { bucketRecords } from '../history/container-buckets.ts';
import type { ContainerHistory, ContainerHistoryOther, ContainerHistorySeries } from './types.ts';
import type { ContainerHistoryQuery } from './validate.ts';

/** Points answered at most: a day at one a minute; a longer span is summarised in periods (container-buckets.ts). */
export const CONTAINER_POINTS_MAX = 1440;
/** Records read for one answer at most (the newest): 35 days at one a minute, more than the log keeps at the defaults. */
const CONTAINER_READ_MAX = 50_400;
/** Containers answered at most (the busiest); the rest are counted in `moreContainers`. */
export const CONTAINER_SERIES_MAX = 50;


export function containerHistoryJson(log: ContainerLog, agent: { id: string; name: string }, q: ContainerHistoryQuery): ContainerHistory {
  const read = log.range(agent.id, q.from, q.to, CONTAINER_READ_MAX);
  const { records, stepMs } = bucketRecords(read.records, CONTAINER_POINTS_MAX);
  const n = records.length;
  const nulls = () => new Array<null>(n).fill(null);
  const series = new Map<string, ContainerHistorySeries>();
  records.forEach((rec, i) => {
    for (const r of rec.rows) {
      if (q.container !== undefined && r.name !== q.container) continue;
      let s = series.get(r.name);
      if (!s) {
        s = { name: r.name, state: nulls(), health: nulls(), memLimitBytes: nulls(), ...Object.fromEntries(VALUES.map((k) => [k, nulls()])) } as ContainerHistorySeries;
        series.set(r.name, s);
      }
      s.state[i] = r.state;
      s.health[i] = r.health;
      s.memLimitBytes[i] = r.memLimitBytes;
      for (const k of VALUES) s[k][i] = r[k];
    }
  });
  const mean = (v: (number | null)[]) => {
    const x = v.filter((a): a is number => a !== null);
    return x.length ? x.reduce((a, b) => a + b, 0) / x.length : -1;
  };
  const ranked = [...series.values()].sort((a, b) => mean(b.cpuPercent) - mean(a.cpuPercent) || mean(b.memUsedBytes) - mean(a.memUsedBytes) || a.name.localeCompare(b.name));
  return {
    agent: agent.name, agentId: agent.id, from: q.from, to: q.to, ...(q.container !== undefined ? { container: q.container } : {}),
    reported: n > 0, times: records.map((r) => r.at), total: records.map((r) => r.total),
    containers: ranked.slice(0, CONTAINER_SERIES_MAX), moreContainers: Math.max(0, ranked.length - CONTAINER_SERIES_MAX),
    other: q.container !== undefined || !n ? null : otherOf(records),
    stepMs, truncated: read.truncated,
  };
}

function otherOf(records: ContainerRecord[]): ContainerHistoryOther {
  const out = { count: records.map((r) => r.other?.count ?? 0) } as ContainerHistoryOther;
  for (const k of VALUES) out[k] = records.map((r) => r.other?.[k] ?? null);
  return out;
}
