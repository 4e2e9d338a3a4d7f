// The serving manager: accepts agents on TCP (allowlist checked before a byte is read), takes
// alerts on UDP, keeps the state and the record, and runs commands on agents for the console and
// the control API.

import { randomBytes } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { createSecureContext, TLSSocket, type SecureContext } from 'node:tls';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import {
  BACKOFF_CAP_MS, COMMAND_TIMEOUT_MS, CONNECTS_PER_SECOND, DEFAULT_TCP_PORT, DEFAULT_UDP_PORT, HANDSHAKE_TIMEOUT_MS, HEARTBEAT_MS, MAX_HANDSHAKING,
  PROTOCOL_VERSION,
} from '../constants.ts';
import { HwError, toWireError } from '../errors.ts';
import { Allowlist, normalizeAddress } from '../security/allowlist.ts';
import { RateLimiter } from '../security/rate-limit.ts';
import type { TlsIdentity } from '../security/tls-identity.ts';
import { tokenMatches } from './token.ts';
import {
  parseAgentMessage, type AgentMessage, type CommandName, type Hello, type ManagerMessage,
} from '../wire/messages.ts';
import { Peer } from '../wire/peer.ts';
import { AgentLink, type FileSink } from './agent-link.ts';
import { AlertIntake } from './alert-intake.ts';
import { Enrollment } from './enrollment.ts';
import { migrateOldHistory, OLD_HISTORY_FILE } from '../history/migrate.ts';
import { HistoryStore, type Retention } from '../history/store.ts';
import { EventLog } from './event-log.ts';
import { LogThrottle } from '../log/throttle.ts';
import { ManagerState, type AgentRecord } from './state.ts';

/** Never call an agent down after less silence than this, whatever its interval. */
const MIN_SILENCE_MS = 3000;

export interface ManagerOptions {
  host?: string;
  port?: number;
  udpPort?: number;
  allow?: Allowlist;
  dataDir: string;
  tls: TlsIdentity;
  /** accept every new agent at once (demo, tests) */
  autoAccept?: boolean;
  /** a new agent that presents this token is accepted at once */
  enrollToken?: string;
  heartbeatMs?: number;
  handshakeTimeoutMs?: number;
  maxHandshaking?: number;
  connectsPerSecond?: number;
  /** after a start, how long known agents have to come back before they count as down */
  startGraceMs?: number;
  /** how long each history tier keeps its samples (defaults: common/constants.ts) */
  retention?: Partial<Retention>;
  /** how long a command may take on the agent before TIMEOUT */
  commandTimeoutMs?: number;
  /** where human-readable notices go (the console prints them above the prompt) */
  notice?: (line: string) => void;
  now?: () => number;
}

export class Manager {
  readonly state: ManagerState;
  readonly history: HistoryStore;
  readonly allow: Allowlist;
  private readonly opts: ManagerOptions;
  private readonly links = new Map<string, AgentLink>();
  private readonly sockets = new Set<Socket>();
  private readonly log: EventLog;
  private readonly refused = new LogThrottle();
  readonly enrollment: Enrollment;
  private readonly secureContext: SecureContext;
  private readonly limiter: RateLimiter;
  private handshaking = 0;
  private readonly intake: AlertIntake;
  private readonly fingerprints = new Map<string, string>();
  private tcp: Server | undefined;
  private udp: UdpSocket | undefined;
  private offlineTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private startedAt = 0;
  private readonly loopDelay = monitorEventLoopDelay({ resolution: 20 });
  private lastSweep = 0;
  readonly now: () => number;

  constructor(opts: ManagerOptions) {
    this.opts = opts;
    this.now = opts.now ?? Date.now;
    this.allow = opts.allow ?? Allowlist.parse(undefined);
    mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
    this.log = new EventLog(join(opts.dataDir, 'events.jsonl'));
    this.history = new HistoryStore({ dir: join(opts.dataDir, 'history'), now: this.now, notice: (l) => this.notice(l), ...(opts.retention ? { retention: opts.retention } : {}) });
    this.state = new ManagerState({ log: this.log, now: this.now, history: this.history });
    this.enrollment = new Enrollment(opts.dataDir);
    this.secureContext = createSecureContext({ key: opts.tls.key, cert: opts.tls.cert, minVersion: 'TLSv1.3' });
    this.limiter = new RateLimiter({ rate: opts.connectsPerSecond ?? CONNECTS_PER_SECOND, now: this.now });
    this.intake = new AlertIntake({
      allow: this.allow, state: this.state, throttle: this.refused, now: this.now,
      refuse: (address) => this.refuse(address, 'udp', 'NOT_ALLOWED'),
      reply: (buf, port, address) => this.udp?.send(buf, port, address),
    });
  }

  get fingerprint(): string {
    return this.opts.tls.fingerprint;
  }

  private notice(line: string): void {
    this.opts.notice?.(line);
  }

  async listen(): Promise<{ tcp: { address: string; port: number }; udp: { address: string; port: number } }> {
    this.startedAt = this.now();
    this.loopDelay.enable();
    this.lastSweep = this.startedAt;
    this.state.restore(this.log.readBack());
    // Trust comes from the enrollment file, not from the record: drop what is no longer enrolled.
    for (const rec of this.state.agents(true)) {
      const e = this.enrollment.get(rec.id);
      if (!e) this.state.remove(rec.id);
      else {
        this.state.setTrust(rec.id, e.status);
        rec.fingerprint = e.fingerprint;
      }
    }
    this.log.open();
    migrateOldHistory(join(this.opts.dataDir, OLD_HISTORY_FILE), this.history, (id) => !!this.state.agent(id), (l) => this.notice(l));
    const host = this.opts.host ?? '0.0.0.0';

    const tcp = createServer({ noDelay: true, pauseOnConnect: true }, (socket) => this.onConnection(socket));
    tcp.on('error', (err) => this.notice(`agent listener error: ${err.message}`));
    this.tcp = tcp;
    tcp.listen(this.opts.port ?? DEFAULT_TCP_PORT, host);
    await listening(tcp, `TCP ${host}:${this.opts.port ?? DEFAULT_TCP_PORT}`, '--port');

    const udp = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4' });
    this.udp = udp;
    udp.on('message', (buf, rinfo) => this.intake.onDatagram(buf, rinfo.address, rinfo.port));
    udp.on('error', (err) => this.notice(`alert listener error: ${err.message}`));
    udp.bind(this.opts.udpPort ?? DEFAULT_UDP_PORT, host);
    await listening(udp, `UDP ${host}:${this.opts.udpPort ?? DEFAULT_UDP_PORT}`, '--udp-port');

    // An agent silent for three intervals is offline even if its TCP connection looks open.
    this.offlineTimer = setInterval(() => this.checkSilent(), 1000);
    this.offlineTimer.unref();

    const t = tcp.address() as { address: string; port: number };
    const u = udp.address();
    this.state.record({ at: this.now(), event: 'start', tcp: `${t.address}:${t.port}`, udp: `${u.address}:${u.port}`, allow: this.allow.entries });
    return { tcp: { address: t.address, port: t.port }, udp: { address: u.address, port: u.port } };
  }

  // ---- TCP -----------------------------------------------------------------------------------

  private onConnection(socket: Socket): void {
    const address = normalizeAddress(socket.remoteAddress ?? '');
    if (this.stopping) {
      socket.destroy();
      return;
    }
    if (!this.allow.allows(address)) {
      socket.destroy(); // nothing was read: pauseOnConnect
      this.refuse(address, 'tcp', 'NOT_ALLOWED');
      return;
    }
    if (!this.limiter.take(address)) {
      socket.destroy();
      this.refuse(address, 'tcp', 'RATE_LIMITED');
      return;
    }
    if (this.handshaking >= (this.opts.maxHandshaking ?? MAX_HANDSHAKING)) {
      socket.destroy();
      this.refuse(address, 'tcp', 'TOO_MANY_HANDSHAKES');
      return;
    }
    this.handshaking++;
    let counted = true;
    const handshakeDone = () => {
      if (counted) this.handshaking--;
      counted = false;
    };
    this.sockets.add(socket);
    socket.on('close', () => {
      this.sockets.delete(socket);
      handshakeDone();
    });
    socket.setKeepAlive(true, 30_000);
    socket.on('error', () => {}); // reported through the TLS socket
    const tls = new TLSSocket(socket, { isServer: true, secureContext: this.secureContext, requestCert: true, rejectUnauthorized: false });
    const handshake = setTimeout(() => {
      this.protocolError(address, new HwError('HANDSHAKE_TIMEOUT', 'no TLS handshake and hello within the time allowed'));
      tls.destroy();
    }, this.opts.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS);
    tls.on('error', (err) => {
      if (!tls.getPeerCertificate || !link) this.protocolError(address, new HwError('TLS', `TLS: ${err.message}`));
    });
    tls.on('close', () => clearTimeout(handshake));
    let link: AgentLink | undefined;
    tls.once('secure', () => {
      const cert = tls.getPeerCertificate();
      const fingerprint = cert && 'fingerprint256' in cert ? cert.fingerprint256 : '';
      if (!fingerprint) {
        this.protocolError(address, new HwError('TLS', 'the agent presented no client certificate'));
        tls.destroy();
        return;
      }
      const peer = new Peer<AgentMessage, ManagerMessage>(tls, {
        parse: parseAgentMessage,
        heartbeatMs: this.opts.heartbeatMs ?? HEARTBEAT_MS,
        now: this.now,
        // An accepted agent's odd message is logged and dropped (it may be newer than we are);
        // from anyone else it ends the connection.
        onBadMessage: (err) => {
          const trusted = !!link && this.state.agent(link.agentId)?.trust === 'accepted';
          this.protocolError(address, err, link?.agentId);
          return trusted;
        },
      });
      peer.on('message', (msg) => {
        if (!link) {
          if (msg.type !== 'hello') {
            peer.fail(new HwError('BAD_MESSAGE', `expected hello, got ${msg.type}`));
            return;
          }
          clearTimeout(handshake);
          handshakeDone();
          link = this.onHello(peer, msg, address, fingerprint);
          return;
        }
        this.onAgentMessage(link, msg);
      });
      peer.on('data', (id, chunk) => link?.onData(id, chunk));
      peer.on('close', (err) => {
        clearTimeout(handshake);
        if (err && !link) this.protocolError(address, err);
        if (!link) return;
        const reason = err ? toWireError(err).code : 'closed';
        if (err && (err as HwError).code && (err as HwError).code !== 'HEARTBEAT_TIMEOUT' && (err as HwError).code !== 'DISCONNECTED') {
          this.protocolError(address, err, link.agentId);
        }
        link.close(reason);
        if (this.links.get(link.agentId) === link) {
          this.links.delete(link.agentId);
          this.intake.dropKey(link.agentId);
          this.state.agentDown(link.agentId, reason);
          const rec = this.state.agent(link.agentId);
          if (rec && !this.stopping && rec.trust === 'accepted') this.notice(`agent ${rec.name} (${rec.address}) disconnected: ${reason}`);
        }
      });
    });
    socket.resume();
  }

  private protocolError(address: string, err: Error, agentId?: string): void {
    const e = toWireError(err);
    const n = this.refused.note(`proto:${address}:${e.code}`);
    if (n) this.state.record({ at: this.now(), event: 'protocol-error', address, code: e.code, message: e.message, count: n, ...(agentId ? { agent: { id: agentId } } : {}) });
  }

  private onHello(peer: Peer<AgentMessage, ManagerMessage>, hello: Hello, address: string, fingerprint: string): AgentLink | undefined {
    const refuse = (err: HwError) => {
      peer.post({ type: 'bye', reason: `${err.code}: ${err.message}` });
      this.state.record({ at: this.now(), event: 'refused', address, proto: 'tls', code: err.code, message: err.message, agent: { id: hello.id, name: hello.name }, fingerprint });
      this.notice(`refused agent "${hello.name}" from ${address}: ${err.message}`);
      peer.end();
      return undefined;
    };
    if (hello.v !== PROTOCOL_VERSION) {
      return refuse(new HwError('PROTOCOL_VERSION', `protocol version ${hello.v} is not supported (manager speaks ${PROTOCOL_VERSION})`));
    }
    const token = this.opts.enrollToken;
    const tokenOk = !!token && !!hello.enrollToken && tokenMatches(hello.enrollToken, token);
    let trust;
    try {
      trust = this.enrollment.admit({ id: hello.id, name: hello.name, fingerprint, address }, !!this.opts.autoAccept || tokenOk);
    } catch (err) {
      return refuse(err as HwError);
    }
    // A second connection with the same id (and key) replaces the first: the agent reconnected
    // before the old socket timed out.
    const old = this.links.get(hello.id);
    if (old) {
      this.links.delete(hello.id);
      old.close('replaced by a new connection');
      old.peer.fail(new HwError('DISCONNECTED', 'replaced by a new connection'));
    }
    const link = new AgentLink(hello.id, peer);
    this.links.set(hello.id, link);
    const udpKey = randomBytes(32);
    this.intake.setKey(hello.id, udpKey);
    this.fingerprints.set(hello.id, fingerprint);
    const rec = this.state.agentUp({
      id: hello.id, name: hello.name, hostname: hello.hostname, address, platform: hello.platform, arch: hello.arch,
      version: hello.version, interval: hello.interval, restartAllowed: hello.restartAllowed, filesEnabled: hello.filesEnabled,
      trust, fingerprint,
    });
    peer.post({ type: 'welcome', v: PROTOCOL_VERSION, agentId: hello.id, heartbeatMs: this.opts.heartbeatMs ?? HEARTBEAT_MS, status: trust, udpKey: udpKey.toString('base64') });
    if (trust === 'pending') {
      this.notice(`agent ${rec.name} from ${address} is PENDING (key ${fingerprint.slice(0, 23)}...): accept it with \`manager accept ${rec.name}\``);
    } else {
      this.notice(`agent ${rec.name} connected from ${address} (${rec.platform}, id ${rec.id.slice(0, 8)})`);
    }
    return link;
  }

  /** An administrator accepts a pending agent: it is told at once and starts reporting. */
  accept(ref: string, by = 'api'): AgentRecord {
    const rec = this.state.find(ref, true);
    this.enrollment.accept(rec.id);
    this.state.setTrust(rec.id, 'accepted');
    this.state.record({ at: this.now(), event: 'accept', agent: { id: rec.id, name: rec.name }, fingerprint: rec.fingerprint, by });
    this.links.get(rec.id)?.peer.post({ type: 'accepted' });
    return rec;
  }

  acceptAll(by = 'api'): AgentRecord[] {
    return this.state.agents(true).filter((a) => a.trust === 'pending').map((a) => this.accept(a.id, by));
  }

  /** Forgets an agent and refuses its key from now on; it is disconnected at once. */
  revoke(ref: string, by = 'api'): AgentRecord {
    const rec = this.state.find(ref, true);
    this.enrollment.revoke(rec.id);
    this.state.record({ at: this.now(), event: 'revoke', agent: { id: rec.id, name: rec.name }, fingerprint: rec.fingerprint, by });
    const link = this.links.get(rec.id);
    if (link) {
      link.peer.post({ type: 'bye', reason: 'REVOKED: this agent\'s key was revoked by the administrator' });
      link.peer.end();
    }
    this.state.remove(rec.id);
    this.history.forget(rec.id); // its file stays, should the key be accepted again
    return rec;
  }

  private onAgentMessage(link: AgentLink, msg: AgentMessage): void {
    this.state.touch(link.agentId);
    if (link.onMessage(msg)) return;
    const trusted = this.state.agent(link.agentId)?.trust === 'accepted';
    switch (msg.type) {
      case 'report':
        if (trusted) this.state.report(link.agentId, msg.metrics, msg.interfaces, msg.at, !!msg.backfill, msg.mounts);
        return;
      case 'alert':
        if (!trusted) return; // not acknowledged: the agent keeps it until it is accepted
        this.state.alert(link.agentId, msg, 'tcp');
        link.peer.post({ type: 'ack', seq: msg.seq });
        return;
      case 'bye':
        this.state.record({ at: this.now(), event: 'bye', agent: { id: link.agentId }, reason: msg.reason });
        return;
      case 'hello':
        link.peer.fail(new HwError('BAD_MESSAGE', 'hello sent twice'));
        return;
      default:
        return;
    }
  }

  /** Datagrams dropped since start, by reason. */
  droppedDatagrams(): Record<string, number> {
    return this.intake.dropped();
  }

  /** Counters for /api/stats: what came in since start, who is here, and how late the loop runs. */
  stats(): Record<string, unknown> {
    let online = 0;
    let known = 0;
    for (const a of this.state.all()) {
      if (a.trust !== 'accepted') continue;
      known++;
      if (a.online) online++;
    }
    const ms = (ns: number) => Math.round(ns / 1e4) / 100;
    return {
      startedAt: new Date(this.startedAt).toISOString(), uptimeSeconds: Math.round((this.now() - this.startedAt) / 1000),
      agentsKnown: known, agentsOnline: online, agentsPending: this.state.pending().length, connections: this.sockets.size,
      reportsIngested: this.state.counters.reports, backfilledReports: this.state.counters.backfilled,
      alertsIngested: this.state.counters.alerts, droppedDatagrams: this.intake.dropped(),
      eventLoopDelayMs: { p50: ms(this.loopDelay.percentile(50)), p99: ms(this.loopDelay.percentile(99)), max: ms(this.loopDelay.max) },
      rssBytes: process.memoryUsage.rss(),
      history: { ...this.history.counters, pendingSamples: this.history.pendingSamples(), lastError: this.history.lastError },
    };
  }

  private refuse(address: string, proto: 'tcp' | 'udp', code: 'NOT_ALLOWED' | 'RATE_LIMITED' | 'TOO_MANY_HANDSHAKES'): void {
    const n = this.refused.note(`${proto}:${code}:${address}`);
    if (!n) return;
    this.state.record({ at: this.now(), event: 'refused', address, proto, code, count: n });
    const why = code === 'NOT_ALLOWED' ? `not in the allowlist; add it with --allow ${address}`
      : code === 'RATE_LIMITED' ? 'too many new connections a second from that address'
      : 'too many connections still in their handshake';
    this.notice(`refused ${proto.toUpperCase()} from ${address}${n > 1 ? ` (${n} times)` : ''}: ${why}`);
  }

  /**
   * An agent silent for three intervals is down: its connection (if it still looks open) is
   * dropped and AGENT_DOWN raised once; AGENT_UP follows when it is back. After a manager start,
   * known agents get the backoff cap to come back before they count as down.
   */
  private checkSilent(): void {
    const t = this.now();
    const late = t - this.lastSweep > 2000;
    this.lastSweep = t;
    // A sweep that runs late means this process was stalled, not that agents were silent: their
    // messages are waiting to be read. Judge again on the next round.
    if (late) return;
    let raised = 0;
    for (const rec of this.state.all()) {
      if (rec.down || rec.trust !== 'accepted') continue;
      const limit = Math.max((rec.interval || 5) * 1000 * 3, MIN_SILENCE_MS);
      // Reports and answers count, pings do not: an agent whose sampling hangs (a dead NFS mount)
      // still answers pings, and is exactly what this is for.
      const heard = rec.lastSeen ?? 0;
      const since = Math.max(heard, this.startedAt + (this.opts.startGraceMs ?? BACKOFF_CAP_MS));
      if (t - since <= limit) continue;
      const silent = Math.round((t - (heard || this.startedAt)) / 1000);
      this.links.get(rec.id)?.peer.fail(new HwError('HEARTBEAT_TIMEOUT', `silent for ${silent} s`));
      this.state.managerAlert(rec, 'AGENT_DOWN', silent, false);
      raised++;
      if (raised <= 20) this.notice(`AGENT_DOWN ${rec.name}: silent for ${silent} s`);
    }
    if (raised > 20) this.notice(`AGENT_DOWN for ${raised - 20} more agents (see alerts)`);
    if (raised) this.state.flush();
  }

  // ---- commands --------------------------------------------------------------------------------

  private linkFor(ref: string): { rec: AgentRecord; link: AgentLink } {
    const rec = this.state.find(ref);
    const link = this.links.get(rec.id);
    if (rec.trust !== 'accepted') throw new HwError('PENDING', `agent ${rec.name} is pending: accept it first (manager accept ${rec.name})`);
    if (!link || !rec.online) {
      throw new HwError('AGENT_OFFLINE', `agent ${rec.name} is offline${rec.lastSeen ? ` (last seen ${new Date(rec.lastSeen).toISOString()})` : ''}`);
    }
    return { rec, link };
  }

  /** Runs a command on an agent and records it with its outcome. */
  async command(ref: string, cmd: Exclude<CommandName, 'fetch'>, args: Record<string, unknown> = {}, by = 'api'): Promise<unknown> {
    const { rec, link } = this.linkFor(ref);
    const started = this.now();
    try {
      const result = await link.request(cmd, args, this.opts.commandTimeoutMs ?? COMMAND_TIMEOUT_MS);
      if (cmd === 'restart') this.state.markRestarting(rec.id);
      this.state.record({ at: this.now(), event: 'command', agent: { id: rec.id, name: rec.name }, cmd, args, by, ok: true, ms: this.now() - started });
      return result;
    } catch (err) {
      const e = toWireError(err);
      this.state.record({ at: this.now(), event: 'command', agent: { id: rec.id, name: rec.name }, cmd, args, by, ok: false, error: e, ms: this.now() - started });
      throw err;
    }
  }

  /** Streams a file from an agent into `sink`. */
  async fetch(ref: string, path: string, sink: FileSink, signal?: AbortSignal, by = 'api'): Promise<{ bytes: number; sha256: string }> {
    const { rec, link } = this.linkFor(ref);
    const started = this.now();
    try {
      const r = await link.fetch(path, sink, signal);
      this.state.record({ at: this.now(), event: 'command', agent: { id: rec.id, name: rec.name }, cmd: 'fetch', args: { path }, by, ok: true, bytes: r.bytes, sha256: r.sha256, ms: this.now() - started });
      return r;
    } catch (err) {
      const e = toWireError(err);
      this.state.record({ at: this.now(), event: 'command', agent: { id: rec.id, name: rec.name }, cmd: 'fetch', args: { path }, by, ok: false, error: e, ms: this.now() - started });
      throw err;
    }
  }

  /** Stops accepting, tells agents, flushes the record. */
  async close(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.offlineTimer) clearInterval(this.offlineTimer);
    this.loopDelay.disable();
    this.tcp?.close();
    for (const link of this.links.values()) {
      link.peer.post({ type: 'bye', reason: 'manager stopping' });
      link.peer.end();
    }
    this.udp?.close();
    const deadline = Date.now() + 2000;
    while (this.sockets.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const s of this.sockets) s.destroy();
    for (const id of [...this.links.keys()]) this.state.agentDown(id, 'manager stopping');
    this.links.clear();
    this.state.record({ at: this.now(), event: 'stop' });
    this.log.close();
    this.enrollment.flush();
    this.history.close();
  }
}

async function listening(server: Server | UdpSocket, what: string, flag: string): Promise<void> {
  try {
    await once(server, 'listening');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') throw new HwError('BAD_ADDRESS', `${what} is already in use: another manager running? choose another with ${flag}`);
    if (e.code === 'EACCES') throw new HwError('BAD_ADDRESS', `${what}: permission denied (ports below 1024 need root); choose another with ${flag}`);
    if (e.code === 'EADDRNOTAVAIL') throw new HwError('BAD_ADDRESS', `${what}: no such local address; check --host`);
    throw err;
  }
}
