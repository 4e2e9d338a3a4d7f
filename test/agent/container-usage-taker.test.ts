// The containers' usage a sample carries for the history: nothing until the engine was read (not
// reported, never an empty list), one record a period, CPU as the period's mean, rates from the
// counters' difference (null on the first record and after a counter reset), the busiest named
// and the rest summed into `other` with their count, and the watch's lists handed over.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ContainerUsageTaker } from '../../common/agent/container-usage-taker.ts';
import { ContainerWatch } from '../../common/agent/container-watch.ts';
import type { ContainerRow, ContainersResult } from '../../common/collect/containers/types.ts';
import { parseAgentMessage } from '../../common/wire/messages.ts';

const METRICS = { cpuPercent: 1, memPercent: 2, diskPercent: 3, netRxBytes: 4, netTxBytes: 5, uptimeSeconds: 6, processCount: 7 };

const test = suite('agent/container-usage-taker');
const tick = () => new Promise((r) => setImmediate(r));

const row = (name: string, o: Partial<ContainerRow> = {}): ContainerRow => ({
  id: name, name, image: 'bb:local', state: 'running', status: 'Up', health: null, restartCount: 0, startedAt: null, cpuPercent: 10,
  memUsedBytes: 1000, memLimitBytes: 4000, netRxBytes: 0, netTxBytes: 0, blockReadBytes: 0, blockWriteBytes: 0, ...o,
});

test('the counters read once a period: the lists just before a record ask for them, a report\'s list keeps the last ones', () => {
  const t = new ContainerUsageTaker({ everyMs: 60_000, n: 20 });
  assert.ok(t.wantsCounters(0, 10_000), 'before the first record');
  t.observe([row('web', { netRxBytes: 1000 })], 1, 0);
  t.take(0);
  assert.not.ok(t.wantsCounters(10_000, 10_000), 'early in the period');
  const noCounters = { netRxBytes: null, netTxBytes: null, blockReadBytes: null, blockWriteBytes: null };
  t.observe([row('web', { cpuPercent: 30, ...noCounters })], 1, 10_000);
  assert.ok(t.wantsCounters(50_000, 10_000), 'within a list of the record');
  t.observe([row('web', { cpuPercent: 30, netRxBytes: 51_000 })], 1, 50_000);
  t.observe([row('web', { cpuPercent: 30, ...noCounters })], 1, 55_000);
  const r = t.take(60_000)!;
  assert.is(r.rows[0]!.netRxRate, 1000, '50,000 bytes over the 50 s between the two readings with counters');
  assert.is(r.rows[0]!.cpuPercent, 30);
});

test('nothing before the engine was read, and nothing after it failed: not reported', () => {
  const t = new ContainerUsageTaker({ everyMs: 60_000, n: 20 });
  assert.is(t.take(0), undefined);
  t.observe([row('a')], 1, 0);
  t.forget();
  assert.is(t.take(1000), undefined);
});

test('an engine with no containers: a record of none (not "not reported")', () => {
  const t = new ContainerUsageTaker({ everyMs: 60_000, n: 20 });
  t.observe([], 0, 0);
  assert.equal(t.take(0), { total: 0, rows: [] });
});

test('one record a period; CPU the mean of the readings, memory the newest, rates over the period', () => {
  const t = new ContainerUsageTaker({ everyMs: 60_000, n: 20 });
  t.observe([row('web', { cpuPercent: 50, netRxBytes: 1000, blockWriteBytes: 0 })], 1, 0);
  const first = t.take(0)!;
  assert.is(first.rows[0]!.cpuPercent, 50);
  assert.is(first.rows[0]!.netRxRate, null, 'no earlier reading: no rate, not 0');
  t.observe([row('web', { cpuPercent: 100, netRxBytes: 11_000, blockWriteBytes: 5000 })], 1, 10_000);
  assert.is(t.take(30_000), undefined, 'within the period');
  t.observe([row('web', { cpuPercent: 0, memUsedBytes: 3000, netRxBytes: 61_000, blockWriteBytes: 30_000, health: 'unhealthy' })], 1, 60_000);
  const r = t.take(60_000)!.rows[0]!;
  assert.is(r.cpuPercent, 50, 'mean of 100 and 0');
  assert.is(r.memUsedBytes, 3000);
  assert.is(r.netRxRate, 1000, '60,000 bytes over 60 s');
  assert.is(r.blockWriteRate, 500);
  assert.is(r.health, 'unhealthy');
  t.observe([row('web', { netRxBytes: 10 })], 1, 70_000); // restarted: its counters started again
  assert.is(t.take(120_000)!.rows[0]!.netRxRate, null);
});

test('a period without a new list repeats what the last record said (not nulls)', () => {
  const t = new ContainerUsageTaker({ everyMs: 10_000, n: 20 });
  t.observe([row('web', { cpuPercent: 80, netRxBytes: 0 })], 1, 0);
  t.take(0);
  t.observe([row('web', { cpuPercent: 90, netRxBytes: 10_000 })], 1, 10_000);
  const second = t.take(10_000)!.rows[0]!;
  assert.equal([second.cpuPercent, second.netRxRate], [90, 1000]);
  assert.equal(t.take(20_000)!.rows[0], second, 'no list since: the same values again');
});

test('a stopped container keeps its state with nulls; a gone one is forgotten', () => {
  const t = new ContainerUsageTaker({ everyMs: 60_000, n: 20 });
  t.observe([row('web'), row('old', { state: 'exited', cpuPercent: null, memUsedBytes: null, netRxBytes: null })], 2, 0);
  const r = t.take(0)!;
  assert.equal(r.rows.map((x) => [x.name, x.state, x.cpuPercent]), [['web', 'running', 10], ['old', 'exited', null]]);
  t.observe([row('web')], 1, 60_000);
  assert.equal(t.take(60_000)!.rows.map((x) => x.name), ['web']);
});

test('the busiest n named (running first), the rest summed into other and counted, the unlisted too', () => {
  const t = new ContainerUsageTaker({ everyMs: 60_000, n: 2 });
  t.observe([
    row('idle', { cpuPercent: 1 }), row('busy', { cpuPercent: 99 }), row('mid', { cpuPercent: 20, memUsedBytes: 7 }),
    row('stopped', { state: 'exited', cpuPercent: null, memUsedBytes: null }), row('low', { cpuPercent: 2, memUsedBytes: 3 }),
  ], 8, 0);
  const r = t.take(0)!;
  assert.equal(r.rows.map((x) => x.name), ['busy', 'mid']);
  assert.is(r.total, 8);
  assert.equal(r.other, { count: 6, cpuPercent: 3, memUsedBytes: 1003, netRxRate: null, netTxRate: null, blockReadRate: null, blockWriteRate: null });
});

test('what the manager would refuse is cut or null, so a record never costs the report', () => {
  const t = new ContainerUsageTaker({ everyMs: 60_000, n: 20 });
  t.observe([row('w'.repeat(200), { state: 's'.repeat(200), health: 'h'.repeat(50), cpuPercent: -1, memUsedBytes: NaN, memLimitBytes: Infinity })], 1, 0);
  const r = t.take(0)!;
  assert.is(parseAgentMessage(JSON.stringify({ type: 'report', at: 1, metrics: METRICS, containerUsage: r })).type, 'report');
  assert.equal([r.rows[0]!.name.length, r.rows[0]!.state.length, r.rows[0]!.health!.length], [128, 20, 20]);
  assert.equal([r.rows[0]!.cpuPercent, r.rows[0]!.memUsedBytes, r.rows[0]!.memLimitBytes], [null, null, null]);
});

test('n is held to 1..50', () => {
  const rows = Array.from({ length: 60 }, (_, i) => row(`c${i}`));
  const t = new ContainerUsageTaker({ everyMs: 60_000, n: 500 });
  t.observe(rows, 60, 0);
  assert.is(t.take(0)!.rows.length, 50);
});

test('the watch hands each list to the taker, and says when the engine failed', async () => {
  const seen: number[] = [];
  let fail = false;
  const res = (): ContainersResult => ({ engine: { socket: '/s', from: 'x' }, total: 3, notInspected: 0, cpuWindowMs: 500, containers: [row('a')] });
  let t = 0;
  const w = new ContainerWatch({
    engine: { list: async () => { if (fail) throw new Error('gone'); return res(); } }, everyMs: 10_000, now: () => t,
    sink: { observe: (_rows, total, at) => seen.push(total, at), forget: () => seen.push(-1) },
  });
  w.current();
  await tick();
  t = 10_000;
  fail = true;
  w.current();
  await tick();
  assert.equal(seen, [3, 0, -1]);
});

test.run();
