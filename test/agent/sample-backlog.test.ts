// The in-memory backlog behind the SampleBacklog interface: oldest first, removed only once sent,
// bounded with a count of what the bound dropped.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { MemoryBacklog, BACKFILL_MAX_SAMPLES } from '../../common/agent/sample-backlog.ts';
import type { Sample } from '../../common/collect/types.ts';

const test = suite('agent/sample-backlog');

const s = (at: number): Sample => ({ at, metrics: { cpuPercent: at, memPercent: 1, diskPercent: 1, netRxBytes: 1, netTxBytes: 1, uptimeSeconds: 1, processCount: 1 } });
const ats = (list: readonly Sample[]) => list.map((x) => x.at);

test('push, read oldest first without removing, drop what was sent', () => {
  const b = new MemoryBacklog(10);
  for (let i = 1; i <= 5; i++) b.push(s(i));
  assert.is(b.size, 5);
  assert.equal(ats(b.read(3)), [1, 2, 3]);
  assert.equal(ats(b.read(3)), [1, 2, 3], 'read leaves them in place');
  b.drop(2);
  assert.is(b.size, 3);
  assert.equal(ats(b.read(10)), [3, 4, 5]);
  b.drop(10);
  assert.is(b.size, 0);
  assert.equal(b.read(5), []);
});

test('bounded: past the bound the oldest go, counted once by takeDropped; order kept across the wrap', () => {
  const b = new MemoryBacklog(4);
  for (let i = 1; i <= 11; i++) b.push(s(i));
  assert.is(b.size, 4);
  assert.equal(ats(b.read(4)), [8, 9, 10, 11]);
  assert.is(b.takeDropped(), 7);
  assert.is(b.takeDropped(), 0);
  b.drop(1);
  b.push(s(12));
  b.push(s(13));
  assert.equal(ats(b.read(9)), [10, 11, 12, 13]);
});

test('the default bound is BACKFILL_MAX_SAMPLES; a bad bound is refused', () => {
  const b = new MemoryBacklog();
  for (let i = 0; i < BACKFILL_MAX_SAMPLES + 3; i++) b.push(s(i));
  assert.is(b.size, BACKFILL_MAX_SAMPLES);
  assert.is(b.read(1)[0]!.at, 3);
  assert.throws(() => new MemoryBacklog(0));
});

test.run();
