// The route table against a real manager and a real agent: every route with every kind of caller
// (nobody, a viewer, an admin session, the API token), every admin-only route in many spellings of
// its path, and the sign-in flood. What a caller may not do must answer 401, 403, 404 or 405, and
// nothing else: never the route itself under a weaker rule.

import { request } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { controlRoutes } from '../../common/serve/control.ts';
import { AgentDist } from '../../common/install/dist.ts';
import { apiReference } from '../../scripts/docs.run.ts';
import { tempDir, timed, waitFor } from '../harness.helper.ts';
import { cleanupAfterEach, drivenDeps, readEvents, serveTest, testAgent } from './inproc.helper.ts';
import { session } from './session.helper.ts';

const test = suite('e2e/control-plane');
const { agents, closers } = cleanupAfterEach(test);

interface Answer { status: number; code?: string; body: string }

function call(port: number, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: { ...(body !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } : {}), ...headers } }, (res) => {
      const streaming = /ndjson|event-stream|octet-stream/.test(String(res.headers['content-type']));
      const chunks: Buffer[] = [];
      const done = () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let code: string | undefined;
        try {
          code = JSON.parse(text).error?.code;
        } catch {
          // not JSON
        }
        resolve({ status: res.statusCode ?? 0, ...(code ? { code } : {}), body: text });
      };
      if (streaming) {
        // A stream that answers 200 has let the caller in: that is all this test needs to know.
        res.destroy();
        return resolve({ status: res.statusCode ?? 0, body: '' });
      }
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', done);
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}


/** A concrete path for a route's pattern. */
function concrete(path: string): string {
  return path.replace(':agent', 'alpha').replace(':id', 'no-such-silence');
}

const REFUSED = new Set([401, 403, 404, 405]);

test('every route with every kind of caller: who may call it is decided on the route', timed(120_000, async () => {
  const s = await serveTest();
  closers.push(s.close);
  const root = tempDir('hw-files-');
  writeFileSync(join(root, 'secret.txt'), 'the contents');
  const agent = await testAgent(s, drivenDeps(), { name: 'alpha', filesRoots: [root] });
  agents.push(agent);
  await waitFor(() => s.manager.state.agents().some((a) => a.name === 'alpha' && a.online), 15_000, 'alpha online');
  await s.dashboard.users.add('ada', 'admin', 'admin-password-1');
  await s.dashboard.users.add('vic', 'viewer', 'viewer-password-1');
  const token = readFileSync(join(s.dataDir, 'api-token'), 'utf8').trim();
  const admin = await session(s.apiPort, 'ada', 'admin-password-1');
  const viewer = await session(s.apiPort, 'vic', 'viewer-password-1');
  const callers = {
    nobody: {} as Record<string, string>,
    viewer: { cookie: viewer.cookie, 'x-csrf-token': viewer.csrf },
    admin: { cookie: admin.cookie, 'x-csrf-token': admin.csrf },
    token: { authorization: `Bearer ${token}` },
  };
  const routes = controlRoutes({ manager: s.manager, config: s.config, token, dashboard: s.dashboard, install: { dist: new AgentDist(s.dataDir) } }).filter((r) => r.surface !== 'metrics');
  assert.ok(routes.length > 30, `${routes.length} routes`);
  const may = (access: string, who: keyof typeof callers) => access === 'public' || (who !== 'nobody' && (
    access === 'viewer' || (access === 'admin' && who !== 'viewer') || (access === 'token' && who === 'token')));
  // The token may download a file; below, no session may.
  const secret = `/api/agents/alpha/fetch?path=${encodeURIComponent(join(root, 'secret.txt'))}`;
  const fetched = await call(s.apiPort, 'GET', secret, { authorization: `Bearer ${token}` });
  assert.is(fetched.status, 200, fetched.body);
  for (const r of routes) {
    // Nothing here may restart the test host or sign the sessions out halfway through.
    if (r.path.endsWith('/restart') || r.path === '/api/web/sign-out') continue;
    for (const who of Object.keys(callers) as (keyof typeof callers)[]) {
      const path = concrete(r.path) + (r.path.endsWith('/fetch') ? `?path=${encodeURIComponent(join(root, 'secret.txt'))}` : '');
      const a = await call(s.apiPort, r.method, path, callers[who], r.method === 'GET' ? undefined : '{}');
      const label = `${who} ${r.method} ${path} (${r.access}) -> ${a.status} ${a.code ?? ''}`;
      // Who am I answers 401 to a caller without a session: that is its answer, not a refusal.
      if (r.path === '/api/web/me' && (who === 'nobody' || who === 'token')) {
        assert.is(a.code, 'UNAUTHORIZED', label);
      } else if (may(r.access, who)) {
        assert.not.ok(a.code === 'UNAUTHORIZED' || a.code === 'FORBIDDEN' || a.code === 'CSRF_REJECTED', label);
      } else {
        assert.ok(a.status === 401 || a.status === 403, label);
        assert.ok(a.code === 'UNAUTHORIZED' || a.code === 'FORBIDDEN', label);
      }
    }
  }
}));

test('every admin-only route in every spelling: a viewer gets 403 or 404, never the route', timed(120_000, async () => {
  const s = await serveTest();
  closers.push(s.close);
  const root = tempDir('hw-files-');
  writeFileSync(join(root, 'secret.txt'), 'the contents');
  agents.push(await testAgent(s, drivenDeps(), { name: 'alpha', filesRoots: [root] }));
  await waitFor(() => s.manager.state.agents().some((a) => a.name === 'alpha' && a.online), 15_000, 'alpha online');
  await s.dashboard.users.add('vic', 'viewer', 'viewer-password-1');
  const viewer = await session(s.apiPort, 'vic', 'viewer-password-1');
  const headers = { cookie: viewer.cookie, 'x-csrf-token': viewer.csrf };
  const token = readFileSync(join(s.dataDir, 'api-token'), 'utf8').trim();
  const routes = controlRoutes({ manager: s.manager, config: s.config, token, dashboard: s.dashboard, install: { dist: new AgentDist(s.dataDir) } }).filter((r) => r.access === 'admin' || r.access === 'token');
  const spellings = (p: string): string[] => {
    const segs = p.split('/');
    const last = segs[segs.length - 1]!;
    const enc = (x: string) => x.replace(/[a-z]/, (c) => `%${c.charCodeAt(0).toString(16)}`);
    return [
      p, `/${p}`, p.replace('/api/', '/api//'), `${p}/`, `${p}//`, p.replace('/api/', '/API/'), p.replace(/\/([a-z])([a-z-]*)$/, (_m, a: string, b: string) => `/${a.toUpperCase()}${b}`),
      `${segs.slice(0, -1).join('/')}/${enc(last)}`, p.replace('/api/', '/%61pi/'), p.replace('/api/', '/api/./'), p.replace('/api/', '/api/x/../'),
      p.replace(/\/([^/]+)$/, '%2f$1'), p.replace(/\/([^/]+)$/, '%2F$1'), `${p}%00`, `${p};x`, `${p}%20`, `${p}.json`, p.replace('/api/', '/api%2f'),
    ];
  };
  let tried = 0;
  for (const r of routes) {
    const base = concrete(r.path);
    const query = r.path.endsWith('/fetch') ? `?path=${encodeURIComponent(join(root, 'secret.txt'))}` : '';
    for (const spelled of spellings(base)) {
      for (const method of [r.method, 'GET', 'POST']) {
        const a = await call(s.apiPort, method, spelled + query, headers, method === 'GET' ? undefined : '{}');
        tried++;
        const served = !REFUSED.has(a.status) && !(method === 'GET' && a.status === 200 && !(r.method === 'GET' && spelled === base) && isOtherRoute(a));
        // A spelling that lands on a viewer's route (GET /api/agents/alpha for a viewer) is that route, not this one.
        if (spelled === base && method === r.method) {
          assert.ok(a.status === 403, `${method} ${spelled}: ${a.status} ${a.code}`);
          continue;
        }
        assert.not.ok(served && a.body.includes('the contents'), `${method} ${spelled + query} served the file: ${a.status}`);
        assert.ok(REFUSED.has(a.status) || a.status === 200 || a.status === 400, `${method} ${spelled}: ${a.status} ${a.code}`);
        if (a.status === 200) assert.ok(method === 'GET', `${method} ${spelled} answered 200 to a viewer`);
      }
    }
  }
  assert.ok(tried > 500, `${tried} requests`);
  // The record has no command, fetch or reload by the viewer.
  const by = readEvents(s.dataDir).filter((e) => typeof e.by === 'string' && e.by.includes('vic'));
  assert.equal(by, [], 'nothing was done as the viewer');
}));

function isOtherRoute(a: Answer): boolean {
  return !a.body.includes('the contents');
}

test('a burst of wrong passwords: hashes are counted before they run, and capped', timed(60_000, async () => {
  const s = await serveTest();
  closers.push(s.close);
  await s.dashboard.users.add('ada', 'admin', 'admin-password-1');
  const burst = 60;
  const answers = await Promise.all(Array.from({ length: burst }, () => call(s.apiPort, 'POST', '/api/web/sign-in', {}, JSON.stringify({ username: 'ada', password: 'wrong' }))));
  // Refused before any hash: too many attempts, or (past 32) too many connections from one address.
  const limited = answers.filter((a) => a.code === 'RATE_LIMITED' || a.code === 'TOO_MANY_CONNECTIONS').length;
  const refused = answers.filter((a) => a.code === 'BAD_CREDENTIALS').length;
  assert.is(limited + refused, burst, answers.map((a) => a.code ?? a.status).join(' '));
  const token = readFileSync(join(s.dataDir, 'api-token'), 'utf8').trim();
  const stats = JSON.parse((await call(s.apiPort, 'GET', '/api/web/stats', { authorization: `Bearer ${token}` })).body);
  // At most 5 failures per user in the window, and never more than 2 at once for one address.
  assert.ok(stats.signIns.hashes <= 5, `${stats.signIns.hashes} hashes for ${burst} attempts`);
  assert.is(stats.signIns.hashes, refused);
  assert.ok(limited >= burst - 5);
  // One at a time, the user's count runs out after 5 failures in all: then even the right password
  // is refused for a while, so guessing cannot go on.
  for (let i = 0; i < 10; i++) {
    const a = await call(s.apiPort, 'POST', '/api/web/sign-in', {}, JSON.stringify({ username: 'ada', password: 'wrong' }));
    if (a.code === 'RATE_LIMITED') break;
    assert.is(a.code, 'BAD_CREDENTIALS');
  }
  const after = JSON.parse((await call(s.apiPort, 'GET', '/api/web/stats', { authorization: `Bearer ${token}` })).body);
  assert.is(after.signIns.hashes, 5, 'five failures for one user, then no more hashing');
  const right = await call(s.apiPort, 'POST', '/api/web/sign-in', {}, JSON.stringify({ username: 'ada', password: 'admin-password-1' }));
  assert.is(right.code, 'RATE_LIMITED', `${right.status} ${right.body}`);
}));

test('a foreign Host header on the loopback listener is refused (DNS rebinding), with or without the token', timed(30_000, async () => {
  const s = await serveTest();
  closers.push(s.close);
  const token = readFileSync(join(s.dataDir, 'api-token'), 'utf8').trim();
  for (const host of ['rebound.example.com', '127.0.0.1.example.com', '127.evil.example', 'localhost.example']) {
    for (const path of ['/', '/api/agents', '/api/web/me']) {
      const a = await call(s.apiPort, 'GET', path, { host, authorization: `Bearer ${token}` });
      assert.is(a.status, 403, `${host} ${path}`);
      assert.is(a.code, 'FORBIDDEN');
    }
  }
  assert.is((await call(s.apiPort, 'GET', '/api/agents', { host: `localhost:${s.apiPort}`, authorization: `Bearer ${token}` })).status, 200);
  assert.is((await call(s.apiPort, 'GET', '/api/agents', { host: `[::1]:${s.apiPort}`, authorization: `Bearer ${token}` })).status, 200);
}));

test('connections per address are capped: one address cannot take every slot', timed(30_000, async () => {
  const s = await serveTest({ tuning: { api: { maxPerAddress: 4, maxConnections: 50 } } });
  closers.push(s.close);
  const { connect } = await import('node:net');
  const hog = await Promise.all(Array.from({ length: 6 }, () => new Promise<import('node:net').Socket>((resolve) => {
    const c = connect({ host: '127.0.0.1', port: s.apiPort, localAddress: '127.0.0.2' }, () => resolve(c));
    c.on('error', () => {});
    c.resume();
  })));
  const token = readFileSync(join(s.dataDir, 'api-token'), 'utf8').trim();
  // The 5th and 6th from 127.0.0.2 were answered 503 and closed; 127.0.0.1 still gets in.
  await waitFor(() => hog.filter((c) => c.destroyed || c.readableEnded).length === 2, 5000, 'the connections over the cap closed');
  assert.is((await call(s.apiPort, 'GET', '/api/agents', { authorization: `Bearer ${token}` })).status, 200);
  for (const c of hog) c.destroy();
}));

test('docs/api.md is generated from the route table (npm run docs) and matches it', timed(10_000, async () => {
  const want = apiReference();
  const have = readFileSync('docs/api.md', 'utf8');
  assert.fixture(have, want, 'run `npm run docs` to regenerate docs/api.md');
}));

test.run();
