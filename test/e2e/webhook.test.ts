// The manager program with --webhook: a receiver that fails its first answers still gets every
// event, in order, each signed with the secret of --webhook-secret-file; `notify test` reaches it
// and `notify status` shows the figures; bad flags are one-line errors.
import { createHmac } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tempDir, timed, waitFor } from '../harness.helper.ts';
import { flood, startReceiver } from '../notify/receiver.helper.ts';
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

/** kB of a /proc/<pid>/status field (VmRSS, VmHWM). */
function procKb(pid: number, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(m[1]);
}

test('a webhook answering 500 with 300 MiB costs the manager nothing: retried, a coded error, RSS flat', timed(90_000, async () => {
  const w = await startReceiver();
  closers.push(w.close);
  const f = flood(500, 300 * 1024 * 1024);
  w.answer = f.answer;
  const secretPath = '/services/T00000000/B00000000/XXXXsecretXXXXXXXXXXXX';
  const mgr = await startManager(['--webhook', `${w.url}${secretPath}`, '--webhook-format', 'slack']);
  closers.push(() => void mgr.kill());
  const pid = mgr.child.pid!;
  await waitFor(() => /notify\s+webhook/.test(mgr.output()), 30_000, 'the webhook in the banner');
  // The manager's peak so far (start-up included) is the baseline.
  const before = procKb(pid, 'VmHWM');
  const t = await cli(mgr.dataDir, ['notify', 'test']);
  assert.is(t.code, 0, t.stderr);
  const st = await waitFor(async () => {
    const j = await cliJson<any>(mgr.dataDir, ['notify', 'status']);
    return j.destinations[0].failed >= 3 ? j.destinations[0] : null;
  }, 60_000, 'three failed attempts');
  assert.is(st.lastErrorCode, 'UNAVAILABLE');
  assert.match(st.lastError, /^HTTP 500: x+$/);
  assert.ok(st.lastError.length <= 300);
  assert.is(st.queued, 1, 'still queued, to be retried');
  assert.is(st.url, `${w.url}/…`, 'the secret path is not shown');
  assert.is(f.finished, 0, 'no 300 MiB answer was read to its end');
  const grew = (procKb(pid, 'VmHWM') - before) / 1024;
  assert.ok(grew < 64, `manager peak RSS grew ${grew.toFixed(1)} MiB (from ${(before / 1024).toFixed(0)} MiB)`);
  assert.ok(f.written < 3 * 64 * 1024 * 1024, `receiver wrote ${f.written} bytes over ${st.failed} attempts`);
  const events = readFileSync(join(mgr.dataDir, 'events.jsonl'), 'utf8');
  assert.not.ok(events.includes('XXXXsecretXXXX'), 'the secret path is not in the record');
  assert.not.ok(mgr.output().includes('XXXXsecretXXXX'), 'nor on the console');
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
