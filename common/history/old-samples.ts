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

/** The finest roll-up tier (index in `tiers`, raw first) whose ring still holds the bucket of `at`; -1: none does. */
export function tierFor(tiers: readonly Tier[], at: number, now: number): number {
  for (let k = 1; k < tiers.length; k++) {
    const t = tiers[k]!;
    if (Math.floor(at / t.step) * t.step >= now - t.step * (t.slots - 1)) return k;
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
