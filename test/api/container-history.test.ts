// GET /api/agents/:agent/containers/history's two halves: the query's validator (a span as a time
// or a duration, a container's name; anything else BAD_ARGS) and the series built from a real
// container log (aligned on the records' times, null where a record did not name a container,
// the busiest first, `other` summed, "not reported" when there are no records).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { containerHistoryQuery } from '../../common/api/validate.ts';
import { CONTAINER_SERIES_MAX, containerHistoryJson } from '../../common/api/container-history.ts';
import { ContainerLog } from '../../common/history/container-log.ts';
import type { ContainerUsageRow } from '../../common/wire/container-usage.ts';
import { cleanTempDirs, codeOf, tempDir } from '../harness.helper.ts';

const test = suite('api/container-history');
test.after(() => cleanTempDirs());

const NOW = Date.UTC(2026, 11, 6, 12);
const M = 60_000;
const q = (s: string) => containerHistoryQuery(new URLSearchParams(s), NOW);
const row = (name: string, cpu: number | null, o: Partial<ContainerUsageRow> = {}): ContainerUsageRow => ({
  name, state: 'running', health: null, cpuPercent: cpu, memUsedBytes: 100, memLimitBytes: null, netRxRate: null, netTxRate: null, blockReadRate: null, blockWriteRate: null, ...o,
});

test('the span: default the last hour; since as a duration, ms or ISO; to; a container', () => {
  assert.equal(q(''), { from: NOW - 3600_000, to: NOW });
  assert.equal(q('since=30m'), { from: NOW - 30 * M, to: NOW });
  assert.equal(q('since=2d&to=' + (NOW - M)), { from: NOW - M - 2 * 86400_000, to: NOW - M });
  assert.equal(q(`since=${NOW - 5 * M}&container=web-1`), { from: NOW - 5 * M, to: NOW, container: 'web-1' });
  assert.equal(q(`from=${new Date(NOW - M).toISOString()}`), { from: NOW - M, to: NOW });
});

test('bad input: BAD_ARGS', () => {
  for (const s of ['since=yesterday', 'since=1h&from=2', `since=${NOW + 1}`, 'to=-5', 'container=../etc', 'container=' + 'x'.repeat(129), 'points=5', 'since=-1h']) {
    assert.is(codeOf(() => q(s)), 'BAD_ARGS', s);
  }
});

test('series on the records\' times, null where not named; busiest first; other summed; one container asked', () => {
  const log = new ContainerLog({ dir: tempDir('hw-ch-') });
  const T = NOW - 10 * M;
  log.write('a1', T, { total: 3, rows: [row('busy', 99), row('idle', 1, { health: 'healthy' })], other: { count: 1, cpuPercent: 2, memUsedBytes: 5, netRxRate: null, netTxRate: null, blockReadRate: null, blockWriteRate: null } });
  log.write('a1', T + M, { total: 2, rows: [row('busy', 98)] });
  const agent = { id: 'a1', name: 'web1' };
  const h = containerHistoryJson(log, agent, q('since=1h'));
  assert.is(h.reported, true);
  assert.equal(h.times, [T, T + M]);
  assert.equal(h.total, [3, 2]);
  assert.equal(h.containers.map((s) => s.name), ['busy', 'idle']);
  assert.equal(h.containers[0]!.cpuPercent, [99, 98]);
  assert.equal(h.containers[1]!.cpuPercent, [1, null], 'not named in the second record: null, not 0');
  assert.equal(h.containers[1]!.health, ['healthy', null]);
  assert.equal(h.other?.count, [1, 0]);
  assert.equal(h.other?.cpuPercent, [2, null]);
  const one = containerHistoryJson(log, agent, q('since=1h&container=idle'));
  assert.equal(one.containers.map((s) => s.name), ['idle']);
  assert.is(one.other, null);
  const none = containerHistoryJson(log, { id: 'old-agent', name: 'old' }, q('since=1h'));
  assert.equal([none.reported, none.times, none.containers, none.other], [false, [], [], null]);
});

test('at most CONTAINER_SERIES_MAX series, the rest counted', () => {
  const log = new ContainerLog({ dir: tempDir('hw-ch-') });
  for (let i = 0; i < 3; i++) {
    log.write('a1', NOW - (i + 1) * M, { total: 50, rows: Array.from({ length: 50 }, (_, k) => row(`c${i}-${k}`, k)) });
  }
  const h = containerHistoryJson(log, { id: 'a1', name: 'a' }, q('since=1h'));
  assert.is(h.containers.length, CONTAINER_SERIES_MAX);
  assert.is(h.moreContainers, 150 - CONTAINER_SERIES_MAX);
  assert.is(h.containers[0]!.cpuPercent.find((v) => v !== null), 49);
});

test('two days of records: the whole span in periods of whole minutes (stepMs), a stop still seen', () => {
  const log = new ContainerLog({ dir: tempDir('hw-ch-') });
  const n = 2 * 1440;
  for (let i = 0; i < n; i++) log.write('a1', NOW - (n - i) * M, { total: 1, rows: [row('web', 10, i === 100 ? { state: 'exited' } : {})] });
  const h = containerHistoryJson(log, { id: 'a1', name: 'a' }, q('since=3d'));
  assert.is(h.stepMs, 3 * M, 'ceil(2879 / 1439) minutes');
  assert.ok(h.times.length <= 1440, `${h.times.length} points`);
  assert.is(h.times[0]! - 2 * M, NOW - n * M, 'from the first record on, not the newest day only');
  assert.is(h.times[h.times.length - 1], NOW - M);
  assert.is(h.truncated, false);
  assert.is(h.containers[0]!.state.filter((s) => s === 'exited').length, 1);
  assert.equal(containerHistoryJson(log, { id: 'a1', name: 'a' }, q('since=1h')).stepMs, null, 'an hour: the records as they are');
});

test.run();
