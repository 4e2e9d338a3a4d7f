// The line a meter is judged against (common/rules/meter-limits.ts): the lowest `above` threshold of
// the metric's rules; for disk only the rules that judge that mount; per agent, every mount it reports.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { agentLimits, lowestAbove } from '../../common/rules/meter-limits.ts';
import type { Rule } from '../../common/rules/rule.ts';

const rule = (name: string, metric: Rule['metric'], threshold: number, more: Partial<Rule> = {}): Rule => ({
  name, metric, op: 'above', threshold, clear: threshold - 5, for: 30, clearFor: 30, ...more,
});

test('the lowest above threshold of the metric; a below rule is not a ceiling', () => {
  const rules = [rule('cpu_high', 'cpu', 90), rule('cpu_busy', 'cpu', 75), rule('mem_low', 'memory', 10, { op: 'below' }), rule('memory_high', 'memory', 85)];
  assert.equal(lowestAbove(rules, 'cpu'), { rule: 'cpu_busy', threshold: 75 });
  assert.equal(lowestAbove(rules, 'memory'), { rule: 'memory_high', threshold: 85 });
  assert.is(lowestAbove(rules, 'disk'), null);
});

test('disk: per-mount rules by their filters, a root rule only for the root', () => {
  const rules = [rule('disk_full', 'disk', 90, { per: 'mount', excludeFstypes: ['tmpfs'], only: ['/var*', '/'] }), rule('root_full', 'disk', 95)];
  assert.is(lowestAbove(rules, 'disk', { mount: '/var/lib', type: 'ext4' })?.rule, 'disk_full');
  assert.is(lowestAbove(rules, 'disk', { mount: '/var/run', type: 'tmpfs' }), null);
  assert.is(lowestAbove(rules, 'disk', { mount: '/srv', type: 'ext4' }), null);
  assert.is(lowestAbove(rules, 'disk', { mount: '/', type: 'ext4' })?.rule, 'disk_full', 'the lower of the two');
  assert.is(lowestAbove([rule('root_full', 'disk', 95)], 'disk', { mount: 'C:\\' })?.rule, 'root_full', 'a drive is a root');
});

test('an agent: CPU, memory and each mount it reports; its root when it reports none; null without rules', () => {
  const rules = [rule('cpu_high', 'cpu', 80), rule('disk_full', 'disk', 90, { per: 'mount', excludeFstypes: ['tmpfs'] })];
  assert.equal(agentLimits(rules, { platform: 'linux', mounts: [{ mount: '/', type: 'ext4' }, { mount: '/run', type: 'tmpfs' }] }), {
    cpu: { rule: 'cpu_high', threshold: 80 }, memory: null, disk: { '/': { rule: 'disk_full', threshold: 90 }, '/run': null },
  });
  assert.equal(agentLimits(rules, { platform: 'win32', mounts: [] })?.disk, { 'C:': { rule: 'disk_full', threshold: 90 } });
  assert.equal(agentLimits(rules, { platform: 'linux', mounts: [] })?.disk, { '/': { rule: 'disk_full', threshold: 90 } });
  assert.is(agentLimits(null, { platform: 'linux', mounts: [] }), null);
});

test.run();
