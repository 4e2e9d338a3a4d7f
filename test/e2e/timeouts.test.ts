// Every wait has a timeout and every timeout cleans up on both sides: Ctrl-C of `manager fetch`
// (the .part file removed, the agent's file closed), an API client that stops reading (cut by the
// idle timeout, the transfer cancelled on the agent), the API's connection cap and header
// timeout, a follower that does not read (SLOW_PEER), and the CLI's own timeout (exit 6).
import { once } from 'node:events';
import { readdirSync, readFileSync, readlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { request, createServer, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { spawn } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tempDir, timed, waitFor } from '../harness.helper.ts';
import { cli, MANAGER_JS, startAgent, startManager, waitOnline } from './procs.helper.ts';
import { cleanupAfterEach, drivenDeps, readEvents, serveTest, testAgent } from './inproc.helper.ts';

const { agents, closers } = cleanupAfterEach(test);

/** Whether process `pid` holds `file` open (Linux: /proc/<pid>/fd). */
function holds(pid: number | 'self', file: string): boolean {
  const dir = `/proc/${pid}/fd`;
  for (const fd of readdirSync(dir)) {
    try {
      if (readlinkSync(join(dir, fd)) === file) return true;
    } catch {
      // closed meanwhile
    }
  }
  return false;
}

function sparse(size: number): string {
  const file = join(tempDir('hw-big-'), 'big.img');
  writeFileSync(file, '');
  truncateSync(file, size); // costs no disk
  return file;
}

const linux = process.platform === 'linux';

test('Ctrl-C of `manager fetch`: exit 130, no .part file left, the agent closes the file on the cancel', timed(60_000, async () => {
  if (!linux) return;
  const m = await startManager();
  const big = sparse(8 * 1024 * 1024 * 1024);
  const agent = startAgent(m, ['--name', 'source', '--files-root', dirname(big)]);
  await waitOnline(m.dataDir, 'source', 30_000, agent, m);
  const outDir = tempDir('hw-out-');
  const child = spawn(process.execPath, [MANAGER_JS, 'fetch', 'source', big, join(outDir, 'copy.img'), '--data-dir', m.dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  await waitFor(() => readdirSync(outDir).some((f) => f.includes('.part-')) && holds(agent.child.pid!, big), 20_000, 'transfer under way');
  child.kill('SIGINT');
  assert.is(await exited, 130, stderr);
  assert.match(stderr, /CANCELLED/);
  assert.equal(readdirSync(outDir), [], 'no .part file left');
  // Closed because of the cancel (checked by cause, not timed): the agent would otherwise wait for
  // credit forever, and its connection was never cut (no disconnect recorded), so a cut did not close it.
  await waitFor(() => !holds(agent.child.pid!, big), 10_000, 'the agent closed the file');
  await waitFor(() => readEvents(m.dataDir).some((e) => e.event === 'command' && e.cmd === 'fetch' && e.ok === false && e.error?.code === 'CANCELLED'), 10_000, 'the cancel recorded');
  assert.not.ok(readEvents(m.dataDir).some((e) => e.event === 'disconnect'), 'the agent stayed connected');
  await m.kill();
}));

test('an API client that stops reading a download: cut by the idle timeout, the agent closes the file', timed(30_000, async () => {
  if (!linux) return;
  const s = await serveTest({ tuning: { api: { idleTimeoutMs: 1000 } } });
  closers.push(s.close);
  const big = sparse(4 * 1024 * 1024 * 1024);
  const agent = await testAgent(s, drivenDeps(), { name: 'giver', filesRoots: [dirname(big)] });
  agents.push(agent);
  await waitFor(() => agent.connected, 10_000, 'connected');
  const token = readFileSync(join(s.dataDir, 'api-token'), 'utf8').trim();
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: s.apiPort, path: `/api/agents/giver/fetch?path=${encodeURIComponent(big)}`, headers: { authorization: `Bearer ${token}` } }, resolve);
    req.on('error', reject);
    req.end();
  });
  res.on('error', () => {});
  res.pause(); // reads nothing more: buffers fill, credit stops, then nothing moves
  await waitFor(() => holds('self', big), 5000, 'the agent (in this process) has the file open');
  // (A paused client does not see its socket close: the evidence is on the manager's and the agent's side.)
  await waitFor(() => !holds('self', big), 10_000, 'the agent closed the file after the cancel');
  await waitFor(() => readEvents(s.dataDir).some((e) => e.event === 'command' && e.cmd === 'fetch' && e.ok === false), 5000, 'recorded as failed');
  res.destroy();
}));

test('the API: connection cap answers 503 TOO_MANY_CONNECTIONS; a client that never finishes its headers is cut', timed(20_000, async () => {
  const s = await serveTest({ tuning: { api: { maxConnections: 3, headersTimeoutMs: 500 } } });
  closers.push(s.close);
  const open: Socket[] = [];
  for (let i = 0; i < 3; i++) {
    const c = connect(s.apiPort, '127.0.0.1');
    c.on('error', () => {});
    c.resume(); // reading, so that it sees the server close it
    await once(c, 'connect');
    open.push(c);
  }
  const extra = connect(s.apiPort, '127.0.0.1');
  let answer = '';
  extra.on('data', (d) => { answer += d; });
  await once(extra, 'close');
  assert.match(answer, /^HTTP\/1.1 503/);
  assert.match(answer, /TOO_MANY_CONNECTIONS/);
  // One of the three sends half a request and stops: cut by the header timeout.
  // Cut by that timeout, said by the answer (not timed: the request and idle timeouts, 30 s and
  // 60 s, are past this test's budget).
  let cutAnswer = '';
  open[0]!.on('data', (d) => { cutAnswer += d; });
  open[0]!.write('GET /api/agents HTTP/1.1\r\nhost: x\r\n');
  await once(open[0]!, 'close');
  assert.match(cutAnswer, /^HTTP\/1.1 408/);
  for (const c of open) c.destroy();
}));

test('a follower that does not read is cut with SLOW_PEER; one that reads gets everything', timed(30_000, async () => {
  const s = await serveTest({ tuning: { api: { maxUnsentBytes: 1024 * 1024 } } });
  closers.push(s.close);
  const a = await testAgent(s, drivenDeps(), { name: 'noisy' });
  agents.push(a);
  await waitFor(() => s.manager.state.agents().find((x) => x.name === 'noisy'), 10_000, 'registered');
  const rec = s.manager.state.agents().find((x) => x.name === 'noisy')!;
  const token = readFileSync(join(s.dataDir, 'api-token'), 'utf8').trim();
  const follow = () => new Promise<IncomingMessage>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: s.apiPort, path: '/api/alerts/follow', headers: { authorization: `Bearer ${token}` } }, resolve);
    req.on('error', reject);
    req.end();
  });
  const stuck = await follow();
  stuck.pause();
  stuck.on('error', () => {});
  const reader = await follow();
  let lines = 0;
  let rest = '';
  reader.on('data', (d: Buffer) => {
    rest += d.toString();
    const parts = rest.split('\n');
    rest = parts.pop()!;
    lines += parts.filter(Boolean).length;
  });
  let slow = false;
  s.manager.state.on('event', (e) => { if (e.event === 'protocol-error' && e.proto === 'api' && e.code === 'SLOW_PEER') slow = true; });
  const cut = () => slow;
  let readerClosed = false;
  reader.on('close', () => { readerClosed = true; });
  // Alerts in bulk until the kernel buffers are full and the limit is passed (bounded: 300,000
  // or 15 s, no fsync each), a hundred a millisecond so that the reader keeps up.
  const until = Date.now() + 15_000;
  for (let i = 0; i < 300_000 && Date.now() < until && !cut(); i += 100) {
    for (let j = 0; j < 100; j++) s.manager.state.managerAlert(rec, 'AGENT_UP', i + j, false);
    await new Promise((r) => setTimeout(r, 1));
  }
  // (A paused client does not see its socket close: the evidence is the manager's record.)
  await waitFor(cut, 10_000, 'the non-reader cut with SLOW_PEER');
  stuck.destroy();
  assert.not.ok(readerClosed, 'the follower that reads is not cut');
  const sent = s.manager.state.alerts(0, 1_000_000).at(-1)!.n;
  await waitFor(() => lines >= sent, 10_000, `the reader got all ${sent}`);
  reader.destroy();
}));

test('the CLI gives up on a manager that does not answer: TIMEOUT, exit 6', timed(20_000, async () => {
  const silent = createServer(() => {}); // takes requests, never answers
  silent.listen(0, '127.0.0.1');
  await once(silent, 'listening');
  closers.push(() => new Promise<void>((r) => { silent.closeAllConnections(); silent.close(() => r()); }));
  const dir = tempDir('hw-cli-');
  writeFileSync(join(dir, 'api-token'), 'x'.repeat(43));
  const r = await cli(dir, ['agents', '--api', `127.0.0.1:${(silent.address() as AddressInfo).port}`, '--timeout', '1']);
  assert.is(r.code, 6, r.stderr);
  assert.match(r.stderr, /TIMEOUT/);
  // The --timeout given, said by the message (not timed: a loaded machine starts the CLI slowly).
  assert.match(r.stderr, 'sent nothing for 1 s');
}));

test.run();
