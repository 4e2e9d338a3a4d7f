// `top` end to end: the API (command lines to admins only, arguments checked), an agent older than
// `top` refused with AGENT_TOO_OLD, a CPU alert naming the busy process, and `manager top` with the
// built programs against a real manager and agent.
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { LinuxProcesses } from '../../common/collect/procs-linux.ts';
import { tempDir, timed, waitFor } from '../harness.helper.ts';
import { cleanupAfterEach, drivenDeps, serveTest, testAgent } from './inproc.helper.ts';
import { cli, startAgent, startManager, waitOnline } from './procs.helper.ts';
import { sessionHeaders } from './session.helper.ts';

const test = suite('e2e/top');
const { agents, closers } = cleanupAfterEach(test);

/**
 * A process of the test's naming that spins on three threads: on a loaded machine (other test
 * runs, browsers) the scheduler shares the CPU by thread, so three make it stand out.
 */
function busyChild(): ChildProcess {
  const spin = "process.title='hw-busy-test'; const { Worker } = require('node:worker_threads'); for (let i = 0; i < 2; i++) new Worker('for(;;){}', { eval: true }); for(;;){}";
  const c = spawn(process.execPath, ['-e', spin], { stdio: 'ignore' });
  closers.push(() => void c.kill('SIGKILL'));
  return c;
}

/** A /proc of links to the real entries of `pids` only (and the host-wide files top reads). */
function ownProc(pids: number[]): string {
  const root = tempDir('hw-proc-');
  for (const f of ['stat', 'uptime', 'self']) symlinkSync(`/proc/${f}`, join(root, f));
  for (const pid of pids) symlinkSync(`/proc/${pid}`, join(root, String(pid)));
  return root;
}

/** Rows by CPU: the busiest first (a process without a figure yet last). */
function assertBusiestFirst(rows: { cpuPercent: number | null }[]): void {
  const cpu = rows.map((p) => p.cpuPercent ?? -1);
  assert.equal(cpu, [...cpu].sort((a, b) => b - a), 'busiest first');
}

/** A driven agent that lists the real processes of this host (or of `procRoot`). */
function depsWithTop(procRoot?: string) {
  const procs = new LinuxProcesses(procRoot ? { procRoot } : {});
  return Object.assign(drivenDeps(), { topProcesses: (o: { n: number; sort: 'cpu' | 'mem' | 'io' }) => procs.topAsync(o), topProcessesNow: (o: { n: number; sort: 'cpu' | 'mem' | 'io' }) => procs.top(o) });
}

function get(port: number, path: string, headers: Record<string, string>): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, headers }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    }).on('error', reject).end();
  });
}

const viewerSession = (port: number) => sessionHeaders(port, 'vic', 'viewer-password-1');

test('GET top: the busy process among the busiest by CPU, busiest first; command lines to admins only; arguments checked', timed(60_000, async () => {
  const s = await serveTest();
  closers.push(s.close);
  const child = busyChild();
  agents.push(await testAgent(s, depsWithTop(), { name: 'alpha' }));
  await waitFor(() => s.manager.state.agents().some((a) => a.name === 'alpha' && a.online), 15_000, 'alpha online');
  const token = { authorization: `Bearer ${readFileSync(join(s.dataDir, 'api-token'), 'utf8').trim()}` };
  // Found by pid among the busiest (busiest first), not required first: on a loaded machine other
  // processes can be as busy as the child.
  const r = await waitFor(async () => {
    const a = await get(s.apiPort, '/api/agents/alpha/top?sort=cpu&n=100', token);
    assert.is(a.status, 200, JSON.stringify(a.body));
    const mine = a.body.processes.find((p: any) => p.pid === child.pid);
    return mine?.cpuPercent > 0 ? { ...a.body, mine } : null;
  }, 20_000, 'the busy child among the busiest');
  assert.match(r.mine.command, /hw-busy-test/);
  assertBusiestFirst(r.processes);
  assert.is(r.unavailable?.command, undefined);
  const five = await get(s.apiPort, '/api/agents/alpha/top?sort=cpu&n=5', token);
  assert.is(five.body.processes.length, 5);
  await s.dashboard.users.add('vic', 'viewer', 'viewer-password-1');
  const v = await get(s.apiPort, '/api/agents/alpha/top?sort=mem&n=3', await viewerSession(s.apiPort));
  assert.is(v.status, 200);
  assert.is(v.body.processes.length, 3);
  assert.ok(v.body.processes.every((p: any) => p.command === null && typeof p.name === 'string'), 'no command line for a viewer');
  assert.is(v.body.unavailable.command, 'shown to admins only');
  for (const q of ['sort=disk', 'n=0', 'n=101', 'n=2.5', 'color=red']) {
    const bad = await get(s.apiPort, `/api/agents/alpha/top?${q}`, token);
    assert.is(bad.body.error?.code, 'BAD_ARGS', q);
  }
}));

test('an agent that does not name top is refused with AGENT_TOO_OLD, and nothing is sent to it', timed(30_000, async () => {
  const s = await serveTest();
  closers.push(s.close);
  const old = await testAgent(s, { ...drivenDeps(), topProcesses: undefined }, { name: 'old' });
  agents.push(old);
  await waitFor(() => s.manager.state.agents().some((a) => a.name === 'old' && a.online), 15_000, 'old online');
  const token = { authorization: `Bearer ${readFileSync(join(s.dataDir, 'api-token'), 'utf8').trim()}` };
  const r = await get(s.apiPort, '/api/agents/old/top', token);
  assert.is(r.status, 409);
  assert.is(r.body.error.code, 'AGENT_TOO_OLD');
  assert.ok(old.connected, 'still connected');
  assert.is((await get(s.apiPort, '/api/agents/old', token)).body.online, true);
}));

test('a CPU alert carries the busy process in its record', timed(60_000, async () => {
  const s = await serveTest();
  closers.push(s.close);
  const child = busyChild();
  // The agent's host is this test's own processes (real /proc entries): the record names three, and
  // on a loaded machine other processes (browsers, CPU hogs) could all be busier than the child.
  const deps = depsWithTop(ownProc([process.pid, child.pid!]));
  // A `for` of 3 s: the CPU % named is over the time the host was high.
  agents.push(await testAgent(s, deps, { name: 'hot', cpuForS: 3 }));
  await waitFor(() => s.manager.state.agents().some((a) => a.name === 'hot' && a.online), 15_000, 'hot online');
  // Give the child a moment on the CPU, then drive the host's CPU over the threshold.
  await waitFor(() => Number(readFileSync(`/proc/${child.pid}/stat`, 'latin1').split(') ')[1]!.split(' ')[11]) > 20, 10_000, 'child busy');
  deps.cpu = 97;
  const rec = await waitFor(() => s.manager.state.alerts(0).find((a) => a.agent === 'hot' && a.rule === 'cpu_high' && a.state === 'firing'), 15_000, 'cpu alert');
  assert.ok(rec.top && rec.top.length >= 1 && rec.top.length <= 3, JSON.stringify(rec.top));
  assert.ok(rec.top.some((p) => p.pid === child.pid && p.cpuPercent! > 5), `the busy child is named: ${JSON.stringify(rec.top)}`);
  const api = await get(s.apiPort, '/api/alerts', { authorization: `Bearer ${readFileSync(join(s.dataDir, 'api-token'), 'utf8').trim()}` });
  assert.ok(api.body.some((a: any) => a.top?.some((p: any) => p.pid === child.pid)), 'in GET /api/alerts too');
}));

test('manager top: the built programs, a table and --json, the busy process among the busiest', timed(90_000, async () => {
  const m = await startManager();
  const agent = startAgent(m, ['--name', 'tophost']);
  const child = busyChild();
  await waitOnline(m.dataDir, 'tophost', undefined, m, agent);
  const json = await waitFor(async () => {
    const r = await cli(m.dataDir, ['top', 'tophost', '--json', '-n', '100']);
    assert.is(r.code, 0, r.stderr);
    const v = JSON.parse(r.stdout);
    return v.processes.some((p: any) => p.pid === child.pid && p.cpuPercent > 0) ? v : null;
  }, 30_000, 'busy child among the busiest in manager top');
  assertBusiestFirst(json.processes);
  const three = await cli(m.dataDir, ['top', 'tophost', '--json', '-n', '3']);
  assert.is(three.code, 0, three.stderr);
  assert.is(JSON.parse(three.stdout).processes.length, 3);
  const text = await cli(m.dataDir, ['top', 'tophost', '--sort', 'mem', '-n', '5']);
  assert.is(text.code, 0, text.stderr);
  const lines = text.stdout.trim().split('\n');
  assert.match(lines[1]!, /^PID\s+USER\s+NAME\s+CPU%\s+MEM\s+IO\/s\s+STATE\s+STARTED\s+COMMAND$/);
  assert.is(lines.slice(2).filter((l) => /^\d+\s/.test(l)).length, 5);
  const bad = await cli(m.dataDir, ['top', 'tophost', '--sort', 'disk']);
  assert.is(bad.code === 0, false);
  assert.match(bad.stderr, /BAD_ARGS/);
  const many = await cli(m.dataDir, ['top', 'toph*', '-n', '2']);
  assert.is(many.code, 0, many.stderr);
  assert.match(many.stdout, /tophost/);
}));

test.run();
