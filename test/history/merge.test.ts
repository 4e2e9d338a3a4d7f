import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { recordSize, writeRollup } from '../../common/history/format.ts';
import { mergeRecord } from '../../common/history/merge.ts';

const f32 = (...v: number[]) => Float32Array.from(v);

test('counts add up, averages weighted by count, min of mins, max of maxes', () => {
  const buf = Buffer.alloc(recordSize(true, 3));
  writeRollup(buf, 0, 60_000, 3, f32(1, 5, NaN), f32(2, 6, NaN), f32(4, 7, NaN));
  const agg = { count: 1, min: f32(10, NaN, NaN), avg: f32(10, NaN, NaN), max: f32(10, NaN, NaN) };
  const out = mergeRecord(agg, buf, 0, 3);
  assert.is(out.count, 4);
  assert.is(out.avg[0], (2 * 3 + 10) / 4);
  assert.is(out.min[0], 1);
  assert.is(out.max[0], 10);
  // a series only the record has takes its values; one neither has stays NaN
  assert.equal([out.min[1], out.avg[1], out.max[1]], [5, 6, 7]);
  assert.ok(Number.isNaN(out.avg[2]!));
});

test('a record of no samples changes nothing', () => {
  const buf = Buffer.alloc(recordSize(true, 1));
  writeRollup(buf, 0, 60_000, 0, f32(0), f32(0), f32(0));
  const agg = { count: 2, min: f32(1), avg: f32(2), max: f32(3) };
  mergeRecord(agg, buf, 0, 1);
  assert.is(agg.count, 2);
  assert.equal([agg.min[0], agg.avg[0], agg.max[0]], [1, 2, 3]);
});

test.run();
