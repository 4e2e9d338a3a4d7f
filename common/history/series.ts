// Which series the history keeps for an agent and how a report becomes their values: the headline
// metrics, then one pair per mount (`mount:<path>:usedPercent|usedBytes`) and per interface
// (`if:<name>:rxRate|txRate`). A mount or interface seen later gets its series from then on.

import type { InterfaceCounters, Metrics, MountUsage } from '../collect/types.ts';

/** Headline series, in `history --json` point field names (the first eight are the original ones). */
export const HEADLINE = [
  'cpuPercent', 'memPercent', 'diskPercent', 'netRxRate', 'netTxRate', 'netRxBytes', 'netTxBytes', 'processCount',
  'memUsedBytes', 'memTotalBytes', 'swapPercent', 'swapUsedBytes', 'uptimeSeconds', 'load1',
] as const;
export type HeadlineField = (typeof HEADLINE)[number];

export const MOUNT_FIELDS = ['usedPercent', 'usedBytes'] as const;
export const INTERFACE_FIELDS = ['rxRate', 'txRate'] as const;

/** Longest series name kept (a mount path longer than this has no series). */
const MAX_NAME = 200;

export const mountSeries = (mount: string, f: (typeof MOUNT_FIELDS)[number]) => `mount:${mount}:${f}`;
export const ifSeries = (name: string, f: (typeof INTERFACE_FIELDS)[number]) => `if:${name}:${f}`;

/** Splits a per-mount or per-interface series name into its kind, object and field. */
export function parseSeries(name: string): { kind: 'mount' | 'if'; object: string; field: string } | null {
  const kind = name.startsWith('mount:') ? 'mount' : name.startsWith('if:') ? 'if' : null;
  if (!kind) return null;
  const rest = name.slice(kind.length + 1);
  const i = rest.lastIndexOf(':');
  if (i < 0) return null;
  return { kind, object: rest.slice(0, i), field: rest.slice(i + 1) };
}

const num = (v: number | null | undefined): number => (typeof v === 'number' && Number.isFinite(v) ? v : NaN);

/** Series name -> value (NaN when unknown) for one report. */
export function valuesOf(m: Metrics, interfaces?: InterfaceCounters[], mounts?: MountUsage[]): Map<string, number> {
  const out = new Map<string, number>();
  const total = num(m.memTotalBytes);
  const avail = num(m.memAvailableBytes);
  const swapTotal = num(m.swapTotalBytes);
  const swapUsed = num(m.swapUsedBytes);
  const derived: Partial<Record<HeadlineField, number>> = {
    memUsedBytes: total - avail,
    swapPercent: swapTotal > 0 ? Math.round((swapUsed / swapTotal) * 1000) / 10 : NaN,
  };
  for (const k of HEADLINE) out.set(k, k in derived ? num(derived[k]) : num((m as unknown as Record<string, number | null>)[k]));
  for (const d of mounts ?? []) {
    if (d.mount.length > MAX_NAME) continue;
    out.set(mountSeries(d.mount, 'usedPercent'), num(d.percent));
    out.set(mountSeries(d.mount, 'usedBytes'), num(d.used));
  }
  for (const i of interfaces ?? []) {
    if (i.name.length > MAX_NAME) continue;
    out.set(ifSeries(i.name, 'rxRate'), num(i.rxRate));
    out.set(ifSeries(i.name, 'txRate'), num(i.txRate));
  }
  return out;
}
