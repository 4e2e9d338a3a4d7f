// The serving manager: accepts agents on TCP (allowlist checked before a byte is read), takes
// alerts on UDP, keeps the state and the record, and runs commands on agents for the console and
// the control API.

import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import {
  DEFAULT_TCP_PORT, DEFAULT_UDP_PORT, HANDSHAKE_TIMEOUT_MS, HEARTBEAT_MS, MAX_DATAGRAM_BYTES, PROTOCOL_VERSION,
} from '../constants.ts';
import { HwError, toWireError } from '../errors.ts';
import { Allowlist, normalizeAddress } from '../security/allowlist.ts';
import {
  parseAgentMessage, parseAlertDatagram, type AgentMessage, type CommandName, type Hello, type ManagerMessage,
} from '../wire/messages.ts';
import { Peer } from '../wire/peer.ts';
import { AgentLink, type FileSink } from './agent-link.ts';
import { EventLog } from './event-log.ts';
import { RefusedLog } from './refused-log.ts';
import { ManagerState, type AgentRecord } from './state.ts';

export interface ManagerOptions {
  host?: string;
  port?: number;
  udpPort?: number;
  allow?: Allowlist;
  dataDir: string;
  heartbeatMs?: number;
  handshakeTimeoutMs?: number;
  /** where human-readable notices go (the console prints them above the prompt) */
  notice?: (line: string) => void;
  now?: () => number;
}

export class Manager {
  readonly state: ManagerState;
  readonly allow: Allowlist;
  private readonly opts: ManagerOptions;
  private readonly links = new Map<string, AgentLink>();
  private readonly sockets = new Set<Socket>();
  private readonly log: EventLog;
  private readonly refused = new RefusedLog();
  private tcp: Server | undefined;
  private udp: UdpSocket | undefined;
  private offlineTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  readonly now: () => number;

  constructor(opts: ManagerOptions) {
    this.opts = opts;
    this.now = opts.now ?? Date.now;
    this.allow = opts.allow ?? Allowlist.parse(undefined);
    mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
    this.log = new EventLog(join(opts.dataDir, 'events.jsonl'));
    this.state = new ManagerState({ log: this.log, now: this.now });
  }

  private notice(line: string): void {
    this.opts.notice?.(line);
  }

  async listen(): Promise<{ tcp: { address: string; port: number }; udp: { address: string; port: number } }> {
    this.state.restore(this.log.readBack());
    this.log.open();
    const host = this.opts.host ?? '0.0.0.0';

    const tcp = createServer({ noDelay: true, pauseOnConnect: true }, (socket) => this.onConnection(socket));
    tcp.on('error', (err) => this.notice(`agent listener error: ${err.message}`));
    this.tcp = tcp;
    tcp.listen(this.opts.port ?? DEFAULT_TCP_PORT, host);
    await listening(tcp, `TCP ${host}:${this.opts.port ?? DEFAULT_TCP_PORT}`, '--port');

    const udp = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4' });
    this.udp = udp;
    udp.on('message', (buf, rinfo) => this.onDatagram(buf, rinfo.address, rinfo.port));
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
      this.refuse(address, 'tcp');
      return;
    }
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.setKeepAlive(true, 30_000);
    const peer = new Peer<AgentMessage, ManagerMessage>(socket, {
      parse: parseAgentMessage,
      heartbeatMs: this.opts.heartbeatMs ?? HEARTBEAT_MS,
      now: this.now,
    });
    let link: AgentLink | undefined;
    const handshake = setTimeout(() => peer.fail(new HwError('HANDSHAKE_TIMEOUT', 'no hello within the handshake timeout')), this.opts.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS);

    peer.on('message', (msg) => {
      if (!link) {
        if (msg.type !== 'hello') {
          peer.fail(new HwError('BAD_MESSAGE', `expected hello, got ${msg.type}`));
          return;
        }
        clearTimeout(handshake);
        link = this.onHello(peer, msg, address);
        return;
      }
      this.onAgentMessage(link, msg);
    });
    peer.on('data', (id, chunk) => link?.onData(id, chunk));
    peer.on('close', (err) => {
      clearTimeout(handshake);
      if (err && !link) {
        const e = toWireError(err);
        this.state.record({ at: this.now(), event: 'protocol-error', address, code: e.code, message: e.message });
      }
      if (!link) return;
      const reason = err ? toWireError(err).code : 'closed';
      link.close(reason);
      if (this.links.get(link.agentId) === link) {
        this.links.delete(link.agentId);
        this.state.agentDown(link.agentId, reason);
        const rec = this.state.agent(link.agentId);
        if (rec && !this.stopping) this.notice(`agent ${rec.name} (${rec.address}) disconnected: ${reason}`);
      }
    });
    socket.resume();
  }

  private onHello(peer: Peer<AgentMessage, ManagerMessage>, hello: Hello, address: string): AgentLink | undefined {
    if (hello.v !== PROTOCOL_VERSION) {
      peer.post({ type: 'bye', reason: `protocol version ${hello.v} is not supported (manager speaks ${PROTOCOL_VERSION})` });
      peer.fail(new HwError('PROTOCOL_VERSION', `agent speaks protocol ${hello.v}`));
      return undefined;
    }
    // A second connection with the same id replaces the first (the agent reconnected before the
    // old socket timed out).
    const old = this.links.get(hello.id);
    if (old) {
      this.links.delete(hello.id);
      old.close('replaced by a new connection');
      old.peer.fail(new HwError('DISCONNECTED', 'replaced by a new connection'));
    }
    const link = new AgentLink(hello.id, peer);
    this.links.set(hello.id, link);
    const rec = this.state.agentUp({
      id: hello.id, name: hello.name, hostname: hello.hostname, address, platform: hello.platform, arch: hello.arch,
      version: hello.version, interval: hello.interval, restartAllowed: hello.restartAllowed, filesEnabled: hello.filesEnabled,
    });
    peer.post({ type: 'welcome', v: PROTOCOL_VERSION, agentId: hello.id, heartbeatMs: this.opts.heartbeatMs ?? HEARTBEAT_MS });
    this.notice(`agent ${rec.name} connected from ${address} (${rec.platform}, id ${rec.id.slice(0, 8)})`);
    return link;
  }

  private onAgentMessage(link: AgentLink, msg: AgentMessage): void {
    this.state.touch(link.agentId);
    if (link.onMessage(msg)) return;
    switch (msg.type) {
      case 'report':
        this.state.report(link.agentId, msg.metrics, msg.interfaces, msg.at);
        return;
      case 'alert':
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

  // ---- UDP -----------------------------------------------------------------------------------

  private onDatagram(buf: Buffer, from: string, port: number): void {
    const address = normalizeAddress(from);
    if (!this.allow.allows(address)) {
      this.refuse(address, 'udp');
      return;
    }
    if (buf.length > MAX_DATAGRAM_BYTES) return;
    let d;
    try {
      d = parseAlertDatagram(buf);
    } catch {
      this.dropped('malformed', address);
      return;
    }
    // Only agents that have completed a TCP hello are known; a datagram for any other id is dropped.
    const rec = this.state.agent(d.agentId);
    if (!rec) {
      this.dropped('unknown-agent', address);
      return;
    }
    this.state.alert(d.agentId, d, 'udp');
    // Ack every copy, new or duplicate, after the event log has it on disk (state.alert flushed).
    this.udp?.send(Buffer.from(JSON.stringify({ type: 'ack', agentId: d.agentId, seq: d.seq })), port, from);
  }

  private readonly droppedCounts = new Map<string, number>();
  private dropped(kind: string, address: string): void {
    this.droppedCounts.set(kind, (this.droppedCounts.get(kind) ?? 0) + 1);
    const n = this.refused.note(`${kind}:${address}`);
    if (n) this.state.record({ at: this.now(), event: 'udp-dropped', reason: kind, address, count: n });
  }

  /** Datagrams dropped since start, by reason. */
  droppedDatagrams(): Record<string, number> {
    return Object.fromEntries(this.droppedCounts);
  }

  private refuse(address: string, proto: 'tcp' | 'udp'): void {
    const n = this.refused.note(`${proto}:${address}`);
    if (!n) return;
    this.state.record({ at: this.now(), event: 'refused', address, proto, count: n });
    this.notice(`refused ${proto.toUpperCase()} from ${address}${n > 1 ? ` (${n} times)` : ''}: not in the allowlist; add it with --allow ${address}`);
  }

  private checkSilent(): void {
    const t = this.now();
    for (const [id, link] of this.links) {
      const rec = this.state.agent(id);
      if (!rec?.lastSeen || !rec.interval) continue;
      const limit = Math.max(rec.interval * 1000 * 3, (this.opts.heartbeatMs ?? HEARTBEAT_MS) * 3);
      if (t - rec.lastSeen > limit) link.peer.fail(new HwError('HEARTBEAT_TIMEOUT', `silent for ${Math.round((t - rec.lastSeen) / 1000)} s`));
    }
  }

  // ---- commands --------------------------------------------------------------------------------

  private linkFor(ref: string): { rec: AgentRecord; link: AgentLink } {
    const rec = this.state.find(ref);
    const link = this.links.get(rec.id);
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
      const result = await link.request(cmd, args);
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
