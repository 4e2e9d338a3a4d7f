// The alert epoch on the wire, against a protocol-level manager of the test's own (TLS, welcome,
// MAC-checked datagrams), so that what the agent sends and which acks it takes are seen exactly:
// every alert carries the epoch of alerts.json over TCP and UDP; an ack for another epoch removes
// nothing; after alerts.json is lost the counter starts again at 1 under a new epoch.

import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tempDir, timed, waitFor } from '../harness.helper.ts';
import { cleanupAfterEach, drivenDeps, testAgent } from './inproc.helper.ts';
import { wireManager as startWireManager, type WireManager } from './wire-manager.helper.ts';

const { agents, closers } = cleanupAfterEach(test);

async function wireManager(opts: { features?: string[] } = {}): Promise<WireManager> {
  const m = await startWireManager(opts);
  closers.push(m.close);
  return m;
}

/** Flips the driven CPU across the threshold and waits for the n-th alert on both paths. */
async function raise(deps: ReturnType<typeof drivenDeps>, m: WireManager, n: number): Promise<void> {
  deps.cpu = deps.cpu! > 50 ? 5 : 95;
  await waitFor(() => m.tcp.length >= n && m.udp.length >= n, 10_000, `alert ${n} over TCP and UDP`);
}

test('every alert carries the epoch over TCP and UDP; acks match on epoch and seq; a reset draws a new epoch and seq 1', timed(40_000, async () => {
  const m = await wireManager();
  const stateDir = tempDir('hw-agent-');
  const deps = drivenDeps();
  const id = `epoch-${Math.random().toString(36).slice(2, 8)}`;
  const a1 = await testAgent(m, deps, { id, name: 'epochs', stateDir, alertRetryMs: 60_000 });
  agents.push(a1);
  await waitFor(() => a1.connected, 10_000, 'connected');
  const e1 = a1.alertEpoch;

  await raise(deps, m, 1);
  assert.equal([m.tcp[0]!.epoch, m.tcp[0]!.seq], [e1, 1]);
  assert.equal([m.udp[0]!.epoch, m.udp[0]!.seq, m.udp[0]!.agentId], [e1, 1, id]);

  // An ack naming another epoch (an old counter's seq 1) must not remove the new alert.
  m.peer()!.post({ type: 'ack', epoch: 'some-other-epoch', seq: 1 });
  m.udpAck({ agentId: id, epoch: 'some-other-epoch', seq: 1 });
  await m.sync();
  assert.is(a1.pendingAlerts(), 1, 'still pending after acks for another epoch');
  m.udpAck({ agentId: id, epoch: e1, seq: 1 });
  await waitFor(() => a1.pendingAlerts() === 0, 5000, 'removed by the UDP ack with its epoch');

  await raise(deps, m, 2);
  assert.equal([m.tcp[1]!.epoch, m.tcp[1]!.seq, m.udp[1]!.epoch], [e1, 2, e1]);
  m.peer()!.post({ type: 'ack', seq: 2 }); // an older manager: no epoch
  await waitFor(() => a1.pendingAlerts() === 0, 5000, 'removed by an ack without epoch');
  await a1.stop();
  agents.splice(agents.indexOf(a1), 1);

  // The state is reset: alerts.json lost. Same agent id, a new epoch, the counter from 1.
  rmSync(join(stateDir, 'alerts.json'));
  const a2 = await testAgent(m, deps, { id, name: 'epochs', stateDir, alertRetryMs: 60_000 });
  agents.push(a2);
  await waitFor(() => a2.connected, 10_000, 'reconnected');
  const e2 = a2.alertEpoch;
  assert.is.not(e2, e1);
  await raise(deps, m, 3);
  assert.equal([m.tcp[2]!.epoch, m.tcp[2]!.seq], [e2, 1], 'seq 1 again, under the new epoch');
  assert.equal([m.udp[2]!.epoch, m.udp[2]!.seq], [e2, 1]);
  m.peer()!.post({ type: 'ack', epoch: e1, seq: 1 }); // the old epoch's seq 1
  await m.sync();
  assert.is(a2.pendingAlerts(), 1, 'the old epoch\'s ack does not remove the new seq 1');
  m.peer()!.post({ type: 'ack', epoch: e2, seq: 1 });
  await waitFor(() => a2.pendingAlerts() === 0, 5000, 'acknowledged in the new epoch');
  // (epoch, seq) never repeated across the reset.
  const keys = m.tcp.map((x) => `${x.epoch}/${x.seq}`);
  assert.is(new Set(keys).size, keys.length);
}));

test('a manager that does not advertise signed acks (older): no UDP ack is taken, its TCP ack is', timed(30_000, async () => {
  const m = await wireManager({ features: [] });
  const deps = drivenDeps();
  const logged: string[] = [];
  const agent = await testAgent(m, deps, { name: 'old-manager', alertRetryMs: 60_000, log: (l) => logged.push(l) });
  agents.push(agent);
  await waitFor(() => agent.connected, 10_000, 'connected');
  assert.ok(logged.some((l) => l.includes('does not sign its UDP acks')), logged.join('\n'));
  await raise(deps, m, 1);
  const ack = { agentId: agent.id, epoch: agent.alertEpoch, seq: 1 };
  m.udpAck(ack, { unsigned: true });
  m.udpAck(ack);
  await waitFor(() => agent.refusedAcks().unsigned === 2, 5000, 'both refused');
  assert.is(agent.pendingAlerts(), 1);
  m.peer()!.post({ type: 'ack', epoch: agent.alertEpoch, seq: 1 });
  await waitFor(() => agent.pendingAlerts() === 0, 5000, 'removed by the TCP ack');
}));

test('unacknowledged alerts replayed after a reconnect keep their epoch', timed(30_000, async () => {
  const m = await wireManager();
  const deps = drivenDeps();
  const agent = await testAgent(m, deps, { name: 'replay', alertRetryMs: 60_000 });
  agents.push(agent);
  await waitFor(() => agent.connected, 10_000, 'connected');
  await raise(deps, m, 1);
  m.peer()!.stream.destroy(); // no ack: it stays queued
  await waitFor(() => m.tcp.length >= 2, 10_000, 'replayed on the new connection');
  assert.equal(m.tcp[1], m.tcp[0]);
  assert.is(m.tcp[1]!.epoch, agent.alertEpoch);
}));

test.run();
