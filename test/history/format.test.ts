import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  decodeHeader, encodeHeader, HEADER_SLOT, layout, recordSize, recordState, rawValue, rollupValue, writeRaw, writeRollup, type Header,
} from '../../common/history/format.ts';

const H: Header = { v: 1, agentId: 'a1', maxSeries: 4, columns: ['cpuPercent'], tiers: [{ name: 'raw', step: 5000, slots: 10 }, { name: '1m', step: 60_000, slots: 5 }] };

test('header: the newer good slot wins; a torn one falls back to the other', () => {
  const both = Buffer.alloc(HEADER_SLOT * 2);
  encodeHeader(H, 1).copy(both, HEADER_SLOT);
  encodeHeader({ ...H, columns: ['cpuPercent', 'memPercent'] }, 2).copy(both, 0);
  assert.equal(decodeHeader(both)!.header.columns, ['cpuPercent', 'memPercent']);
  both[40]! ^= 0xff; // tear the newer one
  const back = decodeHeader(both)!;
  assert.is(back.generation, 1);
  assert.equal(back.header.columns, ['cpuPercent']);
  both[HEADER_SLOT + 40]! ^= 0xff;
  assert.is(decodeHeader(both), null);
});

test('layout: tiers one after the other, each a whole number of records', () => {
  const { tiers, size } = layout(H);
  assert.is(tiers[0]!.offset, HEADER_SLOT * 2);
  assert.is(tiers[0]!.recordSize, recordSize(false, 4));
  assert.is(tiers[1]!.offset, tiers[0]!.offset + 10 * recordSize(false, 4));
  assert.is(size, tiers[1]!.offset + 5 * recordSize(true, 4));
});

test('records: checksummed; empty, good and damaged told apart', () => {
  const size = recordSize(false, 4);
  const b = Buffer.alloc(size * 2);
  assert.is(recordState(b, 0, size), 'empty');
  writeRaw(b, 0, 1234, 1, Float32Array.from([1.5, NaN, 3, 4]));
  assert.is(recordState(b, 0, size), 'ok');
  assert.is(rawValue(b, 0, 0), 1.5);
  assert.ok(Number.isNaN(rawValue(b, 0, 1)));
  b[20]! ^= 1;
  assert.is(recordState(b, 0, size), 'damaged');
  assert.is(recordState(b, size + 1, size), 'damaged', 'cut short');
  const rs = recordSize(true, 2);
  const r = Buffer.alloc(rs);
  writeRollup(r, 0, 60_000, 12, Float32Array.from([1, 2]), Float32Array.from([5, 6]), Float32Array.from([9, 10]));
  assert.is(recordState(r, 0, rs), 'ok');
  assert.equal([rollupValue(r, 0, 1, 0), rollupValue(r, 0, 1, 1), rollupValue(r, 0, 1, 2)], [2, 6, 10]);
});

test.run();
