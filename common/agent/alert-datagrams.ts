// The agent's side of UDP alerts: each alert sealed with the session's MAC key and sent to the
// manager's UDP port; the manager's acknowledgements come back on the same socket.

import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { seal } from '../security/udp-mac.ts';
import { parseAckDatagram, type AlertMsg } from '../wire/messages.ts';

export class AlertDatagrams {
  private readonly socket: Socket;
  private readonly agentId: string;
  private key: Buffer | undefined;

  constructor(opts: { agentId: string; bind?: string; family: 4 | 6; onAck: (seq: number, epoch: string | undefined) => void; log: (line: string) => void }) {
    this.agentId = opts.agentId;
    this.socket = createSocket({ type: opts.family === 6 ? 'udp6' : 'udp4' });
    this.socket.on('error', (err) => opts.log(`alert socket: ${err.message}`));
    this.socket.on('message', (buf) => {
      try {
        const ack = parseAckDatagram(buf);
        if (ack.agentId === this.agentId) opts.onAck(ack.seq, ack.epoch);
      } catch {
        // not an ack of ours: ignore
      }
    });
    if (opts.bind) this.socket.bind(0, opts.bind);
    this.log = opts.log;
  }

  private readonly log: (line: string) => void;

  /** The key agreed for this connection (from the manager's welcome). */
  setKey(key: Buffer): void {
    this.key = key;
  }

  /** Seals and sends one alert; its epoch travels with it, as on TCP. */
  send(a: AlertMsg, host: string, port: number): void {
    // Without a session key the manager could not check it: TCP delivers it after reconnecting.
    if (!this.key) return;
    const { type: _t, ...fields } = a;
    const body = Buffer.from(JSON.stringify({ type: 'alert', agentId: this.agentId, ...fields }));
    this.socket.send(seal(this.key, body), port, host, (err) => {
      if (err) this.log(`alert datagram to ${host}:${port} failed: ${err.message}`);
    });
  }

  close(): void {
    this.socket.close();
  }
}

export function familyOf(host: string): 4 | 6 {
  return isIP(host) === 6 ? 6 : 4;
}
