// Rules end to end: a real manager and real Agent objects with driven measurements. The manager
// sends each agent its rules; the agent judges them and its alerts carry rule, state, severity,
// threshold and labels; a reload changes them without a reconnect; overrides by glob; an alert
// raised while the manager is down is delivered once. "Nothing more" is counted in samples.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseConfigText } from '../../common/config/file.ts';
import { finishRules, RULE_READERS, type RulesConfig } from '../../common/rules/config.ts';
import type { LabelAssign } from '../../common/rules/labels.ts';
import { readLabels } from '../../common/rules/labels-config.ts';
import { readEvents, drivenDeps, serveTest, testAgent, cleanupAfterEach } from './inproc.helper.ts';
import { cliJson } from './procs.helper.ts';
import { timed, waitFor } from '../harness.helper.ts';
import type { Serving } from '../../common/serve/serve.ts';

const { agents, closers } = cleanupAfterEach(test);

function rules(yaml: string): RulesConfig {
  const f = parseConfigText(yaml, 'test.yaml', [], RULE_READERS, finishRules);
  assert.equal(f.problems, []);
  return f.sections.rules as RulesConfig;
}

/** Waits until the agent named `name` reports the version the manager means it to run. */
async function inSync(s: Serving, name: string): Promise<void> {
  await waitFor(() => {
    const rec = s.manager.state.agents().find((a) => a.name === name);
    const want = rec && s.manager.rules.forAgent(rec);
    return rec && want && rec.rulesVersion === want.version;
  }, 10_000, `${name} runs the manager's rules`);
}

const alertsOf = (s: Serving, name: string) => s.manager.state.alerts().filter((a) => a.agent === name);

test('memory_high fires after its for; a reload with a higher threshold resolves it, without a reconnect', timed(40_000, async () => {
  const s = await serveTest();
  closers.push(s.close);
  s.manager.setRules(rules('rules:\n  memory_high: { metric: memory, above: 50, for: 2s }\n'));
  const deps = drivenDeps();
  const agent = await testAgent(s, deps, { name: 'mem1' });
  agents.push(agent);
  await inSync(s, 'mem1');
  const connectedAt = s.manager.state.agents()[0]!.connectedAt;
  const list = await cliJson<any[]>(s.dataDir, ['agents']);
  assert.is(list[0].rulesVersion, agent.rulesVersion);

  const before = deps.samples;
  deps.mem = 80;
  await waitFor(() => alertsOf(s, 'mem1').length === 1, 10_000, 'MEMORY_HIGH');
  assert.ok(deps.samples - before >= 2, 'not before two samples (2s at 1s) were past the threshold');
  const fired = (await cliJson<any[]>(s.dataDir, ['alerts']))[0];
  assert.equal([fired.type, fired.rule, fired.state, fired.severity, fired.threshold, fired.value, fired.labels], ['MEMORY_HIGH', 'memory_high', 'firing', 'warning', 50, 80, {}]);
  assert.equal((await cliJson<any[]>(s.dataDir, ['alerts', '--active'])).map((a) => a.type), ['MEMORY_HIGH']);

  s.manager.setRules(rules('rules:\n  memory_high: { metric: memory, above: 95, for: 2s }\n'));
  await waitFor(() => alertsOf(s, 'mem1').length === 2, 10_000, 'MEMORY_HIGH_RESOLVED');
  const resolved = (await cliJson<any[]>(s.dataDir, ['alerts']))[1];
  assert.equal([resolved.type, resolved.state, resolved.threshold], ['MEMORY_HIGH_RESOLVED', 'resolved', 95]);
  assert.equal(await cliJson<any[]>(s.dataDir, ['alerts', '--active']), []);
  await inSync(s, 'mem1');
  assert.is(s.manager.state.agents()[0]!.connectedAt, connectedAt, 'same connection');
  const shown = await cliJson<any[]>(s.dataDir, ['rules', 'mem1']);
  assert.equal([shown[0].inSync, shown[0].rules[0].threshold, shown[0].rules[0].clear], [true, 95, 90]);
}));

test('a memory value hovering around the threshold does not flap; it resolves only past clear for clear_for', timed(40_000, async () => {
  const s = await serveTest();
  closers.push(s.close);
  s.manager.setRules(rules('rules:\n  memory_high: { metric: memory, above: 80, for: 2s }\n'));
  const deps = drivenDeps();
  deps.mem = 85;
  agents.push(await testAgent(s, deps, { name: 'hover' }));
  await waitFor(() => alertsOf(s, 'hover').length === 1, 10_000, 'MEMORY_HIGH');
  // 78 to 82, one value a sample, for twelve samples: above and below the line but never past
  // clear (75) for clear_for: nothing more. Counted in samples the agent took, not in time.
  const hover = [79, 81, 78, 82, 80, 79.5];
  const start = deps.samples;
  const sample = deps.sample;
  deps.sample = async () => {
    deps.mem = hover[(deps.samples - start) % hover.length]!;
    return sample();
  };
  await waitFor(() => deps.samples >= start + 12, 20_000, 'twelve hovering samples');
  assert.equal(alertsOf(s, 'hover').map((a) => a.type), ['MEMORY_HIGH']);
  deps.sample = sample;
  deps.mem = 70;
  await waitFor(() => alertsOf(s, 'hover').length === 2, 10_000, 'MEMORY_HIGH_RESOLVED');
  assert.is(alertsOf(s, 'hover')[1]!.type, 'MEMORY_HIGH_RESOLVED');
}));

test('disk_full per mount: one alert per mount with the mount in labels; excluded types never judged', timed(40_000, async () => {
  const s = await serveTest();
  closers.push(s.close);
  s.manager.setRules(rules('rules:\n  disk_full: { metric: disk, above: 90, for: 1s, per: mount }\n'));
  const deps = drivenDeps();
  deps.mounts = [{ mount: '/', type: 'ext4', percent: 50 }, { mount: '/data', type: 'xfs', percent: 97 }, { mount: '/run', type: 'tmpfs', percent: 99 }];
  agents.push(await testAgent(s, deps, { name: 'disk1' }));
  await waitFor(() => alertsOf(s, 'disk1').length === 1, 10_000, 'DISK_FULL on /data');
  const n = deps.samples;
  await waitFor(() => deps.samples >= n + 3, 10_000, 'three more samples');
  const got = await cliJson<any[]>(s.dataDir, ['alerts']);
  assert.equal(got.map((a) => [a.type, a.labels, a.value]), [['DISK_FULL', { mount: '/data' }, 97]]);
  deps.mounts[0]!.percent = 95;
  await waitFor(() => alertsOf(s, 'disk1').length === 2, 10_000, 'DISK_FULL on /');
  assert.equal(alertsOf(s, 'disk1')[1]!.labels, { mount: '/' });
  deps.mounts[1]!.percent = 10;
  await waitFor(() => alertsOf(s, 'disk1').length === 3, 10_000, 'DISK_FULL_RESOLVED on /data');
  assert.equal([alertsOf(s, 'disk1')[2]!.type, alertsOf(s, 'disk1')[2]!.labels], ['DISK_FULL_RESOLVED', { mount: '/data' }]);
  assert.equal((await cliJson<any[]>(s.dataDir, ['alerts', '--active'])).map((a) => a.labels), [{ mount: '/' }]);
}));

test('overrides by glob: a higher threshold for backup-*, a rule off for lab-*', timed(40_000, async () => {
  const s = await serveTest();
  closers.push(s.close);
  s.manager.setRules(rules([
    'rules:', '  disk_full: { metric: disk, above: 90, for: 1s, per: mount }', '  cpu_high: { metric: cpu, above: 80, for: 1s }',
    'agents:', '  "backup-*": { disk_full: { above: 98 } }', '  "lab-*": { cpu_high: off }', '',
  ].join('\n')));
  const make = async (name: string) => {
    const deps = drivenDeps();
    deps.mounts = [{ mount: '/', type: 'ext4', percent: 95 }];
    agents.push(await testAgent(s, deps, { name }));
    return deps;
  };
  const backup = await make('backup-1');
  await make('web-1');
  const lab = await make('lab-1');
  lab.cpu = 99;
  await waitFor(() => alertsOf(s, 'web-1').length === 1, 10_000, 'web-1 DISK_FULL');
  await waitFor(() => alertsOf(s, 'lab-1').length === 1, 10_000, 'lab-1 DISK_FULL');
  const n = backup.samples;
  await waitFor(() => backup.samples >= n + 3 && lab.samples >= n + 3, 10_000, 'three more samples');
  assert.equal(alertsOf(s, 'backup-1'), [], 'backup-1 at 95% is under its 98');
  assert.equal(alertsOf(s, 'lab-1').map((a) => a.type), ['DISK_FULL'], 'no CPU_HIGH on lab-1');
  const shown = await cliJson<any[]>(s.dataDir, ['rules']);
  const byName = Object.fromEntries(shown.map((a) => [a.agent, a]));
  assert.equal(byName['backup-1'].rules.map((r: any) => [r.name, r.threshold]), [['disk_full', 98], ['cpu_high', 80]]);
  assert.equal(byName['lab-1'].rules.map((r: any) => r.name), ['disk_full']);
}));

test('overrides by label: the agent\'s own --label and the config\'s labels select rules; shown by agents', timed(40_000, async () => {
  const s = await serveTest();
  closers.push(s.close);
  const f = parseConfigText([
    'rules:', '  memory_high: { metric: memory, above: 50, for: 1s }',
    'agents:', '  "role=db": { memory_high: { above: 95 } }', '  "tier=edge": { memory_high: off }',
    'labels:', '  "edge-*": { tier: edge }', '',
  ].join('\n'), 'test.yaml', [], { ...RULE_READERS, labels: readLabels }, finishRules);
  assert.equal(f.problems, []);
  s.manager.setRules(f.sections.rules as RulesConfig);
  s.manager.setLabels(f.sections.labels as LabelAssign[]);
  const make = async (name: string, labels?: Record<string, string>) => {
    const deps = drivenDeps();
    deps.mem = 80;
    agents.push(await testAgent(s, deps, { name, ...(labels ? { labels } : {}) }));
    return deps;
  };
  const db = await make('pg-1', { role: 'db' });
  await make('app-1', { role: 'app' });
  const edge = await make('edge-1');
  await waitFor(() => alertsOf(s, 'app-1').length === 1, 10_000, 'app-1 MEMORY_HIGH');
  const n = Math.max(db.samples, edge.samples);
  await waitFor(() => db.samples >= n + 3 && edge.samples >= n + 3, 10_000, 'three more samples');
  assert.equal(alertsOf(s, 'pg-1'), [], 'role=db: 80% is under its 95');
  assert.equal(alertsOf(s, 'edge-1'), [], 'tier=edge (from the config): memory_high off');
  const list = await cliJson<any[]>(s.dataDir, ['agents']);
  assert.equal(Object.fromEntries(list.map((a) => [a.name, a.labels])), { 'app-1': { role: 'app' }, 'edge-1': { tier: 'edge' }, 'pg-1': { role: 'db' } });
  await inSync(s, 'edge-1');
  // The config's labels change with a reload: edge-1 loses tier=edge and gets memory_high back.
  s.manager.setLabels([]);
  await waitFor(() => alertsOf(s, 'edge-1').length === 1, 10_000, 'edge-1 MEMORY_HIGH after its label went');
}));

test('a rule alert raised while the manager is down is delivered once when it is back', timed(60_000, async () => {
  const cfg = rules('rules:\n  memory_high: { metric: memory, above: 50, for: 1s }\n');
  const s = await serveTest();
  s.manager.setRules(cfg);
  const deps = drivenDeps();
  const agent = await testAgent(s, deps, { name: 'away' });
  agents.push(agent);
  await inSync(s, 'away');
  await s.close();
  deps.mem = 90;
  await waitFor(() => agent.pendingAlerts() === 1, 10_000, 'raised and queued while the manager is down');
  const again = await serveTest({ dataDir: s.dataDir, port: s.tcpPort, udpPort: s.udpPort });
  closers.push(again.close);
  again.manager.setRules(cfg);
  await waitFor(() => alertsOf(again, 'away').length === 1 && agent.pendingAlerts() === 0, 20_000, 'delivered and acknowledged');
  const n = deps.samples;
  await waitFor(() => deps.samples >= n + 3, 10_000, 'three more samples');
  assert.equal(alertsOf(again, 'away').map((a) => [a.type, a.rule]), [['MEMORY_HIGH', 'memory_high']]);
  assert.is(readEvents(again.dataDir).filter((e) => e.event === 'alert' && e.alert.type === 'MEMORY_HIGH').length, 1);
}));

test.run();
