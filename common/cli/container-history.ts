// `manager history <agent> --containers [--since 1h] [--container name]`: each container's usage
// over a span, one line a container (mean and peak), or one line a record for one container.

import { HwError } from '../errors.ts';
import { durationMs } from '../util/units.ts';
import type { ContainerHistory, ContainerHistorySeries } from '../api/types.ts';
import { inert } from '../util/inert.ts';
import type { Client } from './client.ts';
import type { Io } from './io.ts';
import { bytes, pct, rate, table } from './format.ts';
import { minute } from './process-history.ts';

/** `--since` as the other history views read it (seconds, or 30s, 10m, 2h, 7d), sent as a time. */
export async function containerHistoryCmd(c: Client, ref: string, o: { since?: unknown; container?: unknown; json?: boolean }, io: Io, now = Date.now()): Promise<void> {
  if (o.container === true || o.container === '') throw new HwError('BAD_ARGS', '--container needs a name: --container web');
  const h = await c.containerHistory(ref, { since: String(now - durationMs(o.since ?? '10m', '--since')), ...(o.container !== undefined ? { container: String(o.container) } : {}) });
  if (o.json) return io.out(JSON.stringify(h, null, 2));
  io.out(containerHistoryText(h));
}

export function containerHistoryText(h: ContainerHistory): string {
  const who = inert(h.agent);
  const span = `from ${minute(h.from)} to ${minute(h.to)}`;
  if (!h.reported) {
    return `containers not reported by ${who} ${span}: the agent sends none (older than container history, no container engine it can reach, or --containers-every 0)`;
  }
  const last = h.times.length - 1;
  const one = h.times.length === 1;
  const kind = h.stepMs ? `period${one ? '' : 's'} of ${h.stepMs / 60_000} min (means; the state seen worst)` : one ? 'record' : 'records';
  const head = `${who}: ${h.times.length} ${kind} ${span}${h.truncated ? ' (the newest of a longer span)' : ''}; ${h.total[last]} containers at ${minute(h.times[last]!)}`;
  if (h.container !== undefined) {
    const s = h.containers[0];
    if (!s) return `${head}\nno container named ${inert(h.container)} in these records (each names the busiest ones: --containers-top on the agent)`;
    return `${head}\n${recordsTable(h, s)}`;
  }
  const rows = h.containers.map((s) => summary(s));
  const o = h.other;
  if (o && o.count.some((n) => n > 0)) {
    rows.push([`other (${o.count[last]} now, summed)`, '', '', pct(avg(o.cpuPercent)), pct(max(o.cpuPercent)), bytes(lastOf(o.memUsedBytes)), bytes(max(o.memUsedBytes)), '-',
      `${rate(avg(o.netRxRate))} / ${rate(avg(o.netTxRate))}`, `${rate(avg(o.blockReadRate))} / ${rate(avg(o.blockWriteRate))}`]);
  }
  const more = h.moreContainers ? `\n${h.moreContainers} more containers in these records not shown (--container <name> for one)` : '';
  if (!rows.length) return `${head}\nno containers in these records`;
  return `${head}\n${table([['NAME', 'STATE', 'HEALTH', 'CPU AVG', 'CPU MAX', 'MEM', 'MEM MAX', 'LIMIT', 'NET IN / OUT', 'DISK R / W'], ...rows])}${more}`;
}

/** One line a container: its newest state, CPU mean and peak, memory newest and peak, rates' means. */
function summary(s: ContainerHistorySeries): string[] {
  return [
    s.name, lastOf(s.state) ?? '-', lastOf(s.health) ?? '-', pct(avg(s.cpuPercent)), pct(max(s.cpuPercent)), bytes(lastOf(s.memUsedBytes)), bytes(max(s.memUsedBytes)),
    bytes(lastOf(s.memLimitBytes)), `${rate(avg(s.netRxRate))} / ${rate(avg(s.netTxRate))}`, `${rate(avg(s.blockReadRate))} / ${rate(avg(s.blockWriteRate))}`,
  ];
}

function recordsTable(h: ContainerHistory, s: ContainerHistorySeries): string {
  // An agent at --containers-every under a minute keeps several records a minute: the seconds tell them apart.
  const seconds = h.times.some((t, i) => i > 0 && t - h.times[i - 1]! < 60_000);
  const rows = h.times.map((t, i) => [
    minute(t, seconds), s.state[i] ?? 'not named', s.health[i] ?? '-', pct(s.cpuPercent[i]), bytes(s.memUsedBytes[i]), bytes(s.memLimitBytes[i]),
    rate(s.netRxRate[i]), rate(s.netTxRate[i]), rate(s.blockReadRate[i]), rate(s.blockWriteRate[i]),
  ]);
  return table([['TIME', 'STATE', 'HEALTH', 'CPU', 'MEM', 'LIMIT', 'NET IN', 'NET OUT', 'DISK READ', 'DISK WRITE'], ...rows]);
}

const known = <T>(v: (T | null)[]) => v.filter((x): x is T => x !== null);
function avg(v: (number | null)[]): number | null {
  const x = known(v);
  return x.length ? x.reduce((a, b) => a + b, 0) / x.length : null;
}
function max(v: (number | null)[]): number | null {
  const x = known(v);
  return x.length ? Math.max(...x) : null;
}
function lastOf<T>(v: (T | null)[]): T | null {
  const x = known(v);
  return x.length ? x[x.length - 1]! : null;
}
