// Which rule line a fleet meter is judged against (web/rule-limits.ts): the lowest `above` threshold of
// the metric's rules, for disk only the rules that judge that mount; the warning band below it.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { RuleView } from '../../common/api/types.ts';
import { levelOf, limitOf, limitText } from '../../web/rule-limits.ts';

const rule = (name: string, metric: RuleView['metric'], threshold: number, more: Partial<RuleView> = {}): RuleView => ({
  name, metric, op: 'above', threshold, clear: threshold - 5, for: 30, clearFor: 30, firing: [], ...more,
});

test('the lowest above threshold of the metric; warning from 80% of it; alert at and past it', () => {
  const rules = [rule('cpu_high', 'cpu', 90), rule('cpu_busy', 'cpu', 75), rule('mem_low', 'memory', 10, { op: 'below' }), rule('memory_high', 'memory', 85)];
  const cpu = limitOf(rules, 'cpu');
  assert.equal(cpu, { rule: 'cpu_busy', threshold: 75, warnFrom: 60 });
  assert.is(levelOf(59.9, cpu), 'ok');
  assert.is(levelOf(60, cpu), 'warn');
  assert.is(levelOf(75, cpu), 'alert');
  assert.is(levelOf(null, cpu), 'none');
  assert.equal(limitOf(rules, 'memory')?.rule, 'memory_high', 'a below rule is not a ceiling');
  assert.is(limitText(cpu, rules, 'cpu'), 'cpu_busy fires at 75%; warning from 60%');
});

test('disk: per-mount rules by their filters, a root rule only for the root', () => {
  const rules = [rule('disk_full', 'disk', 90, { per: 'mount', excludeFstypes: ['tmpfs'], only: ['/var*', '/'] }), rule('root_full', 'disk', 95)];
  assert.is(limitOf(rules, 'disk', { mount: '/var/lib', type: 'ext4', root: false })?.rule, 'disk_full');
  assert.is(limitOf(rules, 'disk', { mount: '/var/run', type: 'tmpfs', root: false }), null);
  assert.is(limitOf(rules, 'disk', { mount: '/srv', type: 'ext4', root: false }), null);
  assert.is(limitOf(rules, 'disk', { mount: '/', type: 'ext4', root: true })?.rule, 'disk_full', 'the lower of the two');
});

test('no rule: no colour, and the tooltip says why', () => {
  assert.is(levelOf(99, limitOf([], 'memory')), 'none');
  assert.is(limitText(null, [], 'memory'), 'no memory rule for this host');
  assert.match(limitText(null, null, 'cpu'), /the agent's own --cpu-threshold applies/);
  assert.is(limitText(null, undefined, 'cpu'), '', 'not loaded yet');
});

test.run();
