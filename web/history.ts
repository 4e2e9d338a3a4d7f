// The one place the page asks for an agent's history. It sends both today's `since` and the
// history store's `from/to/points`, and reads either answer: plain samples (bucketed here into
// min/avg/max when there are more than `points`) or roll-ups that carry min/avg/max already.

import type { History, HistoryDetail, HistoryPoint } from '../common/api/types.ts';
import { agentPath, api } from './api.ts';

export const FIELDS = ['cpuPercent', 'memPercent', 'diskPercent', 'netRxRate', 'netTxRate', 'processCount'] as const;
export type Field = (typeof FIELDS)[number];

export interface Band {
  avg: (number | null)[];
  min?: (number | null)[];
  max?: (number | null)[];
}

export interface HistoryData {
  /** seconds since epoch, as uPlot wants */
  t: number[];
  fields: Record<Field, Band>;
  /** the store's step and tier, when it answered with them */
  stepMs?: number;
  tier?: string;
  /** per-mount and per-interface series on the same times as `t`, keyed `mount:<path>:usedPercent`, `if:<name>:rxRate` */
  detail: Record<string, Band>;
  /** the mounts and interfaces that have series, in the store's order */
  mounts: string[];
  interfaces: string[];
}

export const mountKey = (mount: string) => `mount:${mount}:usedPercent`;
export const ifKey = (name: string, f: 'rxRate' | 'txRate') => `if:${name}:${f}`;

type DetailGroup = HistoryDetail;

type RawPoint = HistoryPoint;

function valueOf(p: RawPoint, f: string): { avg: number | null; min?: number | null; max?: number | null } {
  const v = p[f];
  if (v && typeof v === 'object') {
    const o = v as { min?: number; avg?: number; max?: number };
    return { avg: o.avg ?? null, min: o.min ?? null, max: o.max ?? null };
  }
  // The history store's roll-ups: `min` and `max` objects beside the averages.
  const min = (p.min as Record<string, unknown> | undefined)?.[f] ?? p[`${f}Min`];
  const max = (p.max as Record<string, unknown> | undefined)?.[f] ?? p[`${f}Max`];
  return { avg: typeof v === 'number' ? v : null, ...(typeof min === 'number' ? { min } : {}), ...(typeof max === 'number' ? { max } : {}) };
}

export async function loadHistory(agentId: string, fromMs: number, toMs: number, points: number): Promise<HistoryData> {
  const q = `since=${Math.floor(fromMs)}&from=${Math.floor(fromMs)}&to=${Math.ceil(toMs)}&points=${points}&series=all`;
  const r = await api<History & { stepMs?: number }>(`${agentPath(agentId)}/history?${q}`);
  const raw = r.points.filter((p) => {
    const t = typeof p.at === 'number' ? p.at : Date.parse(p.at);
    return t >= fromMs && t <= toMs;
  });
  const stepMs = r.stepMs ?? r.step;
  const out: HistoryData = {
    t: [], fields: Object.fromEntries(FIELDS.map((f) => [f, { avg: [] } as Band])) as Record<Field, Band>, ...(stepMs ? { stepMs } : {}), ...(r.tier ? { tier: r.tier } : {}),
    detail: {}, mounts: [], interfaces: [],
  };
  const bucketMs = raw.length > points ? (toMs - fromMs) / points : 0;
  let bucket = -1;
  let acc: { n: number[]; sum: number[]; min: number[]; max: number[] } | undefined;
  const flush = () => {
    if (!acc || bucket < 0) return;
    out.t.push(Math.round((fromMs + (bucket + 0.5) * bucketMs) / 1000));
    FIELDS.forEach((f, i) => {
      const b = out.fields[f];
      const n = acc!.n[i]!;
      b.avg.push(n ? acc!.sum[i]! / n : null);
      (b.min ??= []).push(n ? acc!.min[i]! : null);
      (b.max ??= []).push(n ? acc!.max[i]! : null);
    });
  };
  for (const p of raw) {
    const at = typeof p.at === 'number' ? p.at : Date.parse(p.at);
    if (!bucketMs) {
      out.t.push(at / 1000);
      for (const f of FIELDS) {
        const v = valueOf(p, f);
        const b = out.fields[f];
        b.avg.push(v.avg);
        if (v.min !== undefined) (b.min ??= []).push(v.min);
        if (v.max !== undefined) (b.max ??= []).push(v.max);
      }
      continue;
    }
    const k = Math.min(points - 1, Math.floor((at - fromMs) / bucketMs));
    if (k !== bucket) {
      flush();
      bucket = k;
      acc = { n: FIELDS.map(() => 0), sum: FIELDS.map(() => 0), min: FIELDS.map(() => Infinity), max: FIELDS.map(() => -Infinity) };
    }
    FIELDS.forEach((f, i) => {
      const v = valueOf(p, f);
      if (v.avg === null) return;
      acc!.n[i]!++;
      acc!.sum[i]! += v.avg;
      acc!.min[i] = Math.min(acc!.min[i]!, v.min ?? v.avg);
      acc!.max[i] = Math.max(acc!.max[i]!, v.max ?? v.avg);
    });
  }
  flush();
  // The store buckets the detail series with the headline ones, so they share its times; an
  // answer bucketed here (plain samples) has no detail series.
  if (!bucketMs) addDetail(out, r.mounts, r.interfaces);
  // A band only where its length matches (every point had it).
  for (const f of FIELDS) {
    const b = out.fields[f];
    if (b.min && b.min.length !== out.t.length) delete b.min;
    if (b.max && b.max.length !== out.t.length) delete b.max;
  }
  return out;
}

function addDetail(out: HistoryData, mounts: DetailGroup[] | undefined, ifaces: DetailGroup[] | undefined): void {
  const index = new Map(out.t.map((t, i) => [t, i]));
  const fill = (key: string, field: string, pts: RawPoint[]) => {
    const b: Band = { avg: new Array(out.t.length).fill(null) };
    let banded = true;
    for (const p of pts) {
      const i = index.get((typeof p.at === 'number' ? p.at : Date.parse(p.at)) / 1000);
      if (i === undefined) continue;
      const v = valueOf(p, field);
      b.avg[i] = v.avg;
      if (typeof v.min === 'number' && typeof v.max === 'number') {
        (b.min ??= new Array(out.t.length).fill(null))[i] = v.min;
        (b.max ??= new Array(out.t.length).fill(null))[i] = v.max;
      } else banded = false;
    }
    if (!banded) {
      delete b.min;
      delete b.max;
    }
    out.detail[key] = b;
  };
  for (const g of mounts ?? []) {
    if (typeof g.mount !== 'string' || !Array.isArray(g.points)) continue;
    out.mounts.push(g.mount);
    fill(mountKey(g.mount), 'usedPercent', g.points);
  }
  for (const g of ifaces ?? []) {
    if (typeof g.name !== 'string' || !Array.isArray(g.points)) continue;
    out.interfaces.push(g.name);
    fill(ifKey(g.name, 'rxRate'), 'rxRate', g.points);
    fill(ifKey(g.name, 'txRate'), 'txRate', g.points);
  }
}
