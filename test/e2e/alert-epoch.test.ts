// The alert epoch on the wire, against a protocol-level manager of the test's own (TLS, welcome,
// MAC-checked datagrams), so that what the agent sends and which acks it takes are seen exactly:
// every alert carries the epoch of alerts.json over TCP and UDP; an ack for another epoch removes
// nothing; after alerts.json is lost the counter starts again at 1 under a new epoch.

import { randomBytes } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadOrCreateIdentity } from '../../common/security/tls-identity.ts';
import { split, verify } from '../../common/security/udp-mac.ts';
import {
  parseAgentMessage, parseAlertDatagram, type AgentMessage, type AlertDatagram, type AlertMsg, type ManagerMessage,
} from '../../common/wire/messages.ts';
import { Peer } from '../../common/wire/peer.ts';
import { tempDir, timed, waitFor } from '../harness.helper.ts';
import { cleanupAfterEach, drivenDeps, testAgent } from './inproc.helper.ts';

const { agents, closers } = cleanupAfterEach(test);

interface WireManager {
  tcpPort: number;
  udpPort: number;
  tcp: AlertMsg[];
  udp: (AlertDatagram & { from: RemoteInfo })[];
  peer(): Peer<AgentMessage, ManagerMessage> | undefined;
  /** an ack over UDP to the sender of the last datagram */
  udpAck(ack: { agentId: string; epoch?: string; seq: number }): void;
  /** a round trip on the connection: every message sent before it has been handled */
  sync(): Promise<void>;
}

async function wireManager(): Promise<WireManager> {
  const id = await loadOrCreateIdentity(tempDir('hw-wire-mgr-'), 'manager', 'wire-manager');
  const key = randomBytes(32);
  const m = { tcp: [] as AlertMsg[], udp: [] as (AlertDatagram & { from: RemoteInfo })[] };
  let current: Peer<AgentMessage, ManagerMessage> | undefined;
  let reqId = 0;
  const answers = new Map<number, () => void>();
  const server: Server = createServer({ key: id.key, cert: id.cert, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.3' }, (socket: TLSSocket) => {
    const peer = new Peer<AgentMessage, ManagerMessage>(socket, { parse: parseAgentMessage });
    peer.on('message', (msg) => {
      if (msg.type === 'hello') {
        current = peer;
        peer.post({ type: 'welcome', v: 1, agentId: msg.id, heartbeatMs: 10_000, status: 'accepted', udpKey: key.toString('base64') });
      } else if (msg.type === 'alert') m.tcp.push(msg);
      else if (msg.type === 'res') answers.get(msg.id)?.();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const udp: UdpSocket = createSocket('udp4');
  udp.bind(0, '127.0.0.1');
  await once(udp, 'listening');
  udp.on('message', (buf, from) => {
    const parts = split(buf);
    if (!parts || !verify(key, parts.body, parts.mac)) return;
    m.udp.push({ ...parseAlertDatagram(parts.body), from });
  });
  closers.push(async () => {
    udp.close();
    current?.stream.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return {
    ...m, tcpPort: (server.address() as AddressInfo).port, udpPort: udp.address().port, peer: () => current,
    udpAck(ack) {
      const to = m.udp.at(-1)!.from;
      udp.send(Buffer.from(JSON.stringify({ type: 'ack', ...ack })), to.port, to.address);
    },
    async sync() {
      const rid = ++reqId;
      const done = new Promise<void>((r) => answers.set(rid, r));
      current!.post({ type: 'req', id: rid, cmd: 'procs', args: {} });
      await done;
    },
  };
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
