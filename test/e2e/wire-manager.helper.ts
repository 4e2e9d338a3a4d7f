// A manager of the test's own at the protocol level (TLS with the agent's certificate, hello and
// welcome, MAC-checked alert datagrams), so a test sees exactly what an agent sends and controls
// every ack, credit and cancel.

import { randomBytes } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import { loadOrCreateIdentity } from '../../common/security/tls-identity.ts';
import { seal, split, verify } from '../../common/security/udp-mac.ts';
import {
  FEATURES, parseAgentMessage, parseAlertDatagram, type AgentMessage, type AlertDatagram, type AlertMsg, type ManagerMessage,
} from '../../common/wire/messages.ts';
import { Peer } from '../../common/wire/peer.ts';
import { tempDir } from '../harness.helper.ts';

export interface WireManager {
  tcpPort: number;
  udpPort: number;
  tcp: AlertMsg[];
  udp: (AlertDatagram & { from: RemoteInfo })[];
  peer(): Peer<AgentMessage, ManagerMessage> | undefined;
  /** an ack over UDP to the sender of the last datagram, sealed with the session key unless `unsigned` */
  udpAck(ack: { agentId: string; epoch?: string; seq: number }, opts?: { unsigned?: boolean }): void;
  /** a round trip on the connection: every message sent before it has been handled */
  sync(): Promise<void>;
  /** every message from the agent, in order, and the file data bytes received per request id */
  messages: AgentMessage[];
  dataBytes: Map<number, number>;
  close(): Promise<void>;
}

/** `features`: what the welcome advertises (default: signed acks, as the manager does). */
export async function wireManager(opts: { features?: string[] } = {}): Promise<WireManager> {
  const id = await loadOrCreateIdentity(tempDir('hw-wire-mgr-'), 'manager', 'wire-manager');
  const key = randomBytes(32);
  const m = { tcp: [] as AlertMsg[], udp: [] as (AlertDatagram & { from: RemoteInfo })[], messages: [] as AgentMessage[], dataBytes: new Map<number, number>() };
  let current: Peer<AgentMessage, ManagerMessage> | undefined;
  let reqId = 0;
  const answers = new Map<number, () => void>();
  const server: Server = createServer({ key: id.key, cert: id.cert, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.3' }, (socket: TLSSocket) => {
    const peer = new Peer<AgentMessage, ManagerMessage>(socket, { parse: parseAgentMessage });
    peer.on('data', (rid, data) => m.dataBytes.set(rid, (m.dataBytes.get(rid) ?? 0) + data.length));
    peer.on('message', (msg) => {
      m.messages.push(msg);
      if (msg.type === 'hello') {
        current = peer;
        peer.post({ type: 'welcome', v: 1, agentId: msg.id, heartbeatMs: 10_000, status: 'accepted', udpKey: key.toString('base64'), features: opts.features ?? [FEATURES.signedAcks] });
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
  const close = async () => {
    udp.close();
    current?.stream.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  };
  return {
    ...m, close, tcpPort: (server.address() as AddressInfo).port, udpPort: udp.address().port, peer: () => current,
    udpAck(ack, o = {}) {
      const to = m.udp.at(-1)!.from;
      const body = Buffer.from(JSON.stringify({ type: 'ack', ...ack }));
      udp.send(o.unsigned ? body : seal(key, body), to.port, to.address);
    },
    async sync() {
      const rid = 1_000_000 + ++reqId;
      const done = new Promise<void>((r) => answers.set(rid, r));
      current!.post({ type: 'req', id: rid, cmd: 'procs', args: {} });
      await done;
    },
  };
}
