import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { alertCause, PRE_READING_MIN_MS } from '../../common/agent/alert-cause.ts';
import { RuleEvaluator } from '../../common/agent/rule-eval.ts';
import { topArgs } from '../../common/agent/command-handler.ts';
import type { ProcessSort, TopProcesses } from '../../common/collect/types.ts';
import { codeOf } from '../harness.helper.ts';

const test = suite('agent/alert-cause');

const evaluator = () => new RuleEvaluator({
  intervalMs: () => 1000,
  rules: [
    { name: 'cpu_high', metric: 'cpu', op: 'above', threshold: 90, clear: 85, for: 1, clearFor: 1 },
    { name: 'mem_high', metric: 'memory', op: 'above', threshold: 80, clear: 75, for: 1, clearFor: 1 },
    { name: 'disk_full', metric: 'disk', op: 'above', threshold: 90, clear: 85, for: 1, clearFor: 1 },
  ],
});

function lister() {
  const calls: ProcessSort[] = [];
  const ages: (number | undefined)[] = [];
  const row = (pid: number) => ({ pid, name: `p${pid}`, user: 'root', command: 'secret --token x', cpuPercent: 50, memBytes: 1024, ioBytesPerSec: null, state: 'R', startedAt: 1 });
  return {
    calls,
    ages,
    fail: false,
    topProcessesNow(o: { n: number; sort: ProcessSort; maxAgeMs?: number }): TopProcesses {
      calls.push(o.sort);
      if (o.maxAgeMs !== undefined) ages.push(o.maxAgeMs);
      if (this.fail) throw new Error('/proc gone');
      return { at: 1, total: 9, processes: [1, 2, 3, 4].slice(0, o.n).map(row) };
    },
  };
}

test('cpu by CPU, memory by memory, at most 3, only pid, name, CPU and memory (no command line); other rules: none', () => {
  const l = lister();
  const c = alertCause(l, evaluator());
  assert.equal(c.cause!('cpu_high'), [1, 2, 3].map((pid) => ({ pid, name: `p${pid}`, cpuPercent: 50, memBytes: 1024 })));
  c.cause!('mem_high');
  assert.equal(l.calls, ['cpu', 'mem']);
  assert.is(c.cause!('disk_full'), undefined);
  assert.is(c.cause!('no_such_rule'), undefined);
});

test('a failed read gives no cause, never an exception', () => {
  const l = lister();
  l.fail = true;
  const c = alertCause(l, evaluator());
  assert.is(c.cause!('cpu_high'), undefined);
  c.watchCpu!(95);
});

test('a reading is taken when the CPU first goes above the lowest cpu threshold, not on every high tick; one younger than PRE_READING_MIN_MS stands for it', () => {
  const l = lister();
  const c = alertCause(l, evaluator());
  c.watchCpu!(50);
  c.watchCpu!(95);
  c.watchCpu!(97);
  c.watchCpu!(null);
  c.watchCpu!(91);
  assert.equal(l.calls, ['cpu', 'cpu']);
  assert.equal(l.ages, [PRE_READING_MIN_MS, PRE_READING_MIN_MS]);
});

test('without a lister (Windows, other systems): no cause at all', () => {
  assert.equal(alertCause({}, evaluator()), {});
});

test('the agent checks top\'s arguments itself', () => {
  assert.equal(topArgs({}), { n: 20, sort: 'cpu' });
  assert.equal(topArgs({ sort: 'io', n: 100 }), { n: 100, sort: 'io' });
  for (const bad of [{ sort: 'disk' }, { n: 0 }, { n: 101 }, { n: '5' }, { n: 1.5 }]) assert.is(codeOf(() => topArgs(bad)), 'BAD_ARGS', JSON.stringify(bad));
});

test.run();
