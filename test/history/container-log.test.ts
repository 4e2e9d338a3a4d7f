// The container history on real files: records read back by a new log (as after a kill -9), a
// range with its bound, rotation by the raw tier's span and by size (two files at most, the
// retention kept), the largest record inside a day's segment, a torn tail, a full disk counted.

import { appendFileSync, existsSync, readFileSync, statSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CONTAINER_SEGMENT_BYTES, ContainerLog } from '../../common/history/container-log.ts';
import { CONTAINER_USAGE_NAME_MAX, CONTAINER_USAGE_ROWS_MAX, type ContainerUsageRow, type SampleContainers } from '../../common/wire/container-usage.ts';
import { cleanTempDirs, tempDir } from '../harness.helper.ts';

test.after(() => cleanTempDirs());

const T0 = Date.UTC(2026, 0, 1);
const M = 60_000;
const H = 3600_000;

const row = (name: string, over: Partial<ContainerUsageRow> = {}): ContainerUsageRow => ({
  name, state: 'running', health: null, cpuPercent: 12.5, memUsedBytes: 52_428_800, memLimitBytes: 536_870_912,
  netRxRate: 1234.5, netTxRate: 99.1, blockReadRate: 0, blockWriteRate: 4096, ...over,
});
const record = (n: number, over: Partial<SampleContainers> = {}): SampleContainers => ({
  total: n + 3, rows: Array.from({ length: n }, (_, i) => row(`app-container-${String(i).padStart(6, '0')}`)),
  other: { count: 3, cpuPercent: 1.5, memUsedBytes: 3_000_000, netRxRate: null, netTxRate: null, blockReadRate: 0, blockWriteRate: 0 }, ...over,
});

test('records read back by a new log, with other and nulls kept as null (never 0)', () => {
  const dir = tempDir('hw-cont-');
  const a = new ContainerLog({ dir });
  const first = record(2, { rows: [row('web', { health: 'healthy' }), row('db', { cpuPercent: null, netRxRate: null })] });
  assert.ok(a.write('a1', T0, first));
  assert.ok(a.write('a1', T0 + M, record(1, { other: undefined as never, total: 1 })));
  const r = new ContainerLog({ dir }).range('a1', 0, Infinity, 100);
  assert.is(r.truncated, false);
  assert.equal(r.records[0], { at: T0, ...first });
  assert.is(r.records[0]?.rows[1]?.cpuPercent, null);
  assert.is(r.records[1]?.other, undefined, 'no other: none summed');
  assert.equal(new ContainerLog({ dir }).range('nobody', 0, Infinity, 100), { records: [], truncated: false });
});

test('a range answers the newest `max` records in time order, said truncated; a repeat of one time is kept once', () => {
  const a = new ContainerLog({ dir: tempDir('hw-cont-') });
  for (let i = 0; i < 30; i++) a.write('a1', T0 + i * M, record(1));
  a.write('a1', T0 + 29 * M, record(2)); // the same sample sent again after a manager restart
  const r = a.range('a1', T0 + 5 * M, T0 + 29 * M, 10);
  assert.is(r.truncated, true);
  assert.equal(r.records.map((x) => x.at), Array.from({ length: 10 }, (_, i) => T0 + (20 + i) * M));
  assert.is(r.records[9]?.rows.length, 2, 'the later copy wins');
});

test('rotation by the raw tier\'s span: two files at most, and at least the retention kept', () => {
  const a = new ContainerLog({ dir: tempDir('hw-cont-'), retentionMs: 2 * H });
  const every = 10 * M;
  for (let i = 0; i <= 60; i++) a.write('a1', T0 + i * every, record(3)); // 10 h, rotating every 2 h
  assert.ok(a.counters.rotated >= 4);
  const kept = a.range('a1', 0, Infinity, 10_000).records;
  const span = kept[kept.length - 1]!.at - kept[0]!.at;
  assert.ok(span >= 2 * H && span <= 4 * H, `kept ${span / H} h: the retention to twice it`);
  assert.ok(existsSync(`${a.pathOf('a1')}.1`));
  assert.is(existsSync(`${a.pathOf('a1')}.2`), false);
});

test('rotation by size when the records are large: bounded at two segments', () => {
  const seg = 64 * 1024;
  const a = new ContainerLog({ dir: tempDir('hw-cont-'), segmentBytes: seg });
  for (let i = 0; i < 200; i++) a.write('a1', T0 + i * M, record(20));
  const path = a.pathOf('a1');
  assert.ok(statSync(path).size <= seg);
  assert.ok(statSync(`${path}.1`).size <= seg);
  assert.ok(a.range('a1', 0, Infinity, 10_000).records.length > 0);
});

test('the largest record the report allows keeps 24 h at one a minute in one segment (the README\'s formula)', () => {
  const a = new ContainerLog({ dir: tempDir('hw-cont-') });
  const big = (i: number) => row(`${'n'.repeat(CONTAINER_USAGE_NAME_MAX - 6)}${String(i).padStart(6, '0')}`, {
    state: 'restarting'.padEnd(20, 'x'), health: 'unhealthy'.padEnd(20, 'x'), cpuPercent: 12345.6, memUsedBytes: 1_099_511_627_776, memLimitBytes: 1_099_511_627_776,
    netRxRate: 1_234_567_890.1, netTxRate: 1_234_567_890.1, blockReadRate: 1_234_567_890.1, blockWriteRate: 1_234_567_890.1,
  });
  a.write('a1', T0, { total: 2000, rows: Array.from({ length: CONTAINER_USAGE_ROWS_MAX }, (_, i) => big(i)), other: record(0).other! });
  const bytes = statSync(a.pathOf('a1')).size;
  assert.ok(bytes * 1440 <= CONTAINER_SEGMENT_BYTES, `${bytes} bytes a record`);
  // The typical record the README states: 20 containers of 20-character names and `other`.
  const b = new ContainerLog({ dir: tempDir('hw-cont-') });
  b.write('a1', T0, record(20));
  const typical = statSync(b.pathOf('a1')).size;
  assert.ok(typical > 1200 && typical < 2600, `${typical} bytes for 20 containers`);
});

test('a torn tail is skipped by readers and cut before the next append', () => {
  const dir = tempDir('hw-cont-');
  const a = new ContainerLog({ dir });
  for (let i = 0; i < 3; i++) a.write('a1', T0 + i * M, record(2));
  const path = a.pathOf('a1');
  appendFileSync(path, readFileSync(path).subarray(0, 40));
  const b = new ContainerLog({ dir });
  assert.is(b.range('a1', 0, Infinity, 100).records.length, 3);
  assert.ok(b.write('a1', T0 + 3 * M, record(2)));
  assert.is(b.counters.cutTails, 1);
  assert.is(b.range('a1', 0, Infinity, 100).records.length, 4);
});

test('a full disk: false and counted (the sample is sent again), never thrown', () => {
  let full = true;
  const notices: string[] = [];
  const a = new ContainerLog({
    dir: tempDir('hw-cont-'), notice: (l) => notices.push(l),
    append: (p, b) => {
      if (full) throw Object.assign(new Error('no space'), { code: 'ENOSPC' });
      appendFileSync(p, b);
    },
  });
  assert.is(a.write('a1', T0, record(1)), false);
  assert.is(a.counters.failedWrites, 1);
  assert.match(a.lastError ?? '', /ENOSPC/);
  assert.match(notices[0] ?? '', /container history/);
  full = false;
  assert.ok(a.write('a1', T0 + M, record(1)));
  assert.is(a.range('a1', 0, Infinity, 100).records.length, 1);
});

test.run();
