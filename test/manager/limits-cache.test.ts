// The fleet's meter lines on the manager (common/manager/limits-cache.ts): worked out once per rules
// change, again for an agent only when what picks its rules or its mounts changes; each distinct set
// named once; a forgotten agent forgotten here too.

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseConfigText } from '../../common/config/file.ts';
import { finishRules, RULE_READERS, type RulesConfig } from '../../common/rules/config.ts';
import { rulesFor } from '../../common/rules/resolve.ts';
import { LimitsCache, type LimitsAgent } from '../../common/manager/limits-cache.ts';

const test = suite('manager/limits-cache');

const config = (text: string) => parseConfigText(text, 'h.yaml', [], RULE_READERS, finishRules).sections.rules as RulesConfig;

const base = config([
  'rules:',
  '  cpu_high: { metric: cpu, above: 90 }',
  '  memory_high: { metric: memory, above: 85 }',
  '  disk_full: { metric: disk, above: 90, per: mount }',
  '  web: { metric: service, match: nginx.service }',
  'agents:',
  '  "hot": { cpu_high: { above: 10 } }',
  '',
].join('\n'));

const agent = (id: string, more: Partial<LimitsAgent> = {}): LimitsAgent => ({ id, name: id, address: '10.0.0.1', labels: {}, platform: 'linux', mounts: [{ mount: '/', type: 'ext4', size: 1, used: 1, percent: 50 }], ...more });

function cache(cfg: () => RulesConfig | undefined) {
  const asked: string[] = [];
  const c = new LimitsCache({ config: cfg, rulesOf: (rec) => {
    asked.push(rec.id);
    const set = cfg();
    return set ? rulesFor(set, rec).rules : null;
  } });
  return { c, asked };
}

test('each distinct set once, agents pointing at it; every rule\'s metric by name', () => {
  const { c } = cache(() => base);
  const f = c.fleet([agent('a'), agent('b'), agent('hot')]);
  assert.is(f.sets.length, 2);
  assert.is(f.agents.a, f.agents.b);
  assert.is.not(f.agents.a, f.agents.hot);
  assert.equal(f.sets[f.agents.a!], { cpu: { rule: 'cpu_high', threshold: 90 }, memory: { rule: 'memory_high', threshold: 85 }, disk: { '/': { rule: 'disk_full', threshold: 90 } } });
  assert.equal(f.sets[f.agents.hot!]!.cpu, { rule: 'cpu_high', threshold: 10 });
  assert.equal(f.metrics, { cpu_high: 'cpu', memory_high: 'memory', disk_full: 'disk', web: 'service' });
});

test('worked out once per rules change: asking again costs no agent its rules', () => {
  let cfg: RulesConfig | undefined = base;
  const { c, asked } = cache(() => cfg);
  const fleet = [agent('a'), agent('b')];
  c.fleet(fleet);
  assert.equal(asked, ['a', 'b']);
  for (let i = 0; i < 5; i++) c.fleet(fleet);
  assert.equal(asked, ['a', 'b'], 'kept between requests');
  cfg = config('rules:\n  cpu_high: { metric: cpu, above: 70 }\n');
  const f = c.fleet(fleet);
  assert.equal(asked, ['a', 'b', 'a', 'b'], 'a reload works them out again');
  assert.equal(f.sets[f.agents.a!], { cpu: { rule: 'cpu_high', threshold: 70 }, memory: null, disk: { '/': null } });
  cfg = undefined;
  assert.equal(c.fleet(fleet).sets, [null], 'no rules: null, the agent\'s flags apply');
});

test('an agent whose mounts, name or labels change is worked out again, alone', () => {
  const { c, asked } = cache(() => base);
  c.fleet([agent('a'), agent('b')]);
  asked.length = 0;
  const f = c.fleet([agent('a', { mounts: [{ mount: '/', type: 'ext4', size: 1, used: 1, percent: 50 }, { mount: '/srv', type: 'xfs', size: 1, used: 1, percent: 5 }] }), agent('b')]);
  assert.equal(asked, ['a']);
  assert.equal(Object.keys(f.sets[f.agents.a!]!.disk), ['/', '/srv']);
  asked.length = 0;
  const g = c.fleet([agent('a', { name: 'hot' }), agent('b', { labels: { role: 'db' } })]);
  assert.equal(asked, ['a', 'b']);
  assert.is(g.sets[g.agents.a!]!.cpu?.threshold, 10, 'renamed into the override');
});

test('an agent no longer in the fleet is forgotten', () => {
  const { c, asked } = cache(() => base);
  c.fleet([agent('a'), agent('b')]);
  const f = c.fleet([agent('b')]);
  assert.equal(Object.keys(f.agents), ['b']);
  asked.length = 0;
  c.fleet([agent('a'), agent('b')]);
  assert.equal(asked, ['a'], 'worked out again when it comes back');
});

test.run();
