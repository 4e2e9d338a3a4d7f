// Roll-ups: min, average and max of each series over a bucket, from the records of the finer tier
// (raw samples, or smaller roll-ups weighted by how many samples each holds), so a one-second spike
// survives in `max` however coarse the tier.

import { rawValue, recordAt, recordState, recordWord, rollupValue, type Tier } from './format.ts';

export interface Agg {
  count: number;
  min: Float32Array;
  avg: Float32Array;
  max: Float32Array;
}

/**
 * Aggregates the good records in `buf` (records of `tier`) with `from <= at < to`, over `cols`
 * columns of `maxSeries`. `damaged` is told how many damaged records were skipped.
 */
export function aggregate(tier: Tier, buf: Buffer, from: number, to: number, maxSeries: number, cols: number, damaged?: (n: number) => void): Agg | null {
  const min = new Float32Array(maxSeries).fill(NaN);
  const avg = new Float32Array(maxSeries).fill(NaN);
  const max = new Float32Array(maxSeries).fill(NaN);
  const sum = new Float64Array(cols);
  const weight = new Float64Array(cols);
  const lo = new Float64Array(cols).fill(Infinity);
  const hi = new Float64Array(cols).fill(-Infinity);
  let count = 0;
  let bad = 0;
  const seen = new Set<number>();
  for (let off = 0; off + tier.recordSize <= buf.length; off += tier.recordSize) {
    const st = recordState(buf, off, tier.recordSize);
    if (st === 'damaged') bad++;
    if (st !== 'ok') continue;
    const at = recordAt(buf, off);
    if (at < from || at >= to || seen.has(at)) continue;
    seen.add(at);
    const w = tier.rollup ? recordWord(buf, off) : 1;
    if (w <= 0) continue;
    count += w;
    for (let c = 0; c < cols; c++) {
      const a = tier.rollup ? rollupValue(buf, off, c, 1) : rawValue(buf, off, c);
      if (Number.isNaN(a)) continue;
      const l = tier.rollup ? rollupValue(buf, off, c, 0) : a;
      const h = tier.rollup ? rollupValue(buf, off, c, 2) : a;
      sum[c]! += a * w;
      weight[c]! += w;
      if (l < lo[c]!) lo[c] = l;
      if (h > hi[c]!) hi[c] = h;
    }
  }
  if (bad) damaged?.(bad);
  if (!count) return null;
  for (let c = 0; c < cols; c++) {
    if (!weight[c]) continue;
    avg[c] = sum[c]! / weight[c]!;
    min[c] = lo[c]!;
    max[c] = hi[c]!;
  }
  return { count, min, avg, max };
}
