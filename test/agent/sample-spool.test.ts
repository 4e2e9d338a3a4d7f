// The on-disk spool: every sample numbered and kept until acknowledged (in any order), oldest
// first across segments, surviving a reopen; bounded with the loss counted; a torn line cut; a
// disk that refuses writes keeps samples in memory and takes them back once it works again.

import { appendFileSync, readdirSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
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

/** Reads and acknowledges everything, a batch at a time; returns the samples' times. */
function drain(s: SampleSpool, batch = 7): number[] {
  const out: number[] = [];
  for (let guard = 0; s.size && guard < 10_000; guard++) {
    const b = s.read(0, batch);
    out.push(...b.map((x) => x.sample.at));
    s.ack([[b[0]!.seq, b[b.length - 1]!.seq]]);
  }
  return out;
}

const segments = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.jsonl'));

test('numbered from 0, oldest first across segments, forgotten only once acknowledged; survives a reopen', () => {
  const dir = tempDir('hw-spool-');
  const s1 = new SampleSpool({ dir, segmentSize: 10 });
  for (let i = 1; i <= 35; i++) assert.is(s1.push(sample(i)), i - 1);
  assert.is(s1.size, 35);
  assert.equal(s1.read(0, 3).map((x) => [x.seq, x.sample.at]), [[0, 1], [1, 2], [2, 3]]);
  assert.equal(s1.read(0, 3).map((x) => x.seq), [0, 1, 2], 'read leaves them');
  s1.ack([[0, 11]]);
  s1.ack([[30, 31]]); // live samples acknowledged before the backfill reaches them
  assert.is(s1.size, 21);
  assert.equal(s1.read(28, 5).map((x) => x.seq), [28, 29, 32, 33, 34], 'acknowledged ones skipped');
  const epoch = s1.epoch;
  s1.close(); // as a restart
  const s2 = new SampleSpool({ dir, segmentSize: 10 });
  assert.is(s2.epoch, epoch, 'the numbering goes on under the same epoch');
  // Acknowledgements above the cursor are not saved: 30 and 31 come again (the manager takes them once).
  assert.is(s2.size, 23);
  assert.is(s2.read(0, 1)[0]!.seq, 12);
  assert.equal(s2.read(0, 1)[0]!.sample.mounts, sample(13).mounts);
  assert.is(s2.push(sample(36)), 35, 'numbering continues');
  assert.equal(drain(s2), Array.from({ length: 24 }, (_, i) => i + 13));
  assert.is(s2.size, 0);
  assert.equal(segments(dir), ['0000000000000035.jsonl'], 'acknowledged segments removed, but the one being written');
  s2.push(sample(41));
  s2.close();
  assert.is(readFileSync(join(dir, 'cursor'), 'utf8'), '36', 'the acknowledged position saved at close');
  const s3 = new SampleSpool({ dir, segmentSize: 10 });
  assert.equal(s3.read(0, 10).map((x) => [x.seq, x.sample.at]), [[36, 41]]);
  s3.ack([[36, 36]]);
  s3.close();
  assert.equal(segments(dir), [], 'an acknowledged segment not being written is removed');
});

test('bounded: past the limit the oldest segment goes, counted with its span', () => {
  const dir = tempDir('hw-spool-');
  const s = new SampleSpool({ dir, segmentSize: 10, max: 30 });
  for (let i = 1; i <= 100; i++) s.push(sample(i));
  assert.ok(s.size <= 30 && s.size >= 21, `size ${s.size}`);
  const lost = s.takeLost()!;
  assert.is(lost.count, 100 - s.size);
  assert.is(lost.reason, 'spool-full');
  assert.is(lost.firstAt, 1);
  assert.is(lost.lastAt, 100 - s.size);
  assert.is(s.takeLost(), null);
  const got = drain(s);
  assert.is(got[got.length - 1], 100);
  assert.equal(got, got.slice().sort((a, b) => a - b));
});

test('a torn last line (killed while writing) is cut with a notice; the next sample starts clean', () => {
  const dir = tempDir('hw-spool-');
  const s1 = new SampleSpool({ dir, segmentSize: 100 });
  for (let i = 1; i <= 3; i++) s1.push(sample(i));
  s1.close();
  appendFileSync(join(dir, segments(dir)[0]!), '{"at":4,"metr');
  const notes: string[] = [];
  const s2 = new SampleSpool({ dir, segmentSize: 100, log: (l) => notes.push(l) });
  assert.ok(notes.some((l) => /torn last line/.test(l)), notes.join('\n'));
  assert.is(s2.size, 3);
  s2.push(sample(5));
  assert.equal(drain(s2), [1, 2, 3, 5]);
});

test('a line that cannot be read back is counted lost, never asked for again', () => {
  const dir = tempDir('hw-spool-');
  const s1 = new SampleSpool({ dir, segmentSize: 100 });
  for (let i = 1; i <= 3; i++) s1.push(sample(i));
  s1.close();
  const f = join(dir, segments(dir)[0]!);
  const lines = readFileSync(f, 'utf8').split('\n');
  lines[1] = '{"not a sample"}';
  writeFileSync(f, lines.join('\n'));
  const s2 = new SampleSpool({ dir, segmentSize: 100 });
  assert.equal(s2.read(0, 10).map((x) => x.sample.at), [1, 3]);
  assert.equal(s2.takeLost(), { count: 1, reason: 'unreadable' });
  assert.is(s2.size, 2);
});

test('a disk that refuses a write: kept in memory, written back once it works, the spool back on disk', () => {
  const dir = tempDir('hw-spool-');
  let now = 0;
  let failing = false;
  const notes: string[] = [];
  const s = new SampleSpool({
    dir, segmentSize: 100, retryMs: 5000, now: () => now, log: (l) => notes.push(l),
    write: (fd, buf) => {
      if (failing) {
        writeSync(fd, buf, 0, 5); // a torn write, as ENOSPC mid-line leaves
        throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
      }
      writeSync(fd, buf);
    },
  });
  s.push(sample(1));
  failing = true;
  s.push(sample(2));
  now += 1000;
  s.push(sample(3)); // not tried again before retryMs
  assert.is(s.inMemory, 2);
  assert.ok(notes.some((l) => /keeping samples in memory/.test(l)), notes.join('\n'));
  s.ack([[2, 2]]); // acknowledged while only in memory: never written
  failing = false;
  now += 5000;
  s.push(sample(4));
  assert.is(s.inMemory, 0, 'back on disk');
  assert.ok(notes.some((l) => /written again/.test(l)), notes.join('\n'));
  s.close();
  const again = new SampleSpool({ dir, segmentSize: 100 });
  assert.equal(again.read(0, 10).map((x) => [x.seq, x.sample.at]), [[0, 1], [1, 2], [3, 4]], 'a kill after the recovery loses nothing');
});

test('a spool made on a disk that refuses writes: the agent starts, the epoch is written with the first sample the disk takes', () => {
  const dir = join(tempDir('hw-spool-'), 'spool');
  let failing = true;
  const s = new SampleSpool({
    dir, retryMs: 0,
    write: (fd, buf) => {
      if (failing) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
      writeSync(fd, buf);
    },
  });
  s.push(sample(1));
  assert.is(s.inMemory, 1);
  failing = false;
  s.push(sample(2));
  assert.is(s.inMemory, 0);
  assert.is(readFileSync(join(dir, 'epoch'), 'utf8'), s.epoch);
  s.close();
  assert.is(new SampleSpool({ dir }).epoch, s.epoch);
});

test('memory bounded while the disk refuses: the oldest dropped, counted', () => {
  const dir = tempDir('hw-spool-');
  const s = new SampleSpool({
    dir, memoryMax: 3, retryMs: 1e9,
    write: () => { throw Object.assign(new Error('read-only file system'), { code: 'EROFS' }); },
  });
  for (let i = 1; i <= 5; i++) s.push(sample(i));
  assert.is(s.size, 3);
  assert.equal(s.takeLost(), { count: 2, reason: 'memory-full', firstAt: 1, lastAt: 2 });
  assert.equal(s.read(0, 10).map((x) => x.sample.at), [3, 4, 5]);
});

test.run();
