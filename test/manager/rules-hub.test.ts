// The rules each agent is sent: a rule whose metric needs a feature (service, process, container)
// goes only to an agent whose hello named it, the version naming what is actually sent, and
// notSent lists what was left out and why; an agent that names them all gets the whole set.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseConfigText } from '../../common/config/file.ts';
import { finishRules, RULE_READERS, type RulesConfig } from '../../common/rules/config.ts';
import { rulesVersion } from '../../common/rules/resolve.ts';
import { RulesHub } from '../../common/manager/rules-hub.ts';
import type { AgentLink } from '../../common/manager/agent-link.ts';
import type { AgentRecord } from '../../common/manager/state.ts';
import type { Liveness } from '../../common/manager/liveness.ts';
import type { ManagerMessage } from '../../common/wire/messages.ts';

const test = suite('manager/rules-hub');

const cfg = parseConfigText([
  'rules:',
  '  memory_high: { metric: memory, above: 90 }',
  '  web: { metric: service, match: nginx.service }',
  '  nginx_running: { metric: process, match: "nginx*" }',
  '  containers_down: { metric: container, only: ["web-*"] }',
  '',
].join('\n'), 'h.yaml', [], RULE_READERS, finishRules).sections.rules as RulesConfig;

function agent(id: string, features: string[]) {
  const sent: ManagerMessage[] = [];
  const link = { features: new Set(features), peer: { post: (m: ManagerMessage) => sent.push(m) } } as unknown as AgentLink;
  const rec = { id, name: id, labels: {}, rulesVersion: '' } as unknown as AgentRecord;
  return { link, rec, sent };
}

test('each agent is sent the rules its features allow; notSent says which were left out', () => {
  const hub = new RulesHub({ liveness: { silentIntervals: 3 } as Liveness, defaultSilentIntervals: 3 });
  const all = agent('new', ['services', 'process-rules', 'container-rules']);
  const old = agent('old', ['services', 'containers']);
  const older = agent('older', []);
  hub.set(cfg, [[all.link, all.rec], [old.link, old.rec], [older.link, older.rec]]);
  const names = (x: { sent: ManagerMessage[] }) => (x.sent[0] as { rules: { name: string }[] }).rules.map((r) => r.name);
  assert.equal(names(all), ['memory_high', 'web', 'nginx_running', 'containers_down']);
  assert.equal(names(old), ['memory_high', 'web']);
  assert.equal(names(older), ['memory_high']);
  const oldSet = hub.forAgent(old.rec)!;
  assert.is(oldSet.version, rulesVersion(oldSet.rules), 'the version names what is sent');
  assert.is((old.sent[0] as { version: string }).version, oldSet.version);
  assert.equal(hub.notSent(all.rec), []);
  assert.equal(hub.notSent(old.rec), [{ rule: 'nginx_running', feature: 'process-rules' }, { rule: 'containers_down', feature: 'container-rules' }]);
  assert.equal(hub.notSent(older.rec).map((n) => n.feature), ['services', 'process-rules', 'container-rules']);
});

test.run();
