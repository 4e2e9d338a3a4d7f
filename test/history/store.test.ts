// The history store on real files: written and read back by a new store (as after a kill -9),
// roll-ups with min/avg/max, late samples, a torn tail, a year driven by an injected clock, a full
// disk, and a retention change.

import { mkdirSync, readdirSync, renameSync, rmdirSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { layout } from '../../common/history/format.ts';
import { agentHistory, fleetHistory } from '../../common/history/query.ts';
import { HistoryStore, tierSpecs, DEFAULT_RETENTION } from '../../common/history/store.ts';
import type { Metrics } from '../../common/collect/types.ts';
import { cleanTempDirs, tempDir } from '../harness.helper.ts';

test.after(() => cleanTempDirs());

const T0 = Date.UTC(2026, 0, 1);
const M = 60_000;
const H = 3600_000;
const D = 24 * H;

function metrics(cpu: number, extra: Partial<Metrics> = {}): Metrics {
  return {
    cpuPercent: cpu, memPercent: 40, diskPercent: 55, netRxBytes: 1000, netTxBytes: 2000, uptimeSeconds: 60, processCount: 100,
    memTotalBytes: 8e9, memAvailableBytes: 6e9, netRxRate: 10, netTxRate: 20, swapTotalBytes: 1e9, swapUsedBytes: 25e7, ...extra,
  };
}

function clock(start = T0): { now: () => number; set: (t: number) => void } {
  let t = start;
  return { now: () => t, set: (v) => { t = v; } };
}

test('samples are on disk after a flush: a new store (as after kill -9, no close) reads them back', () => {
  const dir = tempDir('hw-hist-');
  const c = clock();
  const s1 = new HistoryStore({ dir, now: c.now, timer: false });
  for (let i = 0; i < 20; i++) {
    c.set(T0 + i * 5000);
    s1.add('a1', 5, T0 + i * 5000, metrics(i), [{ name: 'eth0', rxBytes: 1, txBytes: 2, rxRate: 100 + i, txRate: 7 }],
      [{ mount: '/', size: 100, used: 40, percent: 40 }, { mount: '/var', size: 200, used: 150, percent: 75 }]);
  }
  s1.flush();
  assert.is(s1.pendingSamples(), 0);
  const s2 = new HistoryStore({ dir, now: c.now, timer: false }); // s1 is never closed
  const h = agentHistory(s2, 'a1', { from: T0, to: T0 + 100_000, points: 1000 }, true);
  assert.is(h.tier, 'raw');
  assert.is(h.step, 5000);
  assert.is(h.points.length, 20);
  assert.is(h.points[7]!.cpuPercent, 7);
  assert.is(h.points[7]!.memUsedBytes, 2e9);
  assert.is(h.points[7]!.swapPercent, 25);
  assert.is(h.points[7]!.at, new Date(T0 + 35_000).toISOString());
  const mounts = h.mounts as { mount: string; points: Record<string, unknown>[] }[];
  assert.equal(mounts.map((m) => m.mount), ['/', '/var']);
  assert.is(mounts[1]!.points[3]!.usedPercent, 75);
  const ifs = h.interfaces as { name: string; points: Record<string, unknown>[] }[];
  assert.is(ifs[0]!.name, 'eth0');
  assert.is(ifs[0]!.points[5]!.rxRate, 105);
  s2.close();
});

test('a range spanning tiers answers from the roll-up with min, avg and max (a spike is not averaged away)', () => {
  const dir = tempDir('hw-hist-');
  const c = clock();
  const s = new HistoryStore({ dir, now: c.now, timer: false });
  // Three days at one sample a minute: cpu 10, except one 95 spike at 30 h; flushed every hour.
  for (let i = 0; i < 3 * 24 * 60; i++) {
    const at = T0 + i * M + 1000;
    c.set(at);
    s.add('a1', 60, at, metrics(i === 30 * 60 ? 95 : 10));
    if (i % 60 === 59) s.flush();
  }
  s.flush();
  const h = agentHistory(s, 'a1', { from: T0, to: T0 + 3 * D, points: 72 }, false);
  assert.is(h.tier, '1h');
  assert.is(h.step, H);
  assert.is(h.points.length, 72);
  const spike = h.points[30]!;
  assert.is((spike.max as Record<string, number>).cpuPercent, 95);
  assert.is((spike.min as Record<string, number>).cpuPercent, 10);
  assert.ok(Math.abs((spike.cpuPercent as number) - (10 * 59 + 95) / 60) < 0.01, `avg ${spike.cpuPercent}`);
  assert.is(spike.samples, 60);
  assert.is((h.points[10]!.max as Record<string, number>).cpuPercent, 10);
  // the same span with more points comes from the minute tier, downsampled, same samples in all
  c.set(T0 + 3 * D + 5 * M); // the last minute closed
  const fine = agentHistory(s, 'a1', { from: T0, to: T0 + 3 * D, points: 1000 }, false);
  assert.is(fine.tier, '1m');
  assert.ok(fine.points.length <= 1000 && fine.points.length > 500, `${fine.points.length} points`);
  assert.is(fine.points.reduce((n, p) => n + (p.samples as number), 0), 3 * 24 * 60);
  s.close();
});

test('late (backfilled) samples land in their slots, marked, and their roll-ups are redone', () => {
  const dir = tempDir('hw-hist-');
  const c = clock(T0 + 10 * M);
  const s = new HistoryStore({ dir, now: c.now, timer: false });
  for (let i = 60; i < 120; i++) s.add('a1', 5, T0 + i * 5000, metrics(50)); // minutes 5..9 live
  s.flush();
  for (let i = 0; i < 60; i++) s.add('a1', 5, T0 + i * 5000 + 17, metrics(20), undefined, undefined, true); // minutes 0..4, late
  s.flush();
  c.set(T0 + 12 * M); // the last minute is closed too
  const raw = agentHistory(s, 'a1', { from: T0, to: T0 + 10 * M, points: 1000 }, false);
  assert.is(raw.points.length, 120);
  assert.ok(raw.points.slice(0, 60).every((p) => p.backfill === true && p.cpuPercent === 20));
  assert.ok(raw.points.slice(60).every((p) => p.backfill === undefined && p.cpuPercent === 50));
  const minutes = agentHistory(s, 'a1', { from: T0, to: T0 + 10 * M, points: 10 }, false);
  assert.is(minutes.tier, '1m');
  assert.equal(minutes.points.map((p) => p.cpuPercent), [20, 20, 20, 20, 20, 50, 50, 50, 50, 50]);
  s.close();
});

test('interval jitter around a slot boundary loses no sample', () => {
  const dir = tempDir('hw-hist-');
  const c = clock();
  const s = new HistoryStore({ dir, now: c.now, timer: false });
  // Phase right at the boundary, +-40 ms of jitter: floor(at / 5 s) repeats and skips.
  const times = Array.from({ length: 200 }, (_, i) => T0 + i * 5000 + (i % 2 ? 30 : -40) + 5000);
  for (const at of times) {
    c.set(at);
    s.add('a1', 5, at, metrics(1));
  }
  s.flush();
  const h = agentHistory(s, 'a1', { from: T0, to: T0 + 2000 * 1000, points: 1000 }, false);
  assert.equal(h.points.map((p) => Date.parse(p.at as string)), times);
  s.close();
});

test('a torn last record (file cut by hand) is skipped with a notice; older data is intact', () => {
  const dir = tempDir('hw-hist-');
  const c = clock();
  const s1 = new HistoryStore({ dir, now: c.now, timer: false });
  for (let i = 0; i < 3 * 60; i++) {
    const at = T0 + i * M;
    c.set(at);
    s1.add('a1', 60, at, metrics(i % 100));
  }
  s1.close();
  const file = join(dir, 'a1.hws');
  const size = statSync(file).size;
  truncateSync(file, size - 100); // into the newest record at the end of the file (the last hour)
  const notices: string[] = [];
  const s2 = new HistoryStore({ dir, now: c.now, timer: false, notice: (l) => notices.push(l) });
  const h = agentHistory(s2, 'a1', { from: T0, to: T0 + 3 * H, points: 3 }, false);
  assert.ok(notices.some((l) => /ends inside a record \(tier 1h/.test(l)), notices.join('\n'));
  assert.is(h.tier, '1h');
  assert.is(h.points.length, 2, 'the torn hour is skipped');
  assert.equal(h.points.map((p) => p.samples), [60, 60]);
  const raw = agentHistory(s2, 'a1', { from: T0, to: T0 + 3 * H, points: 1000 }, false);
  assert.is(raw.points.length, 180, 'every raw sample still there');
  // writing on repairs the file: the next hour's records land where they belong
  c.set(T0 + 3 * H + 5 * M);
  s2.add('a1', 60, T0 + 3 * H, metrics(1));
  s2.close();
  const s3 = new HistoryStore({ dir, now: c.now, timer: false });
  assert.is(agentHistory(s3, 'a1', { from: T0, to: T0 + 4 * H, points: 4 }, false).points.length, 3);
  s3.close();
});

test('a year of samples (injected clock): the file never outgrows its layout, each tier keeps its span', () => {
  const dir = tempDir('hw-hist-');
  const c = clock();
  const s = new HistoryStore({ dir, now: c.now, timer: false });
  const interval = 600; // s: 10-minute samples make 400 days quick to drive
  const expected = layout({ maxSeries: s.maxSeries, tiers: tierSpecs(interval * 1000, DEFAULT_RETENTION) }).size;
  const end = T0 + 400 * D;
  let n = 0;
  for (let at = T0; at < end; at += interval * 1000) {
    c.set(at);
    s.add('a1', interval, at, metrics(n++ % 100), [{ name: 'eth0', rxBytes: 0, txBytes: 0, rxRate: 1, txRate: 2 }]);
    if (n % 36 === 0) s.flush();
    if (n % 5000 === 0) assert.ok(statSync(join(dir, 'a1.hws')).size <= expected, 'bounded along the way');
  }
  s.flush();
  assert.ok(statSync(join(dir, 'a1.hws')).size <= expected);
  assert.equal(readdirSync(dir), ['a1.hws']);
  const year = agentHistory(s, 'a1', { from: end - 400 * D, to: end, points: 10_000 }, false);
  assert.is(year.tier, '1h');
  const first = Date.parse(year.points[0]!.at as string);
  assert.ok(first >= end - 367 * D && first <= end - 365 * D, `hour tier starts ${(end - first) / D} days back`);
  const raw = agentHistory(s, 'a1', { from: end - 3 * D, to: end, points: 10_000 }, false);
  assert.is(raw.tier, '1m', 'raw does not reach three days back');
  const day = agentHistory(s, 'a1', { from: end - D + 1, to: end, points: 10_000 }, false);
  assert.is(day.tier, 'raw');
  assert.is(day.points.length, 143, 'one every 10 minutes, both ends excluded');
  s.close();
});

test('a file that cannot be written: counted with a notice, nothing throws, other agents go on', () => {
  const dir = tempDir('hw-hist-');
  mkdirSync(join(dir, 'a1.hws'));
  const notices: string[] = [];
  const s = new HistoryStore({ dir, timer: false, notice: (l) => notices.push(l) });
  s.add('a1', 5, Date.now(), metrics(1));
  s.flush();
  assert.ok(s.counters.failedWrites >= 1);
  assert.ok(notices.some((l) => /cannot write .*a1\.hws: EISDIR/.test(l)), notices.join('\n'));
  s.add('a2', 5, Date.now(), metrics(2));
  s.flush();
  assert.is(agentHistory(s, 'a2', { from: Date.now() - 60_000, to: Date.now() + 1000, points: 10 }, false).points.length, 1);
  s.close();
});

test('a retention change rewrites the file into the new layout, keeping what fits', () => {
  const dir = tempDir('hw-hist-');
  const c = clock();
  const s1 = new HistoryStore({ dir, now: c.now, timer: false });
  for (let i = 0; i < 120; i++) {
    c.set(T0 + i * M);
    s1.add('a1', 60, T0 + i * M, metrics(i));
  }
  s1.close();
  const notices: string[] = [];
  const s2 = new HistoryStore({ dir, now: c.now, timer: false, retention: { rawMs: H }, notice: (l) => notices.push(l) });
  s2.add('a1', 60, T0 + 120 * M, metrics(120));
  assert.ok(notices.some((l) => /rewritten/.test(l)), notices.join('\n'));
  const h = agentHistory(s2, 'a1', { from: T0 + 61 * M, to: T0 + 121 * M, points: 1000 }, false);
  assert.is(h.tier, 'raw');
  assert.is(h.points.length, 60);
  assert.is(h.points[0]!.cpuPercent, 61);
  const older = agentHistory(s2, 'a1', { from: T0, to: T0 + 2 * H, points: 2 }, false);
  assert.equal(older.points.map((p) => p.samples), [60, 60], 'roll-ups kept');
  s2.close();
});

test('one metric for every agent on one time grid', () => {
  const dir = tempDir('hw-hist-');
  const c = clock();
  const s = new HistoryStore({ dir, now: c.now, timer: false });
  for (let i = 0; i < 120; i++) {
    c.set(T0 + i * 30_000);
    s.add('a1', 30, T0 + i * 30_000, metrics(10));
    if (i >= 60) s.add('a2', 30, T0 + i * 30_000, metrics(i));
  }
  s.flush();
  c.set(T0 + H + 2 * M); // every minute closed
  const f = fleetHistory(s, [{ id: 'a1', name: 'one' }, { id: 'a2', name: 'two' }, { id: 'a3', name: 'none' }], 'cpuPercent', { from: T0, to: T0 + H, points: 4 }) as any;
  assert.is(f.step, 15 * M);
  assert.equal(f.times, [T0, T0 + 15 * M, T0 + 30 * M, T0 + 45 * M]);
  assert.equal(f.agents[0].avg, [10, 10, 10, 10]);
  assert.equal(f.agents[1].avg.slice(0, 2), [null, null]);
  assert.equal(f.agents[1].max.slice(2), [89, 119]);
  assert.equal(f.agents[1].min.slice(2), [60, 90]);
  assert.equal(f.agents[2].avg, [null, null, null, null]);
  s.close();
});

/** A store recording what it tells through onWritten and onDropped. */
function acking(dir: string, c: { now: () => number }, opts: { maxPending?: number; openFiles?: number } = {}) {
  const written: number[] = [];
  const calls: { id: string; seqs: number[] }[] = [];
  const dropped: { id: string; count: number; reason: string }[] = [];
  const notices: string[] = [];
  const s = new HistoryStore({
    dir, now: c.now, timer: false, ...opts, notice: (l) => notices.push(l),
    onWritten: (id, seqs) => { calls.push({ id, seqs }); written.push(...seqs); },
    onDropped: (id, count, reason) => dropped.push({ id, count, reason }),
  });
  return { s, written, calls, dropped, notices };
}

const sorted = (v: number[]) => [...v].sort((x, y) => x - y);
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

test('an agent that resends: past maxPending samples are refused, not dropped; each seq reported once it is on disk', () => {
  const dir = tempDir('hw-hist-');
  const end = T0 + H;
  const c = clock(end);
  const { s, written, calls, dropped } = acking(dir, c, { maxPending: 600 });
  const at = (i: number) => end - 900_000 + i * 1000;
  const results = range(0, 900).map((i) => s.add('a1', 1, at(i), metrics(i % 100), undefined, undefined, true, i));
  assert.is(results.filter((r) => r === 'taken').length, 600);
  assert.is(results.filter((r) => r === 'refused').length, 300);
  assert.ok(results.slice(600).every((r) => r === 'refused'), 'the newest are refused, the oldest never dropped');
  assert.is(s.counters.refused, 300);
  assert.is(s.counters.dropped, 0);
  assert.equal(written, [], 'nothing acknowledged before it is written');
  s.flush();
  assert.equal(sorted(written), range(0, 600));
  // the agent resends what was not acknowledged
  assert.ok(range(600, 900).every((i) => s.add('a1', 1, at(i), metrics(i % 100), undefined, undefined, true, i) === 'taken'));
  s.flush();
  assert.equal(sorted(written), range(0, 900));
  assert.is(calls.length, 2);
  assert.equal(dropped, []);
  const h = agentHistory(s, 'a1', { from: end - 900_000, to: end, points: 10_000 }, false);
  assert.is(h.tier, 'raw');
  assert.is(h.points.length, 900);
  assert.equal(h.points.map((p) => p.cpuPercent), range(0, 900).map((i) => i % 100));
  s.close();
});

test('a two-day backfill: the last day in raw, the day before summarised into the minute tier, nothing too old', () => {
  const dir = tempDir('hw-hist-');
  const end = T0 + 10 * D; // the agent comes back after two days away
  const c = clock(end);
  const { s, written, dropped } = acking(dir, c, { maxPending: 600 });
  const n = (2 * D) / 5000;
  assert.is(n, 34_560);
  const start = end - 2 * D;
  const cpu = (i: number) => (i * 7) % 13;
  // batches of 500: minutes straddle batches, so records are folded into ones already written
  for (let i = 0; i < n; i += 500) {
    for (let j = i; j < Math.min(n, i + 500); j++) assert.is(s.add('a1', 5, start + j * 5000, metrics(cpu(j)), undefined, undefined, true, j), 'taken');
    s.flush();
  }
  assert.is(s.counters.tooOld, 0);
  assert.is(s.counters.refused, 0);
  assert.is(s.counters.written, n);
  assert.equal(dropped, []);
  assert.equal(sorted(written), range(0, n), 'every seq acknowledged once');
  // raw: everything the ring reaches (the sample exactly 24 h old is one step beyond it)
  const raw = agentHistory(s, 'a1', { from: end - D + 5000, to: end, points: 20_000 }, false);
  assert.is(raw.tier, 'raw');
  assert.is(raw.points.length, D / 5000 - 1);
  assert.is(raw.points[0]!.cpuPercent, cpu(n / 2 + 1));
  c.set(end + 2 * M); // the last minute closes
  s.flush();
  // 48 h: the minute tier, both days, 12 samples a minute with the right averages
  const two = agentHistory(s, 'a1', { from: start, to: end, points: 10_000 }, false);
  assert.is(two.tier, '1m');
  assert.is(two.points.length, 2 * 24 * 60);
  assert.ok(two.points.every((p) => p.samples === 12), 'every minute holds its 12 samples');
  two.points.forEach((p, m) => {
    const vals = range(m * 12, m * 12 + 12).map(cpu);
    const avg = vals.reduce((x, y) => x + y, 0) / 12;
    assert.ok(Math.abs((p.cpuPercent as number) - avg) < 1e-4, `minute ${m}: ${p.cpuPercent} against ${avg}`);
    assert.is((p.min as Record<string, number>).cpuPercent, Math.min(...vals));
    assert.is((p.max as Record<string, number>).cpuPercent, Math.max(...vals));
  });
  // and the tiers above were recomputed from it
  const hours = agentHistory(s, 'a1', { from: start, to: end, points: 48 }, false);
  assert.is(hours.tier, '1h');
  assert.equal(hours.points.map((p) => p.samples), Array(48).fill(720));
  s.close();
});

test('samples older than every tier: too old, reported dropped once, and acknowledged (a resend cannot keep them)', () => {
  const dir = tempDir('hw-hist-');
  const c = clock(T0 + 400 * D);
  const { s, written, dropped, notices } = acking(dir, c);
  for (let i = 0; i < 5; i++) s.add('a1', 5, T0 + i * 5000, metrics(1), undefined, undefined, true, i);
  s.add('a1', 5, T0 + 380 * D, metrics(42), undefined, undefined, true, 5); // 20 days back: the hour tier keeps it
  s.flush();
  assert.is(s.counters.tooOld, 5);
  assert.equal(dropped, [{ id: 'a1', count: 5, reason: 'too-old' }]);
  assert.ok(notices.some((l) => /a1: 5 sample\(s\) older than every tier/.test(l)), notices.join('\n'));
  assert.equal(sorted(written), range(0, 6));
  const h = agentHistory(s, 'a1', { from: T0 + 379 * D, to: T0 + 381 * D, points: 48 }, false);
  assert.is(h.tier, '1h');
  assert.equal(h.points.map((p) => [p.samples, p.cpuPercent]), [[1, 42]]);
  s.flush();
  assert.is(dropped.length, 1, 'told once');
  s.close();
});

test('an agent without seqs over the bound: the oldest dropped, counted, and told once a flush with the count', () => {
  const dir = tempDir('hw-hist-');
  const c = clock(T0 + H);
  const { s, written, dropped, notices } = acking(dir, c, { maxPending: 10 });
  for (let i = 0; i < 25; i++) assert.is(s.add('a1', 5, T0 + i * 5000, metrics(i)), 'taken');
  assert.is(s.counters.dropped, 15);
  assert.equal(dropped, [], 'told at the flush, not per sample');
  s.flush();
  assert.equal(dropped, [{ id: 'a1', count: 15, reason: 'pending-full' }]);
  assert.ok(notices.some((l) => /a1: 15 sample\(s\) dropped/.test(l)), notices.join('\n'));
  assert.equal(written, [], 'no seqs to tell');
  const h = agentHistory(s, 'a1', { from: T0, to: T0 + H, points: 1000 }, false);
  assert.equal(h.points.map((p) => p.cpuPercent), range(15, 25), 'the newest kept');
  s.add('a1', 5, T0 + 25 * 5000, metrics(25));
  s.flush();
  assert.is(dropped.length, 1);
  s.close();
});

test('a flush that fails acknowledges nothing; the samples wait and are acknowledged once written', () => {
  const dir = tempDir('hw-hist-');
  const c = clock(T0 + H);
  const { s, written } = acking(dir, c, { openFiles: 1 });
  const file = join(dir, 'a1.hws');
  s.add('a1', 5, T0 + 5000, metrics(1), undefined, undefined, false, 1);
  s.add('a2', 5, T0 + 5000, metrics(1)); // a1's file is closed to stay under openFiles
  renameSync(file, `${file}.away`);
  mkdirSync(file); // reopening it fails
  s.flush();
  assert.ok(s.counters.failedWrites >= 1);
  assert.equal(written, []);
  assert.is(s.pendingSamples(), 1);
  rmdirSync(file);
  renameSync(`${file}.away`, file);
  assert.is(s.add('a1', 5, T0 + 10_000, metrics(2), undefined, undefined, false, 2), 'taken');
  s.flush();
  assert.equal(sorted(written), [1, 2]);
  assert.equal(agentHistory(s, 'a1', { from: T0, to: T0 + M, points: 100 }, false).points.map((p) => p.cpuPercent), [1, 2]);
  s.close();
});

test('a bad time is ignored', () => {
  const dir = tempDir('hw-hist-');
  const s = new HistoryStore({ dir, timer: false });
  assert.is(s.add('a1', 5, NaN, metrics(1), undefined, undefined, false, 1), 'ignored');
  assert.is(s.add('a1', 5, -1, metrics(1)), 'ignored');
  s.close();
});

test.run();
