// The --metrics listener on real sockets: /metrics whole and per agent, /sd in Prometheus's HTTP SD
// format, nothing of the control API, and HTTPS with the manager's certificate and a bearer token.
import { request } from 'node:https';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ManagerState } from '../../common/manager/state.ts';
import { startMetricsListener, type MetricsListener } from '../../common/prom/listener.ts';
import { loadOrCreateIdentity } from '../../common/security/tls-identity.ts';
import { cleanTempDirs, tempDir, timed } from '../harness.helper.ts';

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
  const l = await startMetricsListener({ address: { host: '127.0.0.1', port: 0 }, source: { state: state(), stats: () => ({ agentsOnline: 1 }) } });
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
  assert.is((await fetch(`${base}/metrics`, { method: 'POST' })).status, 404);
  const empty = await startMetricsListener({ address: { host: '127.0.0.1', port: 0 }, source: { state: new ManagerState(), stats: () => ({}) } });
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
    address: { host: '127.0.0.1', port: 0 }, secure: true, tls, token, source: { state: state(), stats: () => ({}) },
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
    await startMetricsListener({ address: { host: '10.1.2.3', port: 0 }, source: { state: state(), stats: () => ({}) } });
    assert.unreachable('needs TLS and a token off loopback');
  } catch (err) {
    assert.is((err as { code?: string }).code, 'BAD_FLAG');
  }
}));

test.run();
