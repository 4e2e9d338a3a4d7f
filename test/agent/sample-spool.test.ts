import { appendFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SampleSpool } from '../../common/agent/sample-spool.ts';
import type { Sample } from '../../common/collect/types.ts';
import { cleanTempDirs, tempDir } from '../harness.helper.ts';

test.after(() => cleanTempDirs());

const sample = (at: number): Sample => ({
  at, metrics: { cpuPercent: at % 100, memPercent: 1, diskPercent: 2, netRxBytes: 3, netTxBytes: 4, uptimeSeconds: 5, processCount: 6 },
  mounts: [{ mount: '/', size: 10, used: 5, percent: 50 }],
});

function drain(s: SampleSpool, batch = 7): number[] {
  const out: number[] = [];
  for (let guard = 0; s.size && guard < 10_000; guard++) {
    const b = s.read(batch);
    out.push(...b.map((x) => x.at));
    s.drop(b.length);
  }
  return out;
}

test('oldest first across segments; what was sent is dropped; survives a reopen (an agent restart)', () => {
  const dir = tempDir('hw-spool-');
  const s1 = new SampleSpool({ dir, segmentSize: 10 });
  for (let i = 1; i <= 35; i++) s1.push(sample(i));
  assert.is(s1.size, 35);
  assert.equal(s1.read(3).map((x) => x.at), [1, 2, 3]);
  assert.equal(s1.read(3).map((x) => x.at), [1, 2, 3], 'read leaves them');
  s1.drop(12);
  assert.is(s1.size, 23);
  s1.close(); // as a restart: nothing else is saved
  const s2 = new SampleSpool({ dir, segmentSize: 10 });
  assert.is(s2.size, 23);
  assert.equal(s2.read(1)[0]!.mounts, sample(13).mounts);
  for (let i = 36; i <= 40; i++) s2.push(sample(i));
  assert.equal(drain(s2), Array.from({ length: 28 }, (_, i) => i + 13));
  assert.is(s2.size, 0);
  assert.equal(readdirSync(dir).filter((f) => f.endsWith('.jsonl')), [], 'sent segments removed');
  s2.push(sample(41));
  s2.close();
  assert.equal(drain(new SampleSpool({ dir, segmentSize: 10 })), [41]);
});

test('bounded: past the limit the oldest segment goes, counted', () => {
  const dir = tempDir('hw-spool-');
  const s = new SampleSpool({ dir, segmentSize: 10, max: 30 });
  for (let i = 1; i <= 100; i++) s.push(sample(i));
  assert.ok(s.size <= 30 && s.size >= 21, `size ${s.size}`);
  assert.is(s.takeDropped(), 100 - s.size);
  const got = drain(s);
  assert.is(got[got.length - 1], 100);
  assert.equal(got, got.slice().sort((a, b) => a - b));
  assert.ok(readdirSync(dir).filter((f) => f.endsWith('.jsonl')).length <= 1);
});

test('a torn last line (killed while writing) is cut with a notice; the next sample starts clean', () => {
  const dir = tempDir('hw-spool-');
  const s1 = new SampleSpool({ dir, segmentSize: 100 });
  for (let i = 1; i <= 3; i++) s1.push(sample(i));
  s1.close();
  const seg = readdirSync(dir).find((f) => f.endsWith('.jsonl'))!;
  appendFileSync(join(dir, seg), '{"at":4,"metr');
  const notes: string[] = [];
  const s2 = new SampleSpool({ dir, segmentSize: 100, log: (l) => notes.push(l) });
  assert.ok(notes.some((l) => /torn last line/.test(l)), notes.join('\n'));
  assert.is(s2.size, 3);
  s2.push(sample(5));
  assert.equal(drain(s2), [1, 2, 3, 5]);
});

test('without a state folder: in memory, same behaviour', () => {
  const s = new SampleSpool();
  for (let i = 1; i <= 5; i++) s.push(sample(i));
  assert.equal(drain(s, 2), [1, 2, 3, 4, 5]);
});

test.run();
