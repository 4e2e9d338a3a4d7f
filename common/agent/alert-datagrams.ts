// The agent's side of UDP alerts: each alert sealed with the session's MAC key and sent to the
// manager's UDP port. The manager's acks come back on the same socket, and one removes a queued
// alert only when it comes from the address and port the alerts go to and its MAC verifies with
// the current session's key: nothing an unauthenticated sender does removes an alert.

import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { lookup } from 'node:dns';
import { isIP } from 'node:net';
import { normalizeAddress } from '../net/address.ts';
import { seal, split, verify } from '../security/udp-mac.ts';
import { parseAckDatagram, type AlertMsg } from '../wire/messages.ts';

/** Why an ack datagram was not taken. */
export type AckRefusal = 'not-manager' | 'unsigned' | 'bad-mac' | 'malformed' | 'other-agent';

export class AlertDatagrams {
  private readonly socket: Socket;
  private readonly agentId: string;
  private key: Buffer | undefined;
  /** whether this session's manager seals its acks (its welcome named signed-acks) */
  private signedAcks = false;
  /** where the alerts go: the address the last one was sent to (resolved) and the port */
  private manager: { address?: string; port: number } | undefined;
  private readonly refusals = new Map<AckRefusal, number>();
  private readonly onAck: (seq: number, epoch: string | undefined) => void;
  private readonly log: (line: string) => void;

  constructor(opts: { agentId: string; bind?: string; family: 4 | 6; onAck: (seq: number, epoch: string | undefined) => void; log: (line: string) => void }) {
    this.agentId = opts.agentId;
    this.onAck = opts.onAck;
    this.log = opts.log;
    // The address a manager's host name resolves to is noted as the datagram goes out: the one an
    // ack must come from.
    this.socket = createSocket({
      type: opts.family === 6 ? 'udp6' : 'udp4',
      lookup: (host, o, cb) => lookup(host, o, (err, address, family) => {
        if (!err && this.manager) this.manager.address = normalizeAddress(address);
        cb(err, address, family);
      }),
    });
    this.socket.on('error', (err) => opts.log(`alert socket: ${err.message}`));
    this.socket.on('message', (buf, from) => this.onDatagram(buf, from));
    if (opts.bind) this.socket.bind(0, opts.bind);
  }

  /** The key agreed for this connection, and whether the manager said it seals its acks with it. */
  setKey(key: Buffer, signedAcks: boolean): void {
    this.key = key;
    this.signedAcks = signedAcks;
  }

  /** Ack datagrams refused since start, by reason. */
  refused(): Record<string, number> {
    return Object.fromEntries(this.refusals);
  }

  /** Seals and sends one alert; its epoch travels with it, as on TCP. */
  send(a: AlertMsg, host: string, port: number): void {
    // Without a session key the manager could not check it: TCP delivers it after reconnecting.
    if (!this.key) return;
    if (this.manager?.port !== port || (isIP(host) && this.manager.address !== normalizeAddress(host))) {
      this.manager = { port, ...(isIP(host) ? { address: normalizeAddress(host) } : {}) };
    }
    const { type: _t, ...fields } = a;
    const body = Buffer.from(JSON.stringify({ type: 'alert', agentId: this.agentId, ...fields }));
    this.socket.send(seal(this.key, body), port, host, (err) => {
      if (err) this.log(`alert datagram to ${host}:${port} failed: ${err.message}`);
    });
  }

  close(): void {
    this.socket.close();
  }

  /**
   * An ack is `JSON || HMAC-SHA256(key, JSON)`, like an alert. An unsigned one (a manager older
   * than signed-acks) is never taken: that manager's acks over TCP remove the alert instead.
   */
  private onDatagram(buf: Buffer, from: RemoteInfo): void {
    const m = this.manager;
    if (!m || m.address !== normalizeAddress(from.address) || m.port !== from.port) return this.refuse('not-manager');
    if (!this.signedAcks || !this.key) return this.refuse('unsigned');
    const parts = split(buf);
    if (!parts || !verify(this.key, parts.body, parts.mac)) return this.refuse('bad-mac');
    let ack;
    try {
      ack = parseAckDatagram(parts.body);
    } catch {
      return this.refuse('malformed');
    }
    if (ack.agentId !== this.agentId) return this.refuse('other-agent');
    this.onAck(ack.seq, ack.epoch);
  }

  private refuse(reason: AckRefusal): void {
    this.refusals.set(reason, (this.refusals.get(reason) ?? 0) + 1);
  }
}

export function familyOf(host: string): 4 | 6 {
  return isIP(host) === 6 ? 6 : 4;
}
