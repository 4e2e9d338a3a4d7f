// Process rules end to end: a real manager and a real Agent object reading this machine's /proc
// (the agent's own measurements, realDeps). The test starts a copy of `sleep` under a name of its
// own; the rule counting that name fires when the process is killed and resolves when it is started
// again, once each, naming the glob and the count. An agent that does not name process-rules is
// not sent the rule (it runs the others), and `manager rules` says so. The built programs do the
// same with the rule in the manager's config file, at the agent's own pace (a count every 5 s).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { parseConfigText } from '../../common/config/file.ts';
import { finishRules, RULE_READERS, type RulesConfig } from '../../common/rules/config.ts';
import { realDeps } from '../../common/agent/start.ts';
import { tempDir, timed, waitFor } from '../harness.helper.ts';
import { cleanupAfterEach, drivenDeps, serveTest, testAgent } from './inproc.helper.ts';
import { cli, cliJson, startAgent, startManager, waitOnline } from './procs.helper.ts';

const { agents, closers } = cleanupAfterEach(test);

function rules(yaml: string): RulesConfig {
  const f = parseConfigText(yaml, 'test.yaml', [], RULE_READERS, finishRules);
  assert.equal(f.problems, []);
  return f.sections.rules as RulesConfig;
}

/** A copy of sleep named `name` (at most 15 characters: the kernel's name is then all of it). */
function namedSleep(name: string): () => ChildProcess {
  const exe = join(tempDir('hw-proc-rule-'), name);
  copyFileSync('/bin/sleep', exe);
  return () => {
    const child = spawn(exe, ['600'], { stdio: 'ignore' });
    closers.push(() => { child.kill('SIGKILL'); });
    return child;
  };
}

const exited = (c: ChildProcess) => new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', () => r())));

test('a process rule fires when its process is killed and resolves when it runs again, once each; an old agent is not sent it', timed(90_000, async () => {
  if (process.platform !== 'linux') return console.log('  skipped: not Linux');
  const name = `hwp${randomBytes(4).toString('hex')}`;
  const start = namedSleep(name);
  let child = start();
  const s = await serveTest();
  closers.push(s.close);
  s.manager.setRules(rules(`rules:\n  sleeper_running: { metric: process, match: "${name.slice(0, 6)}*", for: 1s }\n  memory_high: { metric: memory, above: 99 }\n`));
  const deps = realDeps({});
  let counts = 0;
  const counter = deps.processCounter!;
  deps.processCounter = { count: (q) => counter.count(q).finally(() => counts++) };
  agents.push(await testAgent(s, deps, { name: 'procs1', processRulesEveryMs: 500 }));
  const old = await testAgent(s, drivenDeps(), { name: 'old1', omitFeatures: ['process-rules'] });
  agents.push(old);
  const ours = () => s.manager.state.alerts().filter((a) => a.agent === 'procs1' && a.rule === 'sleeper_running');
  await waitFor(() => s.manager.state.agents().filter((a) => a.rulesVersion !== null && a.rulesVersion === s.manager.rules.forAgent(a)?.version).length === 2, 15_000, 'both run the manager\'s rules');
  // While it runs, counts pass without an alert.
  const before = counts;
  await waitFor(() => counts >= before + 3, 15_000, 'three counts');
  assert.equal(ours(), [], 'nothing fires while it runs');

  child.kill('SIGKILL');
  await exited(child);
  await waitFor(() => ours().length >= 1, 20_000, 'SLEEPER_RUNNING fires');
  const fired = ours()[0]!;
  assert.equal([fired.type, fired.state, fired.labels, fired.value, fired.threshold], ['SLEEPER_RUNNING', 'firing', { match: `${name.slice(0, 6)}*` }, 0, 1]);

  child = start();
  await waitFor(() => ours().some((a) => a.type === 'SLEEPER_RUNNING_RESOLVED'), 20_000, 'SLEEPER_RUNNING_RESOLVED');
  const after = counts;
  await waitFor(() => counts >= after + 2, 15_000, 'two more counts: no second alert');
  assert.equal(ours().map((a) => [a.type, a.value]), [['SLEEPER_RUNNING', 0], ['SLEEPER_RUNNING_RESOLVED', 1]], 'once each, the count as the value');
  assert.equal(s.manager.state.activeAlerts().filter((a) => a.agent === 'procs1'), []);

  // The old agent runs what it understands, in sync; `manager rules` shows both.
  assert.equal(old.currentRules().map((r) => r.name), ['memory_high']);
  const text = await cli(s.dataDir, ['rules']);
  assert.is(text.code, 0, text.stderr);
  assert.match(text.stdout, new RegExp(`sleeper_running\\s+process name "${name.slice(0, 6)}\\*": fewer than 1 running for 1s`));
  assert.match(text.stdout, /sleeper_running\s+not sent: the agent is too old \(it does not name process-rules\): upgrade it/);
  child.kill('SIGKILL');
}));

test('the built manager and agent: the rule from the config file fires on a kill and resolves on a start', timed(120_000, async () => {
  if (process.platform !== 'linux') return console.log('  skipped: not Linux');
  const name = `hwq${randomBytes(4).toString('hex')}`;
  const start = namedSleep(name);
  let child = start();
  const cfg = join(tempDir('hw-proc-cfg-'), 'manager.yaml');
  writeFileSync(cfg, `rules:\n  sleeper_up: { metric: process, match: ${name}, for: 1s }\n`);
  const mgr = await startManager(['--config', cfg]);
  closers.push(() => { mgr.child.kill('SIGKILL'); });
  const agent = startAgent(mgr, ['--name', 'procbin']);
  await waitOnline(mgr.dataDir, 'procbin', undefined, agent, mgr);
  const ours = async () => (await cliJson<any[]>(mgr.dataDir, ['alerts'])).filter((a) => a.rule === 'sleeper_up').map((a) => [a.type, a.value, a.labels?.match]);
  await waitFor(async () => (await cliJson<any[]>(mgr.dataDir, ['rules', 'procbin']))[0]?.inSync, 15_000, 'procbin runs the rules');
  child.kill('SIGKILL');
  await exited(child);
  await waitFor(async () => (await ours()).length >= 1, 30_000, 'SLEEPER_UP fires');
  child = start();
  await waitFor(async () => (await ours()).length >= 2, 30_000, 'SLEEPER_UP_RESOLVED');
  assert.equal(await ours(), [['SLEEPER_UP', 0, name], ['SLEEPER_UP_RESOLVED', 1, name]]);
  child.kill('SIGKILL');
}));

test.run();
