// Samples older than the raw tier's ring (a long outage's backfill) kept in a coarser tier instead:
// a bucket's samples summarised as the roll-ups are (count, min/avg/max a series) and folded into
// the record already in that bucket.

import { recordAt, recordState, writeRaw, writeRollup, type Tier } from './format.ts';
import { mergeRecord } from './merge.ts';
import { aggregate } from './rollup.ts';

export interface Sample {
  at: number;
  flags: number;
  values: Float32Array;
}

const start = (t: Tier, at: number): number => Math.floor(at / t.step) * t.step;
const horizon = (t: Tier, now: number): number => now - t.step * (t.slots - 1);

/**
 * The finest roll-up tier (index in `tiers`, raw first) whose ring still holds the bucket of `at`,
 * and from which every coarser bucket holding `at` can still be recomputed (each tier's ring holds
 * all of the bucket above); -1: none does.
 */
export function tierFor(tiers: readonly Tier[], at: number, now: number): number {
  for (let k = 1; k < tiers.length; k++) {
    if (start(tiers[k]!, at) < horizon(tiers[k]!, now)) continue;
    let climbs = true;
    for (let j = k + 1; j < tiers.length && climbs; j++) climbs = start(tiers[j]!, at) >= horizon(tiers[j - 1]!, now);
    if (climbs) return k;
  }
  return -1;
}

/**
 * The record for the bucket of `target` starting at `from`, summarising `samples` (all inside it)
 * together with `existing` (one record of `target` read from that bucket's slot) when that is a
 * good record of the same bucket; an empty or damaged slot, or one from an earlier lap of the ring,
 * is replaced. Null when no sample has a time in the bucket.
 */
export function foldedRecord(raw: Tier, target: Tier, samples: readonly Sample[], from: number, maxSeries: number, cols: number, existing: Buffer): Buffer | null {
  const buf = Buffer.alloc(samples.length * raw.recordSize);
  samples.forEach((s, i) => writeRaw(buf, i * raw.recordSize, s.at, s.flags, s.values));
  const agg = aggregate(raw, buf, from, from + target.step, maxSeries, cols);
  if (!agg) return null;
  if (recordState(existing, 0, target.recordSize) === 'ok' && recordAt(existing, 0) === from) mergeRecord(agg, existing, 0, cols);
  const out = Buffer.alloc(target.recordSize);
  writeRollup(out, 0, from, agg.count, agg.min, agg.avg, agg.max);
  return out;
}
