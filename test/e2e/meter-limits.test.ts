// GET /api/limits against a real manager and real (driven) agents: what the fleet page's meters are
// coloured by, open to viewers as /api/rules is, refused without a session; each agent's own lines
// (an override's lower ones), worked out again after a reload; each distinct set named once.

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseConfigText } from '../../common/config/file.ts';
import { finishRules, RULE_READERS, type RulesConfig } from '../../common/rules/config.ts';
import type { FleetLimits } from '../../common/api/types.ts';
import { timed, waitFor } from '../harness.helper.ts';
import { cleanupAfterEach, drivenDeps, serveTest, testAgent } from './inproc.helper.ts';
import { getJson, sessionHeaders } from './session.helper.ts';

const test = suite('e2e/meter-limits');
const { agents, closers } = cleanupAfterEach(test);

const config = (lines: string[]) => parseConfigText([...lines, ''].join('\n'), 'h.yaml', [], RULE_READERS, finishRules).sections.rules as RulesConfig;

test('each agent\'s lines, to a viewer; none to a caller without a session; a reload changes them', timed(60_000, async () => {
  const s = await serveTest();
  closers.push(s.close);
  for (const name of ['alpha', 'beta', 'hot']) agents.push(await testAgent(s, drivenDeps(), { name }));
  await waitFor(() => s.manager.state.agents().filter((a) => a.online).length === 3, 15_000, 'three agents online');
  const id = (name: string) => s.manager.state.agents().find((a) => a.name === name)!.id;
  s.manager.setRules(config([
    'rules:',
    '  cpu_high: { metric: cpu, above: 90 }',
    '  memory_high: { metric: memory, above: 85 }',
    '  disk_full: { metric: disk, above: 95, per: mount }',
    'agents:',
    '  "hot": { cpu_high: { above: 2 }, memory_high: off }',
  ]));
  await s.dashboard.users.add('vic', 'viewer', 'viewer-password-1');
  const viewer = await sessionHeaders(s.apiPort, 'vic', 'viewer-password-1');

  const r = await getJson(s.apiPort, '/api/limits', viewer);
  assert.is(r.status, 200, JSON.stringify(r.body));
  const f = r.body as FleetLimits;
  assert.is(f.sets.length, 2, 'alpha and beta share one set, hot has its own');
  assert.is(f.agents[id('alpha')], f.agents[id('beta')]);
  // The driven agents report no mounts: the root, as the headline disk figure is.
  assert.equal(f.sets[f.agents[id('alpha')]!], { cpu: { rule: 'cpu_high', threshold: 90 }, memory: { rule: 'memory_high', threshold: 85 }, disk: { '/': { rule: 'disk_full', threshold: 95 } } });
  assert.equal(f.sets[f.agents[id('hot')]!], { cpu: { rule: 'cpu_high', threshold: 2 }, memory: null, disk: { '/': { rule: 'disk_full', threshold: 95 } } });
  assert.equal(f.metrics, { cpu_high: 'cpu', memory_high: 'memory', disk_full: 'disk' });

  const nobody = await getJson(s.apiPort, '/api/limits', {});
  assert.is(nobody.status, 401);
  assert.is(nobody.body.error.code, 'UNAUTHORIZED');

  s.manager.setRules(config(['rules:', '  memory_high: { metric: memory, above: 70 }']));
  const after = (await getJson(s.apiPort, '/api/limits', viewer)).body as FleetLimits;
  assert.equal(after.sets, [{ cpu: null, memory: { rule: 'memory_high', threshold: 70 }, disk: { '/': null } }]);
  s.manager.setRules(undefined);
  const none = (await getJson(s.apiPort, '/api/limits', viewer)).body as FleetLimits;
  assert.equal(none.sets, [null], 'no rules: the agents\' own flags apply');
  assert.equal(Object.keys(none.agents).sort(), [id('alpha'), id('beta'), id('hot')].sort());
}));

test.run();
