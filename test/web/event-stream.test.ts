// The event stream against real HTTP clients on loopback: batched agent changes, alerts, a
// rollout's steps, and a client that does not read is cut once its queue passes the bound (the
// others keep getting data).

import { once } from 'node:events';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManagerState } from '../../common/manager/state.ts';
import { Rollouts } from '../../common/manager/upgrade-rollout.ts';
import { UpgradeSender } from '../../common/manager/upgrade-sender.ts';
import { createUpgradeKey, loadPrivateKey, signExecutable } from '../../common/security/upgrade-sign.ts';
import { EventStream } from '../../common/web/event-stream.ts';
import { cleanTempDirs, tempDir, timed, waitFor } from '../harness.helper.ts';

const metrics = { cpuPercent: 12, memPercent: 30, diskPercent: 40, netRxBytes: 1, netTxBytes: 2, uptimeSeconds: 3, processCount: 4 };

test.after(() => cleanTempDirs());

async function setup(maxQueued: number, rollouts?: (state: ManagerState) => Rollouts): Promise<{ state: ManagerState; stream: EventStream; server: Server; port: number }> {
  const state = new ManagerState();
  const stream = new EventStream(state, { flushMs: 20, maxQueued, ...(rollouts ? { rollouts: rollouts(state) } : {}) });
  const server = createServer((_req, res) => stream.open(res, 'test'));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { state, stream, server, port: (server.address() as { port: number }).port };
}

function connect(port: number): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => request({ host: '127.0.0.1', port, path: '/' }, resolve).on('error', reject).end());
}

function addAgent(state: ManagerState, id: string): void {
  state.agentUp({ id, name: id, hostname: id, address: '127.0.0.1', platform: 'linux', arch: 'x64', version: '1', interval: 1, restartAllowed: false, filesEnabled: true, trust: 'accepted', fingerprint: 'f' });
}

test('agent reports are batched into one agents event; alerts are sent as they come', timed(10_000, async () => {
  const { state, stream, server, port } = await setup(1 << 20);
  const res = await connect(port);
  let text = '';
  res.setEncoding('utf8');
  res.on('data', (d) => (text += d));
  await waitFor(() => stream.stats().clients === 1, 2000, 'connected');
  addAgent(state, 'a1');
  addAgent(state, 'a2');
  for (let i = 0; i < 5; i++) state.report('a1', { ...metrics, cpuPercent: i }, [], 1000 + i);
  await waitFor(() => text.includes('event: agents'), 2000, 'agents event');
  const batches = text.split('\n\n').filter((b) => b.startsWith('event: agents'));
  assert.is(batches.length, 1, 'one batch for seven changes');
  const rows = JSON.parse(batches[0]!.split('\ndata: ')[1]!);
  assert.equal(rows.map((r: any) => r.id).sort(), ['a1', 'a2']);
  assert.is(rows.find((r: any) => r.id === 'a1').metrics.cpuPercent, 4, 'the latest report');
  try {
    state.alert('a1', { seq: 1, alert: 'CPU_HIGH', value: 95, threshold: 90, at: 5000 }, 'tcp');
    await waitFor(() => text.includes('event: alert'), 2000, 'alert event');
    assert.match(text, /"type":"CPU_HIGH"/);
  } finally {
    res.destroy();
    stream.close();
    server.close();
  }
}));

test('a client that does not read is cut at the bound; one that reads keeps its stream', timed(20_000, async () => {
  const { state, stream, server, port } = await setup(64 * 1024);
  const serverSockets: import('node:net').Socket[] = [];
  server.on('connection', (sock) => serverSockets.push(sock));
  const slow = await connect(port);
  slow.pause(); // never reads
  const fast = await connect(port);
  let got = 0;
  fast.on('data', (d: Buffer) => (got += d.length));
  await waitFor(() => stream.stats().clients === 2, 2000, 'connected');
  try {
    for (let i = 0; i < 200; i++) addAgent(state, `agent-${i}`);
    // Bounded: at most 2,000 rounds of 200 reports, far more than the kernel buffers hold.
    for (let round = 0; round < 2000 && stream.stats().cut === 0; round++) {
      for (let i = 0; i < 200; i++) state.report(`agent-${i}`, metrics, [], 10_000 + round);
      await new Promise((r) => setTimeout(r, 25));
    }
    assert.is(stream.stats().cut, 1, 'the slow client was cut');
    await waitFor(() => serverSockets.filter((x) => x.destroyed).length === 1, 5000, 'the slow client\'s socket closed');
    assert.is(stream.stats().clients, 1);
    assert.ok(got > 64 * 1024, 'the reading client got its data');
  } finally {
    slow.destroy();
    fast.destroy();
    stream.close();
    server.close();
  }
}));

test('each step of a rollout is an upgrade event with the host and the rollout\'s state, and so is its end', timed(10_000, async () => {
  const dir = tempDir('hw-es-upg-');
  const exe = join(dir, 'agent.mjs');
  writeFileSync(exe, 'process.exit(0);\n');
  await signExecutable(exe, loadPrivateKey(createUpgradeKey(dir).keyFile), { platform: 'linux', arch: 'x64', version: '0.2.0' });
  let rollouts!: Rollouts;
  const { state, stream, server, port } = await setup(1 << 20, (st) => (rollouts = new Rollouts({ dataDir: dir, state: st, link: () => undefined, sender: new UpgradeSender(), now: Date.now, notice: () => {} })));
  addAgent(state, 'a1');
  const res = await connect(port);
  let text = '';
  res.setEncoding('utf8');
  res.on('data', (d) => (text += d));
  try {
    await waitFor(() => stream.stats().clients === 1, 2000, 'connected');
    // a1 is not connected to this manager: its step is `failed` (AGENT_OFFLINE) at once.
    rollouts.start({ targets: [state.agent('a1')!], file: exe, batch: { count: 1 }, maxFailures: 1, by: 'admin' });
    await waitFor(() => text.includes('event: upgrade'), 2000, 'upgrade event');
    const ev = JSON.parse(text.split('\n\n').find((b) => b.startsWith('event: upgrade'))!.split('\ndata: ')[1]!);
    assert.is(ev.host.agentId, 'a1');
    assert.is(ev.host.step, 'failed');
    assert.is(ev.host.error.code, 'AGENT_OFFLINE');
    assert.is(ev.state, 'running');
    await waitFor(() => text.includes('"state":"done"'), 2000, 'the end of the rollout');
  } finally {
    res.destroy();
    stream.close();
    server.close();
  }
}));

test.run();
