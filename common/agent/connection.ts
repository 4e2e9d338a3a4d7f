// The agent's one connection to a manager: TLS with the manager's certificate checked against the
// pins before anything is sent, hello and welcome, and on any loss a new attempt after a jittered
// backoff, going through the list of managers in turn and staying on the one that last answered.

import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import { hostname as osHostname } from 'node:os';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { HANDSHAKE_TIMEOUT_MS, HEARTBEAT_MS, PROTOCOL_VERSION } from '../wire/constants.ts';
import { VERSION } from '../version.ts';
import { HwError } from '../errors.ts';
import { LogThrottle } from '../util/throttle.ts';
import type { TlsIdentity } from '../security/tls-identity.ts';
import { FEATURES, parseManagerMessage, type AgentMessage, type Hello, type ManagerMessage, type Welcome } from '../wire/messages.ts';
import { Peer } from '../wire/peer.ts';
import { Backoff } from '../util/backoff.ts';
import type { ManagerPins } from './manager-pins.ts';

export interface ManagerAddress {
  host: string;
  port: number;
}

export type Link = Peer<ManagerMessage, AgentMessage>;

export interface ConnectionOptions {
  managers: ManagerAddress[];
  tls: TlsIdentity;
  pins: ManagerPins;
  /** what the hello says about this agent */
  hello: {
    id: string; name: string; interval: number; restartAllowed: boolean; filesEnabled: boolean; enrollToken?: string; labels?: Record<string, string>;
    /** the numbering of the agent's samples (acked-samples) */
    sampleEpoch: string;
    /** names acked-samples (false only to act as an older agent) */
    ackedSamples: boolean;
    /** more features named in the hello (services, containers, upgrade, top) */
    features?: string[];
  };
  /** the version of the rules the agent runs, read at each hello ('' for its own flags) */
  rulesVersion?: () => string;
  bind?: string;
  heartbeatMs?: number;
  backoff?: Backoff;
  log: (line: string) => void;
}

export interface ConnectionEvents {
  /** the manager welcomed us on `peer` */
  welcome: [Link, ManagerAddress, Welcome];
  /** a message after the welcome */
  message: [Link, ManagerMessage];
  /** the welcomed connection is gone */
  lost: [Link, string];
  /** the manager's certificate was refused (MANAGER_CHANGED); retrying goes on */
  rejected: [HwError];
  /** the manager said `bye` before any welcome (an expired enroll token, a rejected key): its reason */
  refused: [ManagerAddress, string];
  /** file data from the manager after the welcome (an upgrade's) */
  data: [Link, number, Buffer[], number];
}

export class ManagerConnection extends EventEmitter<ConnectionEvents> {
  private readonly o: ConnectionOptions;
  private readonly backoff: Backoff;
  private readonly badNoted = new LogThrottle();
  private peer: Link | undefined;
  private welcomed = false;
  private target: ManagerAddress | undefined;
  private next = 0;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private lastDisconnect = '';

  constructor(o: ConnectionOptions) {
    super();
    this.o = o;
    this.backoff = o.backoff ?? new Backoff();
  }

  /** The welcomed connection, if there is one. */
  get link(): Link | undefined {
    return this.welcomed && this.peer && !this.peer.closed ? this.peer : undefined;
  }

  /** The manager being talked to (or tried last); alerts go to its UDP port. */
  get current(): ManagerAddress {
    return this.target ?? this.o.managers[0]!;
  }

  start(): void {
    this.connectNext();
  }

  /** Says bye and closes (waiting at most a second for the manager to close its side). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    const peer = this.peer;
    if (!peer || peer.closed) return;
    peer.post({ type: 'bye', reason: 'agent stopping' });
    peer.end();
    await new Promise<void>((r) => {
      if (peer.closed) return r();
      const t = setTimeout(r, 1000);
      t.unref();
      peer.once('close', () => { clearTimeout(t); r(); });
    });
  }

  private connectNext(): void {
    if (this.stopped) return;
    const target = this.o.managers[this.next % this.o.managers.length]!;
    this.next++;
    this.target = target;
    // The manager's certificate is self-signed: no CA can vouch for it, so it is checked by
    // fingerprint (ManagerPins) before a single byte of ours is sent.
    const socket: TLSSocket = tlsConnect({
      host: target.host, port: target.port, key: this.o.tls.key, cert: this.o.tls.cert, rejectUnauthorized: false,
      minVersion: 'TLSv1.3', ...(isIP(target.host) ? {} : { servername: target.host }),
      ...(this.o.bind ? { localAddress: this.o.bind } : {}),
    });
    // Socket options only once connected: set before, Wine's Windows layer fails the connect.
    socket.once('connect', () => {
      socket.setKeepAlive(true, 30_000);
      socket.setNoDelay(true);
    });
    const peer: Link = new Peer<ManagerMessage, AgentMessage>(socket, {
      parse: parseManagerMessage,
      heartbeatMs: this.o.heartbeatMs ?? HEARTBEAT_MS,
      // A transfer's sends wait on drain already; reading on lets a cancel through while the
      // manager is slow to read (the SLOW_PEER bound still holds).
      pauseReads: false,
      // The pinned manager is trusted: an odd message from it is logged (at most once a minute
      // per code) and dropped rather than worth a reconnect.
      onBadMessage: (err) => {
        const code = (err as HwError).code ?? 'BAD_MESSAGE';
        if (this.badNoted.note(code)) this.o.log(`ignored a bad message from the manager: ${err.message} [${code}]`);
        return this.welcomed && this.peer === peer;
      },
    });
    this.peer = peer;
    this.welcomed = false;
    const handshake = setTimeout(() => peer.fail(new HwError('HANDSHAKE_TIMEOUT', 'no welcome from the manager')), HANDSHAKE_TIMEOUT_MS);
    socket.once('secureConnect', () => this.onSecure(peer, socket, target));
    peer.on('message', (msg) => {
      if (this.peer === peer && this.welcomed) {
        if (msg.type === 'bye') this.lastDisconnect = `manager said: ${msg.reason}`;
        this.emit('message', peer, msg);
        return;
      }
      if (msg.type === 'bye') {
        this.lastDisconnect = `manager refused: ${msg.reason}`;
        // For `agent install`, which waits for this agent: why it will not be welcomed (start.ts).
        this.emit('refused', target, msg.reason);
        return;
      }
      if (msg.type !== 'welcome') {
        peer.fail(new HwError('BAD_MESSAGE', `expected welcome, got ${msg.type}`));
        return;
      }
      clearTimeout(handshake);
      this.welcomed = true;
      this.backoff.reset();
      this.next--; // stay on this manager next time
      peer.setHeartbeat(msg.heartbeatMs);
      this.emit('welcome', peer, target, msg);
    });
    // kind-2 frames from the manager: an upgrade's data (the agent granted credit for it)
    peer.on('data', (id, parts, bytes) => {
      if (this.peer === peer && this.welcomed) this.emit('data', peer, id, parts, bytes);
      else peer.fail(new HwError('BAD_MESSAGE', 'file data before the welcome'));
    });
    peer.on('close', (err) => {
      clearTimeout(handshake);
      const was = this.welcomed && this.peer === peer;
      if (this.peer === peer) {
        this.peer = undefined;
        this.welcomed = false;
      }
      const reason = this.lastDisconnect || (err ? describe(err) : 'closed by the manager');
      this.lastDisconnect = '';
      if (was) {
        this.o.log(`disconnected from ${fmt(target)}: ${reason}`);
        this.emit('lost', peer, reason);
      }
      if (this.stopped) return;
      const delay = this.backoff.next();
      if (!was) this.o.log(`cannot reach manager ${fmt(target)}: ${reason}; retrying in ${(delay / 1000).toFixed(1)} s`);
      this.retryTimer = setTimeout(() => this.connectNext(), delay);
    });
  }

  private onSecure(peer: Link, socket: TLSSocket, target: ManagerAddress): void {
    const fp = socket.getPeerCertificate().fingerprint256 ?? '';
    const { error: bad, pinned } = this.o.pins.check(fmt(target), fp);
    if (pinned) this.o.log(`pinned manager ${fmt(target)} certificate ${fp}`);
    if (bad) {
      this.lastDisconnect = bad.message;
      this.emit('rejected', bad);
      peer.fail(bad);
      return;
    }
    const h = this.o.hello;
    const hello: Hello = {
      type: 'hello', v: PROTOCOL_VERSION, id: h.id, name: h.name, hostname: osHostname(), platform: process.platform,
      arch: process.arch, version: VERSION, interval: h.interval, restartAllowed: h.restartAllowed,
      filesEnabled: h.filesEnabled, ...(h.enrollToken ? { enrollToken: h.enrollToken } : {}),
      ...(this.o.rulesVersion ? { rulesVersion: this.o.rulesVersion() } : {}), ...(h.labels && Object.keys(h.labels).length ? { labels: h.labels } : {}),
      ...(h.ackedSamples ? { features: [FEATURES.signedAcks, FEATURES.ackedSamples, ...(h.features ?? [])], sampleEpoch: h.sampleEpoch } : { features: [FEATURES.signedAcks, ...(h.features ?? [])] }),
    };
    peer.post(hello);
  }
}

export function fmt(a: ManagerAddress): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

function describe(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ECONNREFUSED') return 'connection refused (is the manager running on that port?)';
  // The manager's gate resets what it refuses before TLS: an address outside --allow, and under a
  // burst one past its per-address rate or its connections in handshake (retried with backoff).
  if (code === 'ECONNRESET') return 'connection reset (not in the manager\'s --allow list, or the manager is busy with other connections?)';
  if (code === 'ETIMEDOUT') return 'connection timed out';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host name not found';
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return 'host unreachable';
  if (code === 'EADDRNOTAVAIL') return '--bind address is not on this host';
  return code ? `${code}: ${err.message}` : err.message;
}
