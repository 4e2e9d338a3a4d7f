// The dashboard under the control API's limits: its event stream outlives the request timeout
// (like the API's follow), the --web HTTPS listener has the API's connection cap with a count of
// its own, and a download started from a signed-in page is cancelled on the agent when the page
// goes away.
import { once } from 'node:events';
import { readdirSync, readFileSync, readlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { UserStore } from '../../common/web/users.ts';
import { tempDir, timed, waitFor } from '../harness.helper.ts';
import { cleanupAfterEach, drivenDeps, readEvents, serveTest, testAgent } from './inproc.helper.ts';

const { agents, closers } = cleanupAfterEach(test);

function get(port: number, path: string, headers: Record<string, string>): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, agent: false }, resolve);
    req.on('error', reject);
    req.end();
  });
}

function holds(file: string): boolean {
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(join('/proc/self/fd', fd)) === file) return true;
    } catch {
      // closed meanwhile
    }
  }
  return false;
}

test('the event stream outlives the request timeout, as follow does, and keeps delivering', timed(30_000, async () => {
  const s = await serveTest({ tuning: { api: { requestTimeoutMs: 300, headersTimeoutMs: 300 } } });
  closers.push(s.close);
  const token = readFileSync(join(s.dataDir, 'api-token'), 'utf8').trim();
  const res = await get(s.apiPort, '/api/web/events', { authorization: `Bearer ${token}` });
  assert.is(res.statusCode, 200);
  let text = '';
  let closed = false;
  res.setEncoding('utf8');
  res.on('data', (d) => { text += d; });
  res.on('close', () => { closed = true; });
  await waitFor(() => text.includes('retry:'), 5000, 'the stream opened');
  // Five request timeouts (and Node's 1 s check of them) go by on an open stream.
  const t0 = Date.now();
  await waitFor(() => closed || Date.now() - t0 > 2000, 10_000, 'time passing');
  assert.not.ok(closed, 'the stream was cut');
  agents.push(await testAgent(s, drivenDeps(), { name: 'late' }));
  await waitFor(() => /event: agents\ndata: .*"late"/.test(text), 10_000, 'the new agent on the stream');
  res.destroy();
}));

test('the HTTPS listener: the API\'s connection cap, counted apart from the API\'s own', timed(30_000, async () => {
  const s = await serveTest({ tuning: { api: { maxConnections: 2 } }, web: { listen: { host: '127.0.0.1', port: 0 } } });
  closers.push(s.close);
  const open: TLSSocket[] = [];
  for (let i = 0; i < 2; i++) {
    const c = tlsConnect({ host: '127.0.0.1', port: s.webPort!, rejectUnauthorized: false });
    c.on('error', () => {});
    c.resume();
    await once(c, 'secureConnect');
    open.push(c);
  }
  const extra = tlsConnect({ host: '127.0.0.1', port: s.webPort!, rejectUnauthorized: false });
  extra.on('error', () => {});
  let answer = '';
  extra.setEncoding('utf8');
  extra.on('data', (d) => { answer += d; });
  await once(extra, 'close');
  assert.match(answer, /^HTTP\/1.1 503/);
  assert.match(answer, /TOO_MANY_CONNECTIONS/);
  assert.match(answer, /the dashboard has 2 connections/);
  // The API's listener still has both of its places.
  const token = readFileSync(join(s.dataDir, 'api-token'), 'utf8').trim();
  const r = await get(s.apiPort, '/api/version', { authorization: `Bearer ${token}` });
  assert.is(r.statusCode, 200);
  r.resume();
  for (const c of open) c.destroy();
}));

test('a download from a signed-in page: closing it cancels the transfer on the agent (CANCELLED, by the web user)', timed(40_000, async () => {
  if (process.platform !== 'linux') return;
  const dataDir = tempDir('hw-web-dl-');
  await new UserStore(dataDir).add('alice', 'admin', 'alice password');
  const s = await serveTest({ dataDir });
  closers.push(s.close);
  const bigDir = tempDir('hw-big-');
  const agent = await testAgent(s, drivenDeps(), { name: 'giver', filesRoots: [bigDir] });
  agents.push(agent);
  await waitFor(() => agent.connected, 10_000, 'connected');
  const big = join(bigDir, 'big.img');
  writeFileSync(big, '');
  truncateSync(big, 4 * 1024 * 1024 * 1024); // costs no disk

  const body = JSON.stringify({ username: 'alice', password: 'alice password' });
  const signIn = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: s.apiPort, method: 'POST', path: '/api/web/sign-in', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, resolve);
    req.on('error', reject);
    req.end(body);
  });
  signIn.resume();
  assert.is(signIn.statusCode, 200);
  const cookie = String([signIn.headers['set-cookie']].flat()[0]).split(';')[0]!;

  const res = await get(s.apiPort, `/api/agents/giver/fetch?path=${encodeURIComponent(big)}`, { cookie });
  assert.is(res.statusCode, 200);
  res.on('error', () => {});
  await waitFor(() => holds(big), 5000, 'the agent (in this process) has the file open');
  res.destroy(); // the tab is closed
  await waitFor(() => !holds(big), 10_000, 'the agent closed the file after the cancel');
  const ev = await waitFor(() => readEvents(s.dataDir).find((e) => e.event === 'command' && e.cmd === 'fetch' && e.ok === false), 5000, 'recorded as failed');
  assert.is(ev.error?.code, 'CANCELLED');
  assert.match(JSON.stringify(ev), /web alice \(127\.0\.0\.1\)/);
}));

test.run();
