// `manager history <agent> --containers` as text: one line a container (mean and peak), `other`
// with its count, one line a record for one container, and the words for "not reported" and for
// a name no record has (never a table of zeros).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { containerHistoryText } from '../../common/cli/container-history.ts';
import type { ContainerHistory, ContainerHistorySeries } from '../../common/api/types.ts';

const test = suite('cli/container-history');
const T = Date.UTC(2026, 11, 6, 10, 0);
const M = 60_000;
const series = (name: string, cpu: (number | null)[], o: Partial<ContainerHistorySeries> = {}): ContainerHistorySeries => ({
  name, state: cpu.map((v) => (v === null ? null : 'running')), health: cpu.map(() => null), cpuPercent: cpu, memUsedBytes: cpu.map((v) => (v === null ? null : 1024 * 1024)),
  memLimitBytes: cpu.map(() => 64 * 1024 * 1024), netRxRate: cpu.map(() => 2048), netTxRate: cpu.map(() => null), blockReadRate: cpu.map(() => 0), blockWriteRate: cpu.map(() => 512), ...o,
});
const base = (o: Partial<ContainerHistory> = {}): ContainerHistory => ({
  agent: 'web1', agentId: 'a1', from: T - 10 * M, to: T, reported: true, times: [T - 2 * M, T - M], total: [5, 5],
  containers: [series('busy', [90, 100]), series('idle', [1, null])], moreContainers: 0,
  other: { count: [3, 3], cpuPercent: [2, 4], memUsedBytes: [10, 20], netRxRate: [null, null], netTxRate: [null, null], blockReadRate: [0, 0], blockWriteRate: [0, 0] },
  stepMs: null, truncated: false, ...o,
});

test('one line a container: newest state, CPU mean and peak, memory newest and peak, limit, rates; other with its count', () => {
  const lines = containerHistoryText(base()).split('\n');
  assert.match(lines[0]!, /^web1: 2 records from .* to .*; 5 containers at /);
  assert.equal(lines[1]!.split(/ {2,}/), ['NAME', 'STATE', 'HEALTH', 'CPU AVG', 'CPU MAX', 'MEM', 'MEM MAX', 'LIMIT', 'NET IN / OUT', 'DISK R / W']);
  assert.equal(lines[2]!.split(/ {2,}/), ['busy', 'running', '-', '95.0%', '100.0%', '1.0 MiB', '1.0 MiB', '64.0 MiB', '2.0 KiB/s / -', '0 B/s / 512 B/s']);
  assert.match(lines[3]!, /^idle\s+running\s+-\s+1\.0%\s+1\.0%/, 'a minute it was not named is left out of its mean, not counted as 0');
  assert.match(lines[4]!, /^other \(3 now, summed\)\s+3\.0%\s+4\.0%/);
});

test('one container: a line a record; a record that did not name it says so', () => {
  const h = base({ container: 'idle', containers: [series('idle', [1, null])], other: null });
  const lines = containerHistoryText(h).split('\n');
  assert.equal(lines[1]!.split(/ {2,}/).slice(0, 6), ['TIME', 'STATE', 'HEALTH', 'CPU', 'MEM', 'LIMIT']);
  assert.match(lines[2]!, /running\s+-\s+1\.0%\s+1\.0 MiB\s+64\.0 MiB/);
  assert.match(lines[3]!, /not named\s+-\s+-\s+-/);
  assert.match(containerHistoryText({ ...h, containers: [] }), /no container named idle in these records/);
});

test('one container recorded every 10 s: each record\'s time has its seconds (records a minute apart do not)', () => {
  const h = base({ container: 'busy', times: [T, T + 10_000, T + 20_000], total: [5, 5, 5], containers: [series('busy', [90, 95, 99])], other: null });
  const times = containerHistoryText(h).split('\n').slice(2).map((l) => l.split(/ {2,}/)[0]);
  assert.is(new Set(times).size, 3, times.join(' | '));
  assert.ok(times.every((t) => /\d\d:\d\d:\d\d /.test(t!)), times.join(' | '));
  const perMinute = containerHistoryText(base({ container: 'idle', containers: [series('idle', [1, null])], other: null })).split('\n')[2]!;
  assert.match(perMinute, /^\d{4}-\d\d-\d\d \d\d:\d\d [A-Z]/);
});

test('one record is "1 record"', () => {
  assert.match(containerHistoryText(base({ times: [T], total: [5], containers: [series('busy', [90])], other: null })), /^web1: 1 record from /);
});

test('not reported, a longer span, more containers than shown', () => {
  assert.match(containerHistoryText(base({ reported: false, times: [], total: [], containers: [], other: null })), /^containers not reported by web1 from .*--containers-every 0\)$/);
  const t = containerHistoryText(base({ truncated: true, moreContainers: 7, stepMs: 30 * M }));
  assert.match(t, /^web1: 2 periods of 30 min \(means; the state seen worst\) from .*\(the newest of a longer span\)/);
  assert.match(t, /7 more containers in these records not shown \(--container <name> for one\)$/);
});

test.run();
