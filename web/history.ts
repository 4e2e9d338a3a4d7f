// The one place the page asks for an agent's history. It sends both today's `since` and the
// history store's `from/to/points`, and reads either answer: plain samples (bucketed here into
// min/avg/max when there are more than `points`) or roll-ups that carry min/avg/max already.

import { api } from './api.ts';

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
}

type RawPoint = Record<string, unknown> & { at: string | number };

function valueOf(p: RawPoint, f: Field): { avg: number | null; min?: number | null; max?: number | null } {
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
  const q = `since=${Math.floor(fromMs)}&from=${Math.floor(fromMs)}&to=${Math.ceil(toMs)}&points=${points}`;
  const r = await api<{ points: RawPoint[]; step?: number; stepMs?: number; tier?: string }>(`/api/agents/${encodeURIComponent(agentId)}/history?${q}`);
  const raw = r.points.filter((p) => {
    const t = typeof p.at === 'number' ? p.at : Date.parse(p.at);
    return t >= fromMs && t <= toMs;
  });
  const stepMs = r.stepMs ?? r.step;
  const out: HistoryData = { t: [], fields: Object.fromEntries(FIELDS.map((f) => [f, { avg: [] } as Band])) as Record<Field, Band>, ...(stepMs ? { stepMs } : {}), ...(r.tier ? { tier: r.tier } : {}) };
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
  // A band only where its length matches (every point had it).
  for (const f of FIELDS) {
    const b = out.fields[f];
    if (b.min && b.min.length !== out.t.length) delete b.min;
    if (b.max && b.max.length !== out.t.length) delete b.max;
  }
  return out;
}
