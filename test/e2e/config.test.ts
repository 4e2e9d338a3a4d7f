// The config file end to end: the real manager program started with --config, `config check` as
// an administrator runs it, and reloads (SIGHUP, POST /api/reload, the CLI) that keep agents connected
// and refuse a bad file without changing anything.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cleanTempDirs, tempDir, timed, waitFor } from '../harness.helper.ts';
import { AGENT_JS, apiJson, cli, cliJson, killAll, run, startAgent, startManager, waitOnline, type ManagerProc } from './procs.helper.ts';

const work = tempDir('hw-config-');
const cfg = join(work, 'hostwatch.yaml');

test('config check: ok, or every problem as file:line:col with exit 2', timed(30_000, async () => {
  writeFileSync(cfg, 'retention-raw: 2d\nallow: [127.0.0.1]\n');
  let r = await cli(work, ['config', 'check', cfg]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, 'ok');
  writeFileSync(cfg, '# manager\nretention-raw: 2d\nudp-prot: 6000\n');
  r = await cli(work, ['config', 'check', cfg]);
  assert.is(r.code, 2);
  assert.is(r.stdout.trim(), `${cfg}:3:1: unknown key "udp-prot": did you mean "udp-port"?`);
  writeFileSync(cfg, 'retention-raw: 2d\nlog-max-bytes: lots\n');
  r = await cli(work, ['config', 'check', cfg]);
  assert.is(r.code, 2);
  assert.match(r.stdout, `${cfg}:2:16: log-max-bytes: bad size "lots"`);
  // Values the notifier checks when it starts are checked here too, at their line.
  writeFileSync(cfg, 'webhook: [http://127.0.0.1:9/hook]\nwebhook-format: xml\n');
  r = await cli(work, ['config', 'check', cfg]);
  assert.is(r.code, 2);
  assert.match(r.stdout, `${cfg}:2:17: webhook-format xml: use one of`);
  writeFileSync(cfg, 'alertmanager: [ftp://127.0.0.1/]\n');
  r = await cli(work, ['config', 'check', cfg]);
  assert.is(r.code, 2, r.stdout);
  r = await cli(work, ['config', 'check', join(work, 'nope.yaml')]);
  assert.is(r.code, 2);
  assert.match(r.stderr, 'BAD_CONFIG');
}));

let mgr: ManagerProc;

test('reload applies a changed file without dropping agents; a bad file is refused and the running config kept', timed(90_000, async () => {
  writeFileSync(cfg, 'retention-raw: 2d\n');
  mgr = await startManager(['--config', cfg]);
  const agent = startAgent(mgr, ['--name', 'cfg1']);
  const before = await waitOnline(mgr.dataDir, 'cfg1', undefined, agent, mgr);
  let shown = await cliJson(mgr.dataDir, ['config', 'show']);
  assert.is(shown['retention-raw'], '2d');
  assert.is(shown['auto-accept'], false);
  // flags given to the manager won over the file (the test helper sets --port 0)
  assert.is(shown.port, 0);

  writeFileSync(cfg, 'retention-raw: 3d\nauto-accept: true\n');
  const r = await cliJson(mgr.dataDir, ['reload']);
  assert.equal(r.applied, ['auto-accept']);
  assert.equal(r.restartNeeded, ['retention-raw']);
  shown = await cliJson(mgr.dataDir, ['config', 'show']);
  assert.is(shown['auto-accept'], true);
  assert.is(shown['retention-raw'], '2d');
  assert.equal(shown['restart-needed'], ['retention-raw']);

  writeFileSync(cfg, 'auto-accept: false\nbogus: 1\n');
  const bad = await cli(mgr.dataDir, ['reload']);
  assert.is(bad.code, 2);
  assert.match(bad.stderr, `${cfg}:2:1: unknown key "bogus"`);
  assert.match(bad.stderr, 'BAD_CONFIG');
  assert.is((await cliJson(mgr.dataDir, ['config', 'show']))['auto-accept'], true);

  // SIGHUP: the same reload, its outcome in the record
  writeFileSync(cfg, 'auto-accept: false\n');
  mgr.child.kill('SIGHUP');
  await waitFor(async () => (await cliJson(mgr.dataDir, ['config', 'show']))['auto-accept'] === false, 10_000, 'SIGHUP reload');
  const events = readFileSync(join(mgr.dataDir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const reloads = events.filter((e) => e.event === 'config-reload' || e.event === 'config-refused').map((e) => [e.event, e.by.split(' ')[0]]);
  assert.equal(reloads, [['config-reload', 'api'], ['config-refused', 'api'], ['config-reload', 'SIGHUP']]);

  // POST /api/reload answers the same outcome
  const info = JSON.parse(readFileSync(join(mgr.dataDir, 'manager.json'), 'utf8'));
  const token = readFileSync(join(mgr.dataDir, 'api-token'), 'utf8').trim();
  const res = await fetch(`http://${info.api}/api/reload`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  assert.is(res.status, 200);
  assert.equal(((await res.json()) as any).applied, []);

  const after = (await apiJson<any[]>(mgr.dataDir, '/api/agents')).find((a) => a.name === 'cfg1');
  assert.ok(after.online);
  assert.is(after.connectedAt, before.connectedAt, 'the agent stayed connected through the reloads');
}));

const rcfg = join(work, 'rules.yaml');

test('rules from the file reach a real agent program; a reload sends the changed set without a reconnect', timed(90_000, async () => {
  writeFileSync(rcfg, 'rules:\n  memory_high: { metric: memory, above: 99, for: 1m }\n');
  const m = await startManager(['--config', rcfg]);
  const agent = startAgent(m, ['--name', 'ruled', '--label', 'role=db', '--label', 'dc=eu']);
  await waitOnline(m.dataDir, 'ruled', undefined, agent, m);
  const v1 = await waitFor(async () => {
    const a = (await cliJson<any[]>(m.dataDir, ['agents'])).find((x) => x.name === 'ruled');
    return a?.rulesVersion ? a : null;
  }, 20_000, 'rules version reported');
  assert.equal(v1.labels, { role: 'db', dc: 'eu' });
  assert.match((await cli(m.dataDir, ['agents'])).stdout, 'role=db,dc=eu');
  writeFileSync(rcfg, 'rules:\n  memory_high: { metric: memory, above: 98, for: 1m }\n  agent_down: { after: 5 }\n');
  const r = await cliJson(m.dataDir, ['reload']);
  assert.equal(r.applied, ['rules']);
  const v2 = await waitFor(async () => {
    const a = (await cliJson<any[]>(m.dataDir, ['agents'])).find((x) => x.name === 'ruled');
    return a && a.rulesVersion !== v1.rulesVersion ? a : null;
  }, 20_000, 'new rules version reported');
  assert.is(v2.connectedAt, v1.connectedAt, 'same connection');
  const rules = await cliJson<any[]>(m.dataDir, ['rules', 'ruled']);
  assert.equal([rules[0].inSync, rules[0].rules[0].threshold, rules[0].agentDown.after], [true, 98, 5]);
  writeFileSync(rcfg, 'rules:\n  memory_high: { metric: memory, above: 9 kilo, for: 1m }\n');
  const bad = await cli(m.dataDir, ['reload']);
  assert.is(bad.code, 2);
  assert.match(bad.stderr, `${rcfg}:2:41: memory_high: above: bad percentage`);
  const check = await cli(work, ['config', 'check', rcfg]);
  assert.is(check.code, 2);
  assert.match(check.stdout, `${rcfg}:2:41:`);
  assert.is((await cliJson<any[]>(m.dataDir, ['rules', 'ruled']))[0].rules[0].threshold, 98, 'running rules kept');
  await m.kill();
}));

test('a bad --label stops the agent program with BAD_FLAG (exit 2) before anything is written', timed(20_000, async () => {
  const state = join(work, 'bad-label-state');
  const p = run(AGENT_JS, ['--manager', '127.0.0.1:1', '--label', 'role', '--state-dir', state]);
  assert.is(await p.exited, 2);
  assert.match(p.output(), '--label "role": expected name=value');
  assert.not.ok(existsSync(state));
}));

test('a manager started without --config refuses reload with NO_CONFIG', timed(30_000, async () => {
  const r = await cli(mgr.dataDir, ['reload']);
  assert.is(r.code, 0, 'this manager has a config');
  const plain = await startManager();
  const n = await cli(plain.dataDir, ['reload']);
  assert.is(n.code, 2);
  assert.match(n.stderr, 'NO_CONFIG');
  await plain.kill();
}));

test.after(async () => {
  await killAll();
  cleanTempDirs();
});
test.run();
