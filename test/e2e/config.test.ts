// The config file end to end: the real manager program started with --config, `config check` as
// an administrator runs it, and reloads (SIGHUP, POST /api/reload, the CLI) that keep agents connected
// and refuse a bad file without changing anything.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cleanTempDirs, tempDir, timed, waitFor } from '../harness.helper.ts';
import { apiJson, cli, cliJson, killAll, startAgent, startManager, waitOnline, type ManagerProc } from './procs.helper.ts';

const work = tempDir('hw-config-');
const cfg = join(work, 'hostwatch.yaml');

test('config check: ok, or every problem as file:line:col with exit 2', timed(30_000, async () => {
  writeFileSync(cfg, 'history-points: 100\nallow: [127.0.0.1]\n');
  let r = await cli(work, ['config', 'check', cfg]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, 'ok');
  writeFileSync(cfg, '# manager\nhistory-points: 100\nudp-prot: 6000\n');
  r = await cli(work, ['config', 'check', cfg]);
  assert.is(r.code, 2);
  assert.is(r.stdout.trim(), `${cfg}:3:1: unknown key "udp-prot": did you mean "udp-port"?`);
  writeFileSync(cfg, 'history-points: 100\nlog-max-bytes: lots\n');
  r = await cli(work, ['config', 'check', cfg]);
  assert.is(r.code, 2);
  assert.match(r.stdout, `${cfg}:2:16: log-max-bytes: "lots" must be a whole number`);
  r = await cli(work, ['config', 'check', join(work, 'nope.yaml')]);
  assert.is(r.code, 2);
  assert.match(r.stderr, 'BAD_CONFIG');
}));

let mgr: ManagerProc;

test('reload applies a changed file without dropping agents; a bad file is refused and the running config kept', timed(90_000, async () => {
  writeFileSync(cfg, 'history-points: 100\n');
  mgr = await startManager(['--config', cfg]);
  const agent = startAgent(mgr, ['--name', 'cfg1']);
  const before = await waitOnline(mgr.dataDir, 'cfg1', undefined, agent, mgr);
  let shown = await cliJson(mgr.dataDir, ['config', 'show']);
  assert.is(shown['history-points'], 100);
  assert.is(shown['auto-accept'], false);
  // flags given to the manager won over the file (the test helper sets --port 0)
  assert.is(shown.port, 0);

  writeFileSync(cfg, 'history-points: 200\nauto-accept: true\n');
  const r = await cliJson(mgr.dataDir, ['reload']);
  assert.equal(r.applied, ['auto-accept']);
  assert.equal(r.restartNeeded, ['history-points']);
  shown = await cliJson(mgr.dataDir, ['config', 'show']);
  assert.is(shown['auto-accept'], true);
  assert.is(shown['history-points'], 100);
  assert.equal(shown['restart-needed'], ['history-points']);

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
