// The dashboard's HTTPS listener (--web): the manager's certificate, a Secure __Host- cookie, and
// no bearer-token API there (only a signed-in page gets in). Node's own HTTPS client, no browser.

import { request as httpRequest } from 'node:http';
import { request } from 'node:https';
import { X509Certificate } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { UserStore } from '../../common/web/users.ts';
import { cleanTempDirs, tempDir, timed, waitFor } from '../harness.helper.ts';
import { killAll, startManager, type ManagerProc } from './procs.helper.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

let mgr: ManagerProc;
let webPort = 0;
let setupError: unknown;

test.before(async () => {
  try {
    const dir = tempDir('hw-web-tls-');
    await new UserStore(dir).add('alice', 'admin', 'alice password');
    mgr = await startManager(['--web', '127.0.0.1:0'], dir);
    webPort = Number((await waitFor(() => /dashboard\s+https:\/\/127\.0\.0\.1:(\d+)\//.exec(mgr.output()), 10_000, 'the HTTPS dashboard line'))[1]);
  } catch (err) {
    setupError = err;
  }
});

test.after(async () => {
  await killAll();
  cleanTempDirs();
});

interface Res { status: number; headers: Record<string, string | string[] | undefined>; body: string; cert: string }

function call(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: webPort, method, path, headers, rejectUnauthorized: false, agent: false }, (res) => {
      let text = '';
      const peer = (res.socket as import('node:tls').TLSSocket).getPeerX509Certificate();
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, cert: peer?.fingerprint256 ?? '' });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('the page over HTTPS with the manager\'s own certificate', timed(20_000, async () => {
  if (setupError) throw setupError;
  const r = await call('GET', '/');
  assert.is(r.status, 200);
  assert.match(String(r.headers['content-security-policy']), /script-src 'self'/);
  const want = new X509Certificate(readFileSync(join(mgr.dataDir, 'manager-cert.pem'))).fingerprint256;
  assert.is(r.cert, want);
}));

test('sign-in over HTTPS sets a Secure __Host- cookie that works there', timed(20_000, async () => {
  const r = await call('POST', '/api/web/sign-in', { 'content-type': 'application/json' }, JSON.stringify({ username: 'alice', password: 'alice password' }));
  assert.is(r.status, 200, r.body);
  const cookie = String((r.headers['set-cookie'] as string[])[0]);
  assert.match(cookie, /^__Host-hw_session=[^;]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+; Secure$/);
  const agents = await call('GET', '/api/agents', { cookie: cookie.split(';')[0]! });
  assert.is(agents.status, 200);
  assert.equal(JSON.parse(agents.body), []);
  // The plain-HTTP cookie name is not accepted over HTTPS.
  const other = await call('GET', '/api/agents', { cookie: `hw_session=${cookie.split(';')[0]!.split('=')[1]}` });
  assert.is(other.status, 401);
}));

test('the API token is refused on the HTTPS listener', timed(20_000, async () => {
  const token = readFileSync(join(mgr.dataDir, 'api-token'), 'utf8').trim();
  const r = await call('GET', '/api/agents', { authorization: `Bearer ${token}` });
  assert.is(r.status, 401);
  assert.is(JSON.parse(r.body).error.code, 'UNAUTHORIZED');
}));

test('plain HTTP to the HTTPS port gets nothing', timed(20_000, async () => {
  const r = await fetch(`http://127.0.0.1:${webPort}/`).then((x) => x.status).catch(() => 'refused');
  assert.ok(r === 'refused' || r === 400, String(r));
}));

test('on plain HTTP the page answers to loopback names only (no DNS rebinding)', timed(20_000, async () => {
  const get = (host: string) => new Promise<number>((resolve, reject) => {
    httpRequest({ host: '127.0.0.1', port: mgr.apiPort, path: '/', headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject).end();
  });
  assert.is(await get(`127.0.0.1:${mgr.apiPort}`), 200);
  assert.is(await get(`localhost:${mgr.apiPort}`), 200);
  assert.is(await get(`[::1]:${mgr.apiPort}`), 200);
  assert.is(await get(`evil.example:${mgr.apiPort}`), 403);
  assert.is(await get(`127.0.0.1.evil.example`), 403);
}));

test.run();
