// The agent's rule evaluator: fires after `for` of samples all past the threshold, resolves after
// `clear_for` all back past `clear`; a value hovering at the line does not flap; a gap restarts the
// window; per-mount series with labels; critical, repeat; a reload keeps or resolves what fires.
// The CPU rule from the flags keeps the behaviour (and types) of the CPU alert it replaces.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CPU_HYSTERESIS, alertType, cpuRuleFromFlags, type Rule } from '../../common/rules/rule.ts';
import { RuleEvaluator, type RuleDecision, type RuleInputs } from '../../common/agent/rule-eval.ts';

const test = suite('agent/rule-eval');

function cpuEval(threshold: number, forS: number): RuleEvaluator {
  return new RuleEvaluator({ intervalMs: () => 1000, rules: [cpuRuleFromFlags(threshold, forS)] });
}

/** Feeds cpu samples, one a second; returns [sample index, type, value] of each decision. */
function feedCpu(e: RuleEvaluator, samples: (number | null)[], start = 0): [number, string, number][] {
  const out: [number, string, number][] = [];
  samples.forEach((s, i) => {
    for (const d of e.push({ at: (start + i) * 1000, cpu: s })) out.push([i, alertType(d.rule, d.state), d.value]);
  });
  return out;
}

test('CPU_HIGH once `for` of samples are all above; staying high does not repeat', () => {
  const e = cpuEval(80, 3);
  assert.equal(feedCpu(e, [90, 95]), []);
  assert.equal(feedCpu(e, [91]), [[0, 'CPU_HIGH', 92]]);
  assert.equal(feedCpu(e, [99, 99, 99, 99]), []);
});

test('one sample at the threshold prevents it; the value is the mean of the window', () => {
  const e = cpuEval(80, 3);
  assert.equal(feedCpu(e, [90, 80, 90, 90]), []);
  assert.equal(feedCpu(e, [85]).map((d) => d[1]), ['CPU_HIGH']);
  const f = cpuEval(50, 3);
  assert.equal(feedCpu(f, [10, 60, 70, 81]), [[3, 'CPU_HIGH', 70.3]]);
  assert.equal(feedCpu(f, [40, 30, 20]), [[2, 'CPU_NORMAL', 30]]);
});

test('hovering 79-81 around 80 after a high does not flap; resolving needs clear for clear_for', () => {
  const e = cpuEval(80, 3);
  assert.equal(feedCpu(e, [95, 95, 95]).map((d) => d[1]), ['CPU_HIGH']);
  const hover = Array.from({ length: 60 }, (_, i) => [79, 81, 80, 79.5, 80.5][i % 5]!);
  assert.equal(feedCpu(e, hover), []);
  assert.equal(feedCpu(e, [80 - CPU_HYSTERESIS, 80 - CPU_HYSTERESIS, 80 - CPU_HYSTERESIS]), []);
  assert.equal(feedCpu(e, [74, 70, 74.9]).map((d) => [d[0], d[1]]), [[2, 'CPU_NORMAL']]);
  assert.equal(feedCpu(e, [10, 10, 10, 10]), []);
  assert.equal(e.firing(), []);
});

test('a gap restarts the window, going up and coming down; without a high nothing resolves', () => {
  const e = cpuEval(80, 3);
  assert.equal(feedCpu(e, [90, 90, null, 90, 90]), []);
  assert.equal(feedCpu(e, [90]).map((d) => d[1]), ['CPU_HIGH']);
  assert.equal(feedCpu(e, [10, 10, null, 10, 10]), []);
  assert.equal(feedCpu(e, [10]).map((d) => d[1]), ['CPU_NORMAL']);
  assert.equal(feedCpu(cpuEval(80, 2), [1, 2, 3, 4, 5, 6]), []);
  // a round without the metric is not a gap
  const g = cpuEval(80, 2);
  g.push({ at: 0, cpu: 90 });
  g.push({ at: 1, memory: 10 });
  assert.is(g.push({ at: 2, cpu: 90 })[0]?.state, 'firing');
});

test('for: 0 fires on the first sample past; the window is in samples of the metric\'s interval', () => {
  assert.equal(feedCpu(cpuEval(50, 0), [51, 44.9]).map((d) => d[1]), ['CPU_HIGH', 'CPU_NORMAL']);
  const mem: Rule = { name: 'memory_high', metric: 'memory', op: 'above', threshold: 90, clear: 85, for: 120, clearFor: 60 };
  const e = new RuleEvaluator({ intervalMs: (m) => (m === 'cpu' ? 1000 : 30_000), rules: [mem] });
  const at = (i: number) => i * 30_000;
  const ds: RuleDecision[] = [];
  for (let i = 0; i < 4; i++) ds.push(...e.push({ at: at(i), memory: 95 }));
  assert.equal(ds.map((d) => [d.rule, d.state]), [['memory_high', 'firing']]);
  assert.equal(alertType('memory_high', 'firing'), 'MEMORY_HIGH');
  assert.equal(e.push({ at: at(4), memory: 80 }), []);
  assert.equal(e.push({ at: at(5), memory: 80 }).map((d) => alertType(d.rule, d.state)), ['MEMORY_HIGH_RESOLVED']);
});

test('below rules, critical severity and its escalation, repeat while firing', () => {
  const low: Rule = { name: 'procs_low', metric: 'processes', op: 'below', threshold: 10, clear: 12, for: 0, clearFor: 0 };
  const e = new RuleEvaluator({ intervalMs: () => 1000, rules: [low] });
  assert.is(e.push({ at: 0, processes: 9 })[0]?.state, 'firing');
  assert.equal(e.push({ at: 1000, processes: 11 }), []);
  assert.is(e.push({ at: 2000, processes: 13 })[0]?.state, 'resolved');

  const disk: Rule = { name: 'disk_full', metric: 'disk', op: 'above', threshold: 90, critical: 95, clear: 85, for: 2, clearFor: 2, repeat: 10 };
  const d = new RuleEvaluator({ intervalMs: () => 1000, rules: [disk] });
  const run = (vals: number[], from: number) => vals.flatMap((v, i) => d.push({ at: (from + i) * 1000, disk: v }));
  assert.equal(run([92, 92], 0).map((x) => [x.state, x.severity, x.threshold]), [['firing', 'warning', 90]]);
  assert.equal(run([96, 97], 2).map((x) => [x.state, x.severity, x.again, x.threshold]), [['firing', 'critical', 'critical', 95]]);
  const more = run(Array.from({ length: 12 }, () => 97), 4);
  assert.equal(more.map((x) => x.again), ['repeat']);
  assert.is(more[0]!.at, 13_000);
});

test('per mount: one series per mount with its label, excluded types and mounts left out', () => {
  const rule: Rule = { name: 'disk_full', metric: 'disk', op: 'above', threshold: 90, clear: 85, for: 0, clearFor: 0, per: 'mount', excludeFstypes: ['tmpfs'], only: ['/', '/data*'] };
  const e = new RuleEvaluator({ intervalMs: () => 1000, rules: [rule] });
  const mounts = (root: number, data: number): RuleInputs['mounts'] => [
    { mount: '/', type: 'ext4', percent: root }, { mount: '/data', type: 'xfs', percent: data },
    { mount: '/run', type: 'tmpfs', percent: 99 }, { mount: '/boot', type: 'ext4', percent: 99 },
  ];
  assert.equal(e.push({ at: 0, mounts: mounts(50, 95) }).map((d) => [d.state, d.labels]), [['firing', { mount: '/data' }]]);
  assert.equal(e.push({ at: 1, mounts: mounts(95, 95) }).map((d) => [d.state, d.labels]), [['firing', { mount: '/' }]]);
  assert.equal(e.push({ at: 2, mounts: mounts(95, 10) }).map((d) => [d.state, d.labels]), [['resolved', { mount: '/data' }]]);
  assert.equal(e.firing(), [{ rule: 'disk_full', labels: { mount: '/' }, severity: 'warning' }]);
});

test('new rules: a kept rule keeps firing and is judged by its new threshold; a removed one resolves', () => {
  const mem = (above: number): Rule => ({ name: 'memory_high', metric: 'memory', op: 'above', threshold: above, clear: above - 5, for: 0, clearFor: 2 });
  const e = new RuleEvaluator({ intervalMs: () => 1000, rules: [mem(10), cpuRuleFromFlags(80, 1)] });
  assert.is(e.push({ at: 0, memory: 40, cpu: 99 }).length, 2);
  assert.equal(e.setRules([mem(10)], 1), [{ rule: 'cpu_high', state: 'resolved', severity: 'warning', value: 99, threshold: 80, labels: {}, at: 1 }]);
  assert.equal(e.setRules([mem(90)], 2), []);
  assert.equal(e.push({ at: 3, memory: 40 }), []);
  assert.equal(e.push({ at: 4, memory: 40 }).map((d) => [d.rule, d.state, d.threshold]), [['memory_high', 'resolved', 90]]);
});

test.run();
