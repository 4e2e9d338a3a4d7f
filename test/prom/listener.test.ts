// The --metrics listener on real sockets: /metrics whole and per agent, /sd in Prometheus's HTTP SD
// format, nothing of the control API, and HTTPS with the manager's certificate and a bearer token.
import { get as httpGet } from 'node:http';
import { connect, type Socket } from 'node:net';
import { request } from 'node:https';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ManagerState } from '../../common/manager/state.ts';
import { startMetricsListener, type MetricsListener } from '../../common/prom/listener.ts';
import { loadOrCreateIdentity } from '../../common/security/tls-identity.ts';
import { cleanTempDirs, tempDir, timed, waitFor } from '../harness.helper.ts';

const test = suite('prom/listener');
const open: MetricsListener[] = [];
test.after.each(async () => {
  for (const l of open.splice(0)) await l.close();
});
test.after(() => cleanTempDirs());

function state(): ManagerState {
  const s = new ManagerState();
  const base = { hostname: 'h', address: '10.0.0.1', platform: 'linux', arch: 'x64', version: '0.1.0', interval: 5, restartAllowed: false, filesEnabled: true, fingerprint: 'AA' };
  s.agentUp({ ...base, id: 'id-a', name: 'alpha', trust: 'accepted' });
  s.agentUp({ ...base, id: 'id-b', name: 'beta', trust: 'accepted' });
  s.agentUp({ ...base, id: 'id-p', name: 'pending-one', trust: 'pending' });
  s.agentDown('id-b', 'test');
  return s;
}

test('GET /metrics, /metrics?agent=<id> and /sd; pending agents, other paths and methods refused', timed(10_000, async () => {
  const l = await startMetricsListener({ address: { host: '127.0.0.1', port: 0 }, source: { state: state(), figures: () => ({ agentsOnline: 1 }) } });
  open.push(l);
  const base = `http://127.0.0.1:${l.port}`;
  const all = await (await fetch(`${base}/metrics`)).text();
  assert.match(all, 'hostwatch_agent_up{agent="alpha",agent_id="id-a"} 1\n');
  assert.match(all, 'hostwatch_agent_up{agent="beta",agent_id="id-b"} 0\n');
  assert.not.match(all, 'pending-one');
  const one = await (await fetch(`${base}/metrics?agent=id-b`)).text();
  assert.match(one, 'hostwatch_agent_up{agent="beta",agent_id="id-b"} 0\n');
  assert.not.match(one, 'alpha');
  const sd = await fetch(`${base}/sd`);
  assert.is(sd.headers.get('content-type'), 'application/json');
  assert.equal(await sd.json(), [
    { targets: [`127.0.0.1:${l.port}`], labels: { __metrics_path__: '/metrics', __param_agent: 'id-a', agent: 'alpha', agent_id: 'id-a' } },
    { targets: [`127.0.0.1:${l.port}`], labels: { __metrics_path__: '/metrics', __param_agent: 'id-b', agent: 'beta', agent_id: 'id-b' } },
  ]);
  assert.is((await fetch(`${base}/metrics?agent=id-p`)).status, 404, 'a pending agent is not exposed');
  assert.is((await fetch(`${base}/metrics?agent=nope`)).status, 404);
  assert.is((await fetch(`${base}/api/agents`)).status, 404, 'nothing of the control API');
  const post = await fetch(`${base}/metrics`, { method: 'POST' });
  assert.is(post.status, 405, 'read-only');
  assert.is(post.headers.get('allow'), 'GET');
  // fetch() drops a Host header of its own: a plain request sends it as given.
  const withHost = (path: string, host: string) => new Promise<number>((resolve, reject) => {
    httpGet({ host: '127.0.0.1', port: l.port, path, headers: { host } }, (res) => { res.resume(); resolve(res.statusCode ?? 0); }).on('error', reject);
  });
  assert.is(await withHost('/metrics', 'rebound.example.com'), 403, 'a foreign Host on loopback (DNS rebinding)');
  assert.is(await withHost('/sd', '127.evil.example'), 403);
  assert.is(await withHost('/sd', `localhost:${l.port}`), 200);
  const empty = await startMetricsListener({ address: { host: '127.0.0.1', port: 0 }, source: { state: new ManagerState(), figures: () => ({}) } });
  open.push(empty);
  assert.equal(await (await fetch(`http://127.0.0.1:${empty.port}/sd`)).json(), [], 'always the full list, [] when empty');
}));

function get(port: number, path: string, ca: string, token?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1', port, path, ca, checkServerIdentity: () => undefined, // pinned by `ca`: the manager's self-signed certificate
      headers: token ? { authorization: `Bearer ${token}` } : {},
    }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('off loopback: HTTPS with the manager\'s certificate, and the bearer token or 401', timed(10_000, async () => {
  const tls = await loadOrCreateIdentity(tempDir(), 'manager', 'test-manager');
  const token = 'x'.repeat(43);
  const refused: string[] = [];
  const l = await startMetricsListener({
    address: { host: '127.0.0.1', port: 0 }, secure: true, tls, token, source: { state: state(), figures: () => ({}) },
    onUnauthorized: (a) => refused.push(a),
  });
  open.push(l);
  assert.is(l.secure, true);
  const no = await get(l.port, '/metrics', tls.cert);
  assert.is(no.status, 401);
  assert.match(no.body, 'UNAUTHORIZED');
  assert.is((await get(l.port, '/sd', tls.cert, 'wrong')).status, 401);
  assert.is(refused.length, 1, 'refusals logged once a minute per address');
  const ok = await get(l.port, '/metrics', tls.cert, token);
  assert.is(ok.status, 200);
  assert.match(ok.body, 'hostwatch_agent_up{agent="alpha"');
  try {
    await startMetricsListener({ address: { host: '10.1.2.3', port: 0 }, source: { state: state(), figures: () => ({}) } });
    assert.unreachable('needs TLS and a token off loopback');
  } catch (err) {
    assert.is((err as { code?: string }).code, 'BAD_FLAG');
  }
}));

/** A raw connection and everything it receives until the server closes it. */
function raw(port: number): { socket: Socket; got: () => string; closed: Promise<void> } {
  const socket = connect(port, '127.0.0.1');
  let got = '';
  socket.on('data', (d) => { got += d; });
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  return { socket, got: () => got, closed };
}

test('bounded like the control API: a connection cap (503 TOO_MANY_CONNECTIONS), header and idle timeouts', timed(20_000, async () => {
  const l = await startMetricsListener({
    address: { host: '127.0.0.1', port: 0 }, source: { state: state(), figures: () => ({}) },
    maxConnections: 3, headersTimeoutMs: 1000, idleTimeoutMs: 3000,
  });
  open.push(l);
  const held = [raw(l.port), raw(l.port), raw(l.port)];
  await Promise.all(held.map((h) => new Promise((r) => h.socket.once('connect', r))));
  // The server counts a connection when it accepts it, a moment after the client's connect.
  const count = () => new Promise<number>((r) => l.server.getConnections((_e, n) => r(n)));
  await waitFor(async () => (await count()) >= 3, 5000, 'three connections held');
  const over = raw(l.port);
  await over.closed;
  assert.match(over.got(), /^HTTP\/1\.1 503 /);
  assert.match(over.got(), 'TOO_MANY_CONNECTIONS');
  // The held ones never finish their headers: cut by the header timeout, not left open.
  held[0]!.socket.write('GET /metrics HTTP/1.1\r\nhost: x\r\n');
  await held[0]!.closed;
  // By the header timeout (its 408 answer), not timed: a loaded machine runs timers late.
  assert.match(held[0]!.got(), /^HTTP\/1\.1 408 /);
  for (const h of held) h.socket.destroy();
  await waitFor(async () => (await fetch(`http://127.0.0.1:${l.port}/metrics`)).status === 200, 5000, 'room again once they are gone');
}));

test.run();
