// The manager program with --webhook: a receiver that fails its first answers still gets every
// event, in order, each signed with the secret of --webhook-secret-file; `notify test` reaches it
// and `notify status` shows the figures; bad flags are one-line errors.
import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tempDir, timed, waitFor } from '../harness.helper.ts';
import { startReceiver } from '../notify/receiver.helper.ts';
import { cleanupAfterEach, drivenDeps, testAgent } from './inproc.helper.ts';
import { apiJson, cli, cliJson, MANAGER_JS, run, startManager } from './procs.helper.ts';

const { agents, closers } = cleanupAfterEach(test);

test('a webhook that fails its first answers receives every event, signed, in order; notify test and status', timed(60_000, async () => {
  const w = await startReceiver();
  closers.push(w.close);
  w.failures.push(500, 'drop', 503, 502);
  const dir = tempDir();
  const secret = 'a'.repeat(8) + 'b'.repeat(24);
  writeFileSync(join(dir, 'secret'), secret + '\n');
  const mgr = await startManager(['--auto-accept', '--webhook', `${w.url}/hook`, '--webhook-secret-file', join(dir, 'secret')]);
  closers.push(() => void mgr.kill());
  // manager.json is written before the banner is printed: wait for the line, do not race it.
  await waitFor(() => /notify\s+webhook http:\/\/127\.0\.0\.1:\d+\/…/.test(mgr.output()), 30_000, 'the webhook in the banner');
  const deps = drivenDeps();
  const agent = await testAgent(mgr, deps, { name: 'flappy' });
  agents.push(agent);
  await waitFor(() => agent.connected, 30_000, 'connected');
  for (let i = 0; i < 2; i++) {
    deps.cpu = 99;
    await waitFor(async () => (await cliJson<any[]>(mgr.dataDir, ['alerts'])).length === 2 * i + 1, 20_000, 'CPU_HIGH');
    deps.cpu = 5;
    await waitFor(async () => (await cliJson<any[]>(mgr.dataDir, ['alerts'])).length === 2 * i + 2, 20_000, 'CPU_NORMAL');
  }
  const t = await cli(mgr.dataDir, ['notify', 'test']);
  assert.is(t.code, 0, t.stderr);
  assert.match(t.stdout, /test alert [0-9a-f-]{36} queued for 1 destination/);
  await waitFor(() => w.got.length === 5, 40_000, 'five events through the failures');
  assert.ok(w.attempts >= 9, 'the failures were answered');
  assert.equal(w.got.map((g) => `${g.json.kind}:${g.json.alert.type}:${g.json.status}`), [
    'alert:CPU_HIGH:firing', 'alert:CPU_NORMAL:resolved', 'alert:CPU_HIGH:firing', 'alert:CPU_NORMAL:resolved', 'test:TEST:firing',
  ]);
  assert.is(new Set(w.got.map((g) => g.json.id)).size, 5, 'a unique id each');
  for (const g of w.got) {
    assert.is(g.path, '/hook');
    assert.is(g.headers['x-hostwatch-signature'], `sha256=${createHmac('sha256', secret).update(g.body).digest('hex')}`);
    assert.is(g.headers['content-type'], 'application/json');
  }
  assert.is(w.got[0]!.json.agent.name, 'flappy');
  const st = await waitFor(async () => {
    const j = await cliJson<any>(mgr.dataDir, ['notify', 'status']);
    return j.destinations[0].queued === 0 ? j : null;
  }, 10_000, 'queue empty');
  assert.is(st.destinations[0].sent, 5);
  assert.ok(st.destinations[0].failed >= 4);
  assert.type(st.destinations[0].lastSuccessAt, 'string');
  const stats = await apiJson(mgr.dataDir, '/api/stats');
  assert.is(stats.notify.outbox.items, 0, '/api/stats has the notify section');
  assert.is(stats.notify.destinations[0].sent, 5);
}));

test('bad notify flags: one line, exit 2; notify without destinations says how to add one', timed(30_000, async () => {
  const bad = async (args: string[], re: RegExp) => {
    const p = run(MANAGER_JS, ['--host', '127.0.0.1', '--port', '0', '--udp-port', '0', '--api', '127.0.0.1:0', '--data-dir', tempDir(), ...args]);
    const code = await p.exited;
    assert.is(code, 2, p.output());
    assert.match(p.output(), re);
    assert.is(p.output().trim().split('\n').length, 1, p.output());
  };
  await bad(['--webhook', 'ftp://x'], /--webhook ftp:\/\/x: only http/);
  await bad(['--webhook', 'http://127.0.0.1:1/', '--webhook-format', 'teams'], /--webhook-format teams: use one of json, slack, discord/);
  await bad(['--alertmanager', 'not a url'], /--alertmanager not a url: not a URL/);
  const short = join(tempDir(), 's');
  writeFileSync(short, 'short');
  await bad(['--webhook', 'http://127.0.0.1:1/', '--webhook-secret-file', short], /at least 16/);
  await bad(['--metrics', '127.0.0.1:99999'], /--metrics/);
  const mgr = await startManager();
  closers.push(() => void mgr.kill());
  const r = await cli(mgr.dataDir, ['notify', 'status']);
  assert.is(r.code, 1);
  assert.match(r.stderr, /--alertmanager <url> or --webhook <url>/);
  const u = await cli(mgr.dataDir, ['notify', 'bogus']);
  assert.is(u.code, 2);
}));

test.run();
