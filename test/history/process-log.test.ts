// The process history on real files: records framed and read back by a new log (as after a
// kill -9), a query by minute and by range, the size bound with its rotation, a torn tail cut at
// the next append, a damaged record, repeats of one minute, and a full disk counted, not thrown.

import { appendFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PROCESS_NEAR_MS, PROCESS_RANGE_MAX, PROCESS_SEGMENT_BYTES, ProcessLog, readFrames } from '../../common/history/process-log.ts';
import type { ProcessRow, SampleProcesses } from '../../common/collect/types.ts';
import { PROCESS_COMMAND_MAX, PROCESS_NAME_MAX } from '../../common/wire/processes.ts';
import { cleanTempDirs, tempDir } from '../harness.helper.ts';

test.after(() => cleanTempDirs());

const T0 = Date.UTC(2026, 0, 1);
const M = 60_000;

const row = (pid: number, name: string, over: Partial<ProcessRow> = {}): ProcessRow => ({
  pid, name, user: 'www-data', command: `/usr/bin/${name} --serve`, cpuPercent: 12.5, memBytes: 123_456_789, ioBytesPerSec: null, state: 'S', startedAt: T0 - 3600_000, ...over,
});
const lists = (name: string, n = 10): SampleProcesses => ({
  byCpu: Array.from({ length: n }, (_, i) => row(1000 + i, i ? `other${i}` : name)),
  byMem: Array.from({ length: n }, (_, i) => row(2000 + i, `mem${i}`)),
});

test('records read back by a new log; the nearest minute and a range', () => {
  const dir = tempDir('hw-procs-');
  const a = new ProcessLog({ dir });
  for (let i = 0; i < 30; i++) assert.ok(a.write('a1', T0 + i * M, lists(`burner${i}`)));
  const b = new ProcessLog({ dir });
  const r = b.near('a1', T0 + 14 * M + 20_000);
  assert.is(r?.at, T0 + 14 * M);
  assert.equal(r?.byCpu[0], row(1000, 'burner14'));
  assert.is(r?.byMem.length, 10);
  assert.is(b.near('a1', T0 - PROCESS_NEAR_MS - 1), null, 'nothing near: none, not a record from elsewhere');
  assert.is(b.near('nobody', T0), null);
  const range = b.range('a1', T0 + 10 * M, T0 + 19 * M);
  assert.equal(range.records.map((x) => x.at), Array.from({ length: 10 }, (_, i) => T0 + (10 + i) * M));
  assert.is(range.truncated, false);
});

test('a range answers the last PROCESS_RANGE_MAX, said truncated', () => {
  const a = new ProcessLog({ dir: tempDir('hw-procs-') });
  for (let i = 0; i < PROCESS_RANGE_MAX + 5; i++) a.write('a1', T0 + i * M, lists('x', 1));
  const r = a.range('a1', 0, Infinity);
  assert.is(r.records.length, PROCESS_RANGE_MAX);
  assert.is(r.truncated, true);
  assert.is(r.records[0]?.at, T0 + 5 * M);
});

test('a late record (backfill) and a repeat of one minute: one record a minute, in time order', () => {
  const a = new ProcessLog({ dir: tempDir('hw-procs-') });
  a.write('a1', T0 + 2 * M, lists('two'));
  a.write('a1', T0, lists('zero'));
  a.write('a1', T0 + 2 * M, lists('two-again'));
  const r = a.range('a1', 0, Infinity).records;
  assert.equal(r.map((x) => x.at), [T0, T0 + 2 * M]);
  assert.is(r[1]?.byCpu[0]?.name, 'two-again');
});

test('bounded: rotated by size into .1, at most two files, the newest kept', () => {
  const dir = tempDir('hw-procs-');
  const seg = 64 * 1024;
  const a = new ProcessLog({ dir, segmentBytes: seg });
  for (let i = 0; i < 200; i++) a.write('a1', T0 + i * M, lists(`p${i}`));
  const path = a.pathOf('a1');
  assert.ok(statSync(path).size <= seg);
  assert.ok(statSync(`${path}.1`).size <= seg);
  assert.ok(a.counters.rotated >= 2);
  assert.is(a.near('a1', T0 + 199 * M)?.byCpu[0]?.name, 'p199');
  const kept = a.range('a1', 0, Infinity).records;
  assert.ok(kept.length >= seg / (statSync(path).size / readFrames(readFileSync(path)).records.length) - 1, 'at least a segment of records kept');
  assert.is(a.near('a1', T0)?.at === T0, false, 'the oldest went');
});

test('the bytes of the largest rows allowed: 1,440 records of 10 + 10 fit in one segment', () => {
  const a = new ProcessLog({ dir: tempDir('hw-procs-') });
  const big = (pid: number): ProcessRow => ({
    pid: 4_000_000_000 + pid, name: 'n'.repeat(PROCESS_NAME_MAX), user: 'u'.repeat(PROCESS_NAME_MAX), command: 'c'.repeat(PROCESS_COMMAND_MAX),
    cpuPercent: 1234.56789, memBytes: 123_456_789_012, ioBytesPerSec: 123_456_789.123, state: 's'.repeat(32), startedAt: 1_799_999_999_999,
  });
  a.write('a1', T0, { byCpu: Array.from({ length: 10 }, (_, i) => big(i)), byMem: Array.from({ length: 10 }, (_, i) => big(i)) });
  const bytes = statSync(a.pathOf('a1')).size;
  assert.ok(bytes * 1440 <= PROCESS_SEGMENT_BYTES, `${bytes} bytes a record`);
});

test('a typical record (short names, 60-character command lines) is about 3 KB', () => {
  const a = new ProcessLog({ dir: tempDir('hw-procs-') });
  const r = (pid: number): ProcessRow => row(pid, 'postgres', { command: `postgres: 16/main: walwriter ${'x'.repeat(30)}`, user: 'postgres', cpuPercent: 3.4, memBytes: 98_123_776 });
  a.write('a1', T0, { byCpu: Array.from({ length: 10 }, (_, i) => r(10_000 + i)), byMem: Array.from({ length: 10 }, (_, i) => r(20_000 + i)) });
  const bytes = statSync(a.pathOf('a1')).size;
  assert.ok(bytes > 2000 && bytes < 3500, `${bytes} bytes`);
});

test('a torn tail is skipped by readers and cut before the next append', () => {
  const dir = tempDir('hw-procs-');
  const a = new ProcessLog({ dir });
  for (let i = 0; i < 3; i++) a.write('a1', T0 + i * M, lists(`p${i}`));
  const path = a.pathOf('a1');
  const whole = readFileSync(path);
  appendFileSync(path, whole.subarray(0, 40)); // half a record, as a crash mid-write leaves it
  const b = new ProcessLog({ dir });
  assert.is(b.range('a1', 0, Infinity).records.length, 3);
  assert.ok(b.write('a1', T0 + 3 * M, lists('p3')));
  assert.is(b.counters.cutTails, 1);
  assert.equal(b.range('a1', 0, Infinity).records.map((r) => r.byCpu[0]?.name), ['p0', 'p1', 'p2', 'p3']);
});

test('a damaged record ends what is read of that file (the CRC)', () => {
  const dir = tempDir('hw-procs-');
  const a = new ProcessLog({ dir });
  for (let i = 0; i < 3; i++) a.write('a1', T0 + i * M, lists(`p${i}`));
  const path = a.pathOf('a1');
  const buf = readFileSync(path);
  const { goodBytes } = readFrames(buf);
  assert.is(goodBytes, buf.length);
  const second = 8 + buf.readUInt32BE(0);
  buf[second + 20] ^= 0xff;
  writeFileSync(path, buf);
  assert.equal(new ProcessLog({ dir }).range('a1', 0, Infinity).records.map((r) => r.at), [T0]);
});

test('a full disk: false, counted, said once a minute, and the next write after it goes through', () => {
  const dir = tempDir('hw-procs-');
  let full = true;
  const notices: string[] = [];
  const a = new ProcessLog({
    dir, notice: (l) => notices.push(l),
    append: (p, b) => {
      if (full) throw Object.assign(new Error('no space'), { code: 'ENOSPC' });
      appendFileSync(p, b);
    },
  });
  assert.is(a.write('a1', T0, lists('p0')), false);
  assert.is(a.write('a1', T0 + M, lists('p1')), false);
  assert.is(a.counters.failedWrites, 2);
  assert.is(notices.length, 1);
  assert.match(notices[0]!, /ENOSPC/);
  assert.is(existsSync(a.pathOf('a1')), false);
  full = false;
  assert.ok(a.write('a1', T0, lists('p0')));
  assert.is(a.near('a1', T0)?.byCpu[0]?.name, 'p0');
});

test.run();
