import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { layout, recordWord, rollupValue, recordAt, type Tier } from '../../common/history/format.ts';
import { foldedRecord, tierFor } from '../../common/history/old-samples.ts';

const M = 60_000;
const H = 3600_000;
const D = 24 * H;
const tiers: Tier[] = layout({
  maxSeries: 2,
  tiers: [
    { name: 'raw', step: 5000, slots: D / 5000 },
    { name: '1m', step: M, slots: 14 * D / M },
    { name: '5m', step: 5 * M, slots: 14 * D / (5 * M) },
    { name: '1h', step: H, slots: 366 * 24 },
  ],
}).tiers;
const [raw, minute] = [tiers[0]!, tiers[1]!];
const now = 1_800_000_000_000;
const sample = (at: number, v: number) => ({ at, flags: 0, values: Float32Array.from([v, NaN]) });

test('the finest roll-up tier that still reaches back to a sample; none past the hour tier', () => {
  assert.is(tierFor(tiers, now - 2 * D, now), 1);
  assert.is(tierFor(tiers, now - 13 * D, now), 1);
  assert.is(tierFor(tiers, now - 20 * D, now), 3, 'older than the minute tiers: hours');
  assert.is(tierFor(tiers, now - 400 * D, now), -1);
  // an hour the 5-minute ring no longer holds whole could not be recomputed from it: into the hour itself
  assert.is(now % H, 0);
  assert.is(tierFor(tiers, now - 14 * D + 10 * M, now), 3);
  assert.is(tierFor(tiers, now - 14 * D + 2 * H, now), 1);
});

test('a minute of samples summarised, then folded into the record already in its bucket', () => {
  const from = Math.floor((now - 2 * D) / M) * M;
  const empty = Buffer.alloc(minute.recordSize);
  const first = foldedRecord(raw, minute, [sample(from, 1), sample(from + 5000, 3), sample(from + 10_000, 8)], from, 2, 2, empty)!;
  assert.is(recordAt(first, 0), from);
  assert.is(recordWord(first, 0), 3);
  assert.equal([rollupValue(first, 0, 0, 0), rollupValue(first, 0, 0, 1), rollupValue(first, 0, 0, 2)], [1, 4, 8]);
  const both = foldedRecord(raw, minute, [sample(from + 15_000, 0)], from, 2, 2, first)!;
  assert.is(recordWord(both, 0), 4);
  assert.equal([rollupValue(both, 0, 0, 0), rollupValue(both, 0, 0, 1), rollupValue(both, 0, 0, 2)], [0, 3, 8]);
  // a record of another minute (an earlier lap of the ring) is replaced, not merged
  const lap = foldedRecord(raw, minute, [sample(from + 14 * D, 5)], from + 14 * D, 2, 2, first)!;
  assert.is(recordWord(lap, 0), 1);
  assert.is(rollupValue(lap, 0, 0, 1), 5);
  assert.is(foldedRecord(raw, minute, [sample(from + M, 5)], from, 2, 2, empty), null, 'no sample inside the bucket');
});

test.run();
