// The top processes on one sample a period: by CPU and by memory, cut to the report's bounds,
// taken again only once the period has passed on the samples' own clock; a failing sampler costs
// the lists, never the sample.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { COST_FACTOR, TopTaker } from '../../common/agent/top-taker.ts';
import type { ProcessRow, ProcessSort } from '../../common/collect/types.ts';
import { PROCESS_COMMAND_MAX } from '../../common/wire/processes.ts';

const test = suite('agent/top-taker');

const row = (pid: number, over: Partial<ProcessRow> = {}): ProcessRow => ({
  pid, name: `p${pid}`, user: 'root', command: `/bin/p${pid}`, cpuPercent: pid, memBytes: 1000 - pid, ioBytesPerSec: null, state: 'S', startedAt: null, ...over,
});

function taker(o: { fail?: boolean; n?: number } = {}) {
  const asked: { n: number; sort: ProcessSort }[] = [];
  const logs: string[] = [];
  const t = new TopTaker({
    everyMs: 60_000, n: o.n ?? 2, log: (l) => logs.push(l),
    top: async (q) => {
      asked.push(q);
      if (o.fail) throw new Error('no /proc');
      return { at: 0, total: 3, processes: [row(3, { command: 'x'.repeat(500) }), row(2), row(1)] };
    },
  });
  return { t, asked, logs };
}

test('both lists on the first sample, then once a period', async () => {
  const { t, asked } = taker();
  const first = await t.take(1_000_000);
  assert.equal(asked, [{ n: 2, sort: 'cpu' }, { n: 2, sort: 'mem', maxAgeMs: 1000 }], 'the memory list from the same reading as the CPU one');
  assert.equal(first?.byCpu.map((r) => r.pid), [3, 2]);
  assert.is(first?.byCpu[0]?.command?.length, PROCESS_COMMAND_MAX);
  assert.is(await t.take(1_005_000), undefined);
  assert.is(await t.take(1_059_000), undefined);
  assert.ok(await t.take(1_059_600), 'half a second early still counts (a late timer)');
  assert.is(asked.length, 4);
});

test('a reading that takes long stretches the period to COST_FACTOR times its time, said once', async () => {
  let now = 0;
  const logs: string[] = [];
  let asked = 0;
  const t = new TopTaker({
    everyMs: 60_000, n: 2, log: (l) => logs.push(l), clock: () => now,
    top: async () => {
      asked++;
      now += 200; // 30,000 processes: 200 ms a reading
      return { at: 0, total: 30_000, processes: [row(1)] };
    },
  });
  assert.ok(await t.take(0));
  assert.is(await t.take(60_000), undefined, `not after a minute: ${200 * 2 * COST_FACTOR / 1000} s`);
  assert.ok(await t.take(200 * 2 * COST_FACTOR));
  assert.is(asked, 4);
  assert.is(logs.length, 1);
  assert.match(logs[0]!, /30000 processes took 400 ms: the top processes are kept every 200 s instead of every 60 s/);
});

test('n is held to 1..50', async () => {
  const { t, asked } = taker({ n: 500 });
  await t.take(0);
  assert.is(asked[0]?.n, 50);
});

test('a failing sampler: no lists, said once', async () => {
  const { t, logs } = taker({ fail: true });
  assert.is(await t.take(0), undefined);
  assert.is(await t.take(60_000), undefined);
  assert.is(logs.length, 1);
  assert.match(logs[0]!, /no \/proc/);
});

test.run();
