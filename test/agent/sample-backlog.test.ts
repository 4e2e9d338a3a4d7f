// The in-memory backlog behind the SampleBacklog interface: numbered, oldest first, forgotten only
// once acknowledged (in any order), bounded with the loss counted.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { MemoryBacklog, BACKFILL_MAX_SAMPLES } from '../../common/agent/sample-backlog.ts';
import type { Sample } from '../../common/collect/types.ts';

const test = suite('agent/sample-backlog');
const s = (at: number): Sample => ({ at, metrics: { cpuPercent: at, memPercent: 1, diskPercent: 1, netRxBytes: 1, netTxBytes: 1, uptimeSeconds: 1, processCount: 1 } });

test('numbered, oldest first, forgotten once acknowledged in any order', () => {
  const b = new MemoryBacklog(10);
  for (let i = 1; i <= 6; i++) assert.is(b.push(s(i)), i - 1);
  assert.equal(b.read(0, 2).map((k) => k.sample.at), [1, 2]);
  b.ack([[4, 5]]);
  assert.is(b.size, 4);
  assert.equal(b.read(0, 10).map((k) => k.seq), [0, 1, 2, 3]);
  b.ack([[0, 1]]);
  assert.equal(b.read(2, 10).map((k) => k.seq), [2, 3]);
  b.ack([[0, 100]]);
  assert.is(b.size, 0);
  assert.equal(b.read(0, 10), []);
  assert.is(b.push(s(7)), 6, 'numbering continues');
});

test('bounded: the oldest unacknowledged dropped past the bound, counted with its span', () => {
  const b = new MemoryBacklog(4);
  for (let i = 1; i <= 7; i++) b.push(s(i));
  assert.is(b.size, 4);
  assert.equal(b.read(0, 10).map((k) => k.sample.at), [4, 5, 6, 7]);
  assert.equal(b.takeLost(), { count: 3, reason: 'memory-full', firstAt: 1, lastAt: 3 });
  assert.is(b.takeLost(), null);
});

test('defaults and bad bounds', () => {
  const b = new MemoryBacklog();
  for (let i = 0; i < BACKFILL_MAX_SAMPLES + 5; i++) b.push(s(i));
  assert.is(b.size, BACKFILL_MAX_SAMPLES);
  assert.throws(() => new MemoryBacklog(0));
  assert.ok(b.epoch.length > 8);
});

test.run();
