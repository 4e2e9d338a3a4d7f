// Folding a roll-up record already on disk into a fresh aggregate of the same bucket: late samples
// for a bucket that has some already must add to it, not replace it.

import { recordWord, rollupValue } from './format.ts';
import type { Agg } from './rollup.ts';

/**
 * Adds the roll-up record at `off` in `buf` to `agg` (in place, returned): counts add up, averages
 * are weighted by each side's sample count, min of the mins, max of the maxes. A series missing on
 * one side (NaN) takes the other side's values.
 */
export function mergeRecord(agg: Agg, buf: Buffer, off: number, cols: number): Agg {
  const w0 = recordWord(buf, off);
  if (w0 <= 0) return agg;
  const w1 = agg.count;
  for (let c = 0; c < cols; c++) {
    const a = rollupValue(buf, off, c, 1);
    if (Number.isNaN(a)) continue;
    const lo = rollupValue(buf, off, c, 0);
    const hi = rollupValue(buf, off, c, 2);
    if (Number.isNaN(agg.avg[c]!)) {
      agg.avg[c] = a;
      agg.min[c] = lo;
      agg.max[c] = hi;
      continue;
    }
    agg.avg[c] = (agg.avg[c]! * w1 + a * w0) / (w1 + w0);
    if (lo < agg.min[c]!) agg.min[c] = lo;
    if (hi > agg.max[c]!) agg.max[c] = hi;
  }
  agg.count = w1 + w0;
  return agg;
}
