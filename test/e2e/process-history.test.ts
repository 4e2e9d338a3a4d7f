// History of who end to end: an in-process manager and agent whose processes the test sets, the
// agent taking its top processes every second; the minute is in the manager's process file, the
// API answers it (command lines to admins only), the CLI prints it, and what the agent took while
// the manager was away arrives with the backfill.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'node:http';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ProcessRow } from '../../common/collect/types.ts';
import type { ProcessHistory } from '../../common/api/types.ts';
import { timed, waitFor } from '../harness.helper.ts';
import { spawnSync } from 'node:child_process';
import { AGENT_JS, cli } from './procs.helper.ts';
import { cleanupAfterEach, drivenDeps, serveTest, testAgent } from './inproc.helper.ts';
import { getJson as get } from './session.helper.ts';

const test = suite('e2e/process-history');
const { agents, closers } = cleanupAfterEach(test);

const proc = (pid: number, name: string, cpu: number, mem: number): ProcessRow => ({
  pid, name, user: 'tester', command: `/usr/local/bin/${name} --really-busy`, cpuPercent: cpu, memBytes: mem, ioBytesPerSec: null, state: 'R', startedAt: Date.now() - 60_000,
});

async function viewerSession(port: number): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/api/web/sign-in', headers: { 'content-type': 'application/json' } }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ cookie: String(res.headers['set-cookie']?.[0] ?? '').split(';')[0]!, 'x-csrf-token': JSON.parse(body).csrf }));
    });
    req.on('error', reject);
    req.end(JSON.stringify({ username: 'vic', password: 'viewer-password-1' }));
  });
}

test('the minute names the test\'s process: API (admin and viewer) and CLI', timed(60_000, async () => {
  const s = await serveTest();
  closers.push(s.close);
  const d = drivenDeps();
  d.processes = [proc(4242, 'burner', 97.5, 5e8), proc(7, 'hog', 1.5, 9e9), proc(8, 'idle', 0, 1e6)];
  const agent = await testAgent(s, d, { name: 'busy', processesEveryMs: 1000, processesTop: 2 });
  agents.push(agent);
  const rec = await waitFor(() => s.manager.processHistory.range(agent.id, 0, Infinity).records[0], 20_000, 'a process record');
  const token = readFileSync(join(s.dataDir, 'api-token'), 'utf8').trim();
  const admin = await get(s.apiPort, `/api/agents/busy/processes?at=${rec.at + 20_000}`, { authorization: `Bearer ${token}` });
  assert.is(admin.status, 200);
  const h = admin.body as ProcessHistory;
  assert.is(h.agent, 'busy');
  assert.is(h.asked, rec.at + 20_000);
  assert.is(h.minutes.length, 1);
  assert.is(h.minutes[0]!.at, rec.at, 'the minute it answers with is the one kept nearest');
  assert.equal(h.minutes[0]!.byCpu.map((r) => r.name), ['burner', 'hog'], 'top 2 by CPU');
  assert.equal(h.minutes[0]!.byMem.map((r) => r.name), ['hog', 'burner'], 'top 2 by memory');
  assert.is(h.minutes[0]!.byCpu[0]!.pid, 4242);
  assert.is(h.minutes[0]!.byCpu[0]!.cpuPercent, 97.5);
  assert.is(h.minutes[0]!.byCpu[0]!.command, '/usr/local/bin/burner --really-busy');
  assert.is(h.commands, true);

  await s.dashboard.users.add('vic', 'viewer', 'viewer-password-1');
  const viewer = await get(s.apiPort, `/api/agents/busy/processes?at=${rec.at}`, await viewerSession(s.apiPort));
  assert.is(viewer.status, 200);
  assert.is(viewer.body.commands, false);
  assert.is(viewer.body.minutes[0].byCpu[0].name, 'burner');
  assert.is(viewer.body.minutes[0].byCpu[0].command, null, 'no command line for a viewer');

  const range = await get(s.apiPort, `/api/agents/busy/processes?from=${rec.at - 1}&to=${Date.now()}`, { authorization: `Bearer ${token}` });
  assert.ok(range.body.minutes.length >= 1);
  assert.is(range.body.truncated, false);
  const bad = await get(s.apiPort, '/api/agents/busy/processes?at=yesterday', { authorization: `Bearer ${token}` });
  assert.is(bad.status, 400);
  assert.is(bad.body.error.code, 'BAD_ARGS');
  const both = await get(s.apiPort, `/api/agents/busy/processes?at=1&from=0`, { authorization: `Bearer ${token}` });
  assert.is(both.body.error.code, 'BAD_ARGS');
  const none = await get(s.apiPort, `/api/agents/busy/processes?at=${rec.at - 3600_000}`, { authorization: `Bearer ${token}` });
  assert.equal(none.body.minutes, [], 'nothing within 15 minutes: no minute from elsewhere');

  const iso = new Date(rec.at).toISOString();
  const text = await cli(s.dataDir, ['history', 'busy', '--processes', '--at', iso]);
  assert.is(text.code, 0, text.stderr);
  assert.match(text.stdout, /by CPU/);
  assert.match(text.stdout, /by memory/);
  assert.match(text.stdout, /4242\s+tester\s+97\.5%/);
  assert.match(text.stdout, /burner --really-busy/);
  const json = await cli(s.dataDir, ['history', 'busy', '--processes', '--since', '1h', '--json']);
  assert.is(json.code, 0, json.stderr);
  assert.ok((JSON.parse(json.stdout) as ProcessHistory).minutes.some((m) => m.byCpu[0]?.name === 'burner'));
  const lone = await cli(s.dataDir, ['history', 'busy', '--at', '14:05']);
  assert.is(lone.code === 0, false, 'no --at without --processes');
  assert.match(lone.stderr, /--at goes with --processes/);
}));

test('processes taken while the manager was away arrive with the backfill', timed(90_000, async () => {
  const s = await serveTest();
  const d = drivenDeps();
  d.processes = [proc(1, 'before', 50, 1e6)];
  const agent = await testAgent(s, d, { name: 'away', processesEveryMs: 1000 });
  agents.push(agent);
  await waitFor(() => s.manager.processHistory.range(agent.id, 0, Infinity).records.length > 0, 20_000, 'a first record');
  const { tcpPort, udpPort, dataDir } = s;
  await s.close();
  const downAt = Date.now();
  d.processes = [proc(2, 'while-away', 60, 2e6)];
  // Five samples taken while away (the agent reports and takes processes every second).
  const takenBefore = d.samples;
  await waitFor(() => d.samples >= takenBefore + 5, 20_000, 'five samples while the manager is away');
  d.processes = [proc(3, 'after', 70, 3e6)];
  const backAt = Date.now();
  const s2 = await serveTest({ dataDir, port: tcpPort, udpPort });
  closers.push(s2.close);
  const away = await waitFor(() => {
    const r = s2.manager.processHistory.range(agent.id, downAt, backAt).records.filter((x) => x.byCpu[0]?.name === 'while-away');
    return r.length >= 4 ? r : null;
  }, 40_000, 'the minutes taken while away in the process history');
  for (const r of away) {
    assert.ok(r.at >= downAt && r.at <= backAt);
    assert.is(r.byCpu[0]!.pid, 2);
  }
  // and kept on disk: a fresh read of the file (as after a restart) has them
  assert.ok(s2.manager.processHistory.range(agent.id, 0, Infinity).records.some((r) => r.byCpu[0]?.name === 'before'), 'the minute before the outage is still there');
}));

test('the agent refuses --processes-every under 1 s (but 0) and --processes-top past 50, in one line', () => {
  for (const [flag, value, said] of [['--processes-every', '500ms', /must be 0 or from 1 s to 1 h/], ['--processes-top', '51', /from 1 to 50/], ['--processes-every', 'often', /bad duration/]] as const) {
    const r = spawnSync(process.execPath, [AGENT_JS, '--manager', '127.0.0.1', flag, value], { encoding: 'utf8', timeout: 20_000 });
    assert.is(r.status, 2, r.stderr);
    assert.match(r.stderr, said);
    assert.match(r.stderr, /\[BAD_FLAG\]/);
    assert.is(r.stderr.trim().split('\n').length, 1);
  }
});

test.run();
