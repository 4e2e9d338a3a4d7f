// The serving manager: accepts agents on TCP, takes alerts on UDP, and ties together the parts
// that each do one job: the TCP gate (gate.ts), admission and enrollment (admission.ts), liveness
// (liveness.ts), message routing (router.ts), command dispatch (dispatch.ts) and the audit of who
// did what (audit.ts), around the state (state.ts) that the console and the API read.

import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { constants as cryptoConstants, randomBytes } from 'node:crypto';
import { createSecureContext, TLSSocket, type SecureContext } from 'node:tls';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { DEFAULT_LOG_MAX_BYTES, EventLog, type StorageStatus } from './event-log.ts';
import { DEFAULT_TCP_PORT, DEFAULT_UDP_PORT, HANDSHAKE_TIMEOUT_MS, HEARTBEAT_MS, PROTOCOL_VERSION } from '../wire/constants.ts';
import { SILENT_INTERVALS, Liveness } from './liveness.ts';
import { HwError, toWireError } from '../errors.ts';
import type { HostPort } from '../net/address.ts';
import { listenError } from '../net/listen-error.ts';
import { Allowlist } from '../security/allowlist.ts';
import type { TlsIdentity } from '../security/tls-identity.ts';
import {
  FEATURES, parseAgentMessage, type AgentMessage, type CommandName, type Hello, type ManagerMessage, type SamplesLost,
} from '../wire/messages.ts';
import { Peer } from '../wire/peer.ts';
import type { RejectSelection, Stats } from '../api/types.ts';
import { Admission } from './admission.ts';
import { AgentLink, type FileSink } from './agent-link.ts';
import { AlertIntake } from './alert-intake.ts';
import { Audit } from './audit.ts';
import { Dispatch } from './dispatch.ts';
import { TcpGate } from './gate.ts';
import { Router } from './router.ts';
import { Rollouts } from './upgrade-rollout.ts';
import { UpgradeSender } from './upgrade-sender.ts';
import { upgradeKeyOffer } from './upgrade-offer.ts';
import { RulesHub } from './rules-hub.ts';
import { Silences, type Silence } from './silences.ts';
import type { RulesConfig } from '../rules/config.ts';
import type { LabelAssign } from '../rules/labels.ts';
import { migrateOldHistory, OLD_HISTORY_FILE } from '../history/migrate.ts';
import { HistoryStore, type Retention } from '../history/store.ts';
import { ProcessLog } from '../history/process-log.ts';
import { ContainerLog } from '../history/container-log.ts';
import { ManagerState, type AgentRecord } from './state.ts';
import { SampleAcks } from './sample-acks.ts';
import { FoldedRuns } from './folded-runs.ts';
import { inert } from '../util/inert.ts';

export interface ManagerOptions {
  host?: string;
  port?: number;
  udpPort?: number;
  allow?: Allowlist;
  dataDir: string;
  /** how long an upgraded agent has to come back on the new version (default 120 s) */
  upgradeWaitMs?: number;
  tls: TlsIdentity;
  /** accept every new agent at once (demo, tests) */
  autoAccept?: boolean;
  /** a new agent that presents this token is accepted at once */
  enrollToken?: string;
  heartbeatMs?: number;
  handshakeTimeoutMs?: number;
  maxHandshaking?: number;
  /** connections from one address (IPv6 /64) in their handshake at once (default: gate.ts) */
  maxHandshakingPerAddress?: number;
  connectsPerSecond?: number;
  /** pending keys in all and from one address, and how long one waits (defaults: enrollment.ts) */
  maxPending?: number;
  maxPendingPerAddress?: number;
  pendingTtlMs?: number;
  /** after a start, how long known agents have to come back before they count as down */
  startGraceMs?: number;
  /** how long each history tier keeps its samples (defaults: common/history/store.ts) */
  retention?: Partial<Retention>;
  /** how long a command may take on the agent before TIMEOUT */
  commandTimeoutMs?: number;
  /** events.jsonl is rotated past this size (--log-max-bytes) */
  logMaxBytes?: number;
  /** the config's rules, sent to the agents (none: each agent runs its own --cpu-threshold) */
  rules?: RulesConfig;
  /** the config's `labels:` */
  labels?: LabelAssign[];
  /** where human-readable notices go (the console prints them above the prompt) */
  notice?: (line: string) => void;
  now?: () => number;
}

/**
 * The manager's own figures: /api/stats without its JSON shaping (times here in ms since the epoch)
 * and without the process's memory, which the API adds.
 */
export type ManagerFigures = Omit<Stats, 'startedAt' | 'uptimeSeconds' | 'storage' | 'rssBytes' | 'heapUsedBytes' | 'heapTotalBytes' | 'externalBytes' | 'arrayBuffersBytes' | 'notify'> & {
  startedAt: number;
  now: number;
  storage: Omit<Stats['storage'], 'failingSince'> & { failingSince: number | null };
};

export class Manager {
  readonly state: ManagerState;
  readonly history: HistoryStore;
  /** the top processes reports carry, a record a minute per agent */
  readonly processHistory: ProcessLog;
  /** the containers' usage samples carry, a record every --containers-every per agent, for the raw tier's retention at least */
  readonly containerHistory: ContainerLog;
  readonly allow: Allowlist;
  readonly now: () => number;
  private readonly opts: ManagerOptions;
  private readonly links = new Map<string, AgentLink>();
  private readonly sockets = new Set<Socket>();
  private readonly log: EventLog;
  private readonly audit: Audit;
  private readonly gate: TcpGate;
  private readonly admission: Admission;
  private readonly liveness: Liveness;
  private readonly router: Router;
  private readonly sampleAcks: SampleAcks;
  /** samples lost since start: told by agents (their spool's bound) and dropped here (an older agent's) */
  private readonly lostSamples = { byAgents: 0, byManager: 0 };
  private readonly dispatch: Dispatch;
  private readonly intake: AlertIntake;
  private readonly rulesHub: RulesHub;
  readonly silences: Silences;
  /** upgrades sent to agents, and the last rollout */
  readonly upgrades: Rollouts;
  private readonly upgradeSender = new UpgradeSender();
  private readonly upgradeKey: () => string | undefined;
  private readonly secureContext: SecureContext;
  /** one options object for every connection (each TLSSocket keeps the one it was given) */
  private readonly tlsOptions: ConstructorParameters<typeof TLSSocket>[1];
  private tcp: Server | undefined;
  private udp: UdpSocket | undefined;
  private livenessTimer: NodeJS.Timeout | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private startedAt = 0;
  private readonly loopDelay = monitorEventLoopDelay({ resolution: 20 });

  constructor(opts: ManagerOptions) {
    this.opts = opts;
    this.now = opts.now ?? Date.now;
    this.allow = opts.allow ?? Allowlist.parse(undefined);
    mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
    this.log = new EventLog(join(opts.dataDir, 'events.jsonl'), {
      maxBytes: opts.logMaxBytes ?? DEFAULT_LOG_MAX_BYTES, now: this.now,
      onStorage: (s, what) => this.onLogStorage(s, what),
    });
    this.history = new HistoryStore({
      dir: join(opts.dataDir, 'history'), now: this.now, notice: (l) => this.notice(l), ...(opts.retention ? { retention: opts.retention } : {}),
      onWritten: (id, seqs, folded) => this.sampleAcks.written(id, seqs, folded),
      onDropped: (id, count, reason) => this.samplesDropped(id, count, reason),
    });
    this.processHistory = new ProcessLog({ dir: join(opts.dataDir, 'history'), now: this.now, notice: (l) => this.notice(l) });
    this.containerHistory = new ContainerLog({ dir: join(opts.dataDir, 'history'), retentionMs: this.history.retention.rawMs, now: this.now, notice: (l) => this.notice(l) });
    this.sampleAcks = new SampleAcks({
      post: (id, msg) => {
        const link = this.links.get(id);
        if (link?.ackedSamples) link.peer.post(msg);
      },
      pending: () => this.history.pendingSamples(),
      now: this.now,
      folded: new FoldedRuns(join(opts.dataDir, 'history', 'folded')),
      notice: (l) => this.notice(l),
    });
    this.state = new ManagerState({ log: this.log, now: this.now, history: this.history });
    this.silences = new Silences({ dataDir: opts.dataDir, now: this.now });
    this.state.silences = this.silences;
    this.audit = new Audit({ state: this.state, now: this.now, notice: (l) => this.notice(l) });
    this.gate = new TcpGate({
      allow: this.allow, audit: this.audit, now: this.now,
      ...(opts.connectsPerSecond !== undefined ? { connectsPerSecond: opts.connectsPerSecond } : {}),
      ...(opts.maxHandshaking !== undefined ? { maxHandshaking: opts.maxHandshaking } : {}),
      ...(opts.maxHandshakingPerAddress !== undefined ? { maxHandshakingPerAddress: opts.maxHandshakingPerAddress } : {}),
    });
    this.admission = new Admission({
      dataDir: opts.dataDir, state: this.state, audit: this.audit, now: this.now, autoAccept: !!opts.autoAccept,
      ...(opts.enrollToken ? { enrollToken: opts.enrollToken } : {}),
      limits: {
        ...(opts.maxPending !== undefined ? { maxPending: opts.maxPending } : {}),
        ...(opts.maxPendingPerAddress !== undefined ? { maxPendingPerAddress: opts.maxPendingPerAddress } : {}),
        ...(opts.pendingTtlMs !== undefined ? { pendingTtlMs: opts.pendingTtlMs } : {}),
      },
      disconnect: (id, reason) => this.sayBye(id, reason),
      onStorage: (error) => this.notice(error
        ? `cannot save agents.json (${error}): enrollment changes are kept in memory and saved when the disk takes them`
        : 'agents.json saved again'),
    });
    this.liveness = new Liveness({ now: this.now, ...(opts.startGraceMs !== undefined ? { startGraceMs: opts.startGraceMs } : {}) });
    this.router = new Router({ state: this.state, now: this.now, acks: this.sampleAcks, lost: (id, msg) => this.samplesLost(id, msg),
      processes: (id, at, p) => this.processHistory.write(id, at, p),
      containers: (id, at, c) => this.containerHistory.write(id, at, c),
    });
    this.upgrades = new Rollouts({
      dataDir: opts.dataDir, state: this.state, link: (id) => this.links.get(id), sender: this.upgradeSender, now: this.now, notice: (l) => this.notice(l),
      ...(opts.upgradeWaitMs !== undefined ? { waitMs: opts.upgradeWaitMs } : {}),
    });
    this.upgradeKey = upgradeKeyOffer(opts.dataDir);
    this.rulesHub = new RulesHub({ liveness: this.liveness, defaultSilentIntervals: SILENT_INTERVALS });
    this.rulesHub.set(opts.rules, []);
    this.dispatch = new Dispatch({
      state: this.state, audit: this.audit, links: this.links, now: this.now,
      ...(opts.commandTimeoutMs ? { commandTimeoutMs: opts.commandTimeoutMs } : {}),
    });
    // No session tickets: agents never resume (each connect is a full handshake, checked by
    // fingerprint), and the two tickets OpenSSL issues after every handshake kept about 15 KiB per
    // connection alive (measured on a bare Node TLS server, a record a second per connection: 54
    // against 38 KiB per connection).
    this.secureContext = createSecureContext({ key: opts.tls.key, cert: opts.tls.cert, minVersion: 'TLSv1.3', secureOptions: cryptoConstants.SSL_OP_NO_TICKET });
    this.tlsOptions = { isServer: true, secureContext: this.secureContext, requestCert: true, rejectUnauthorized: false };
    this.intake = new AlertIntake({
      allow: this.allow, state: this.state, throttle: this.audit.throttle, now: this.now,
      refuse: (address) => this.audit.refused(address, 'udp', 'NOT_ALLOWED'),
      reply: (buf, port, address) => this.udp?.send(buf, port, address),
    });
  }

  get fingerprint(): string {
    return this.opts.tls.fingerprint;
  }

  /** The enrolled agents' keys (agents.json). */
  get enrollment(): Admission['enrollment'] {
    return this.admission.enrollment;
  }

  /** The one-use install tokens (install-tokens.json). */
  get installTokens(): Admission['installTokens'] {
    return this.admission.installTokens;
  }

  private notice(line: string): void {
    this.opts.notice?.(line);
  }

  private onLogStorage(s: StorageStatus, what: 'failing' | 'recovered'): void {
    if (what === 'failing') {
      this.notice(`STORAGE: cannot write ${this.log.path} (${s.error}): serving from memory, alerts are shown but not acknowledged until the disk takes them; retrying`);
      // Held like the rest, so the record says when it started once it can be written.
      this.state.record({ at: this.now(), event: 'storage', state: 'failing', error: s.error });
      return;
    }
    const secs = Math.round((this.now() - (s.failingSince ?? this.now())) / 1000);
    this.notice(`STORAGE: ${this.log.path} is written again after ${secs} s; ${s.heldRecords} held records written`);
    this.state.record({
      at: this.now(), event: 'storage', state: 'recovered', error: s.error, failingSince: s.failingSince, heldRecords: s.heldRecords,
      droppedRecords: s.droppedRecords,
    }, true);
    this.router.ackRecorded(this.links);
  }

  /** An agent dropped samples (its spool's bound, a failing disk): logged, counted, recorded. */
  private samplesLost(agentId: string, msg: SamplesLost): void {
    this.lostSamples.byAgents += msg.count;
    const rec = this.state.agent(agentId);
    const span = msg.firstAt !== undefined && msg.lastAt !== undefined ? ` taken ${new Date(msg.firstAt).toISOString()} to ${new Date(msg.lastAt).toISOString()}` : '';
    this.notice(`agent ${inert(rec?.name ?? agentId)} dropped ${msg.count} samples${span} (${msg.reason}): they are not in its history`);
    this.state.samplesLost(agentId, msg.count, msg.reason, {
      by: 'agent', ...(msg.firstAt !== undefined ? { firstAt: msg.firstAt } : {}), ...(msg.lastAt !== undefined ? { lastAt: msg.lastAt } : {}),
    });
  }

  /** The history dropped samples: an older agent's past its bound (it cannot resend), or too old for any tier. */
  private samplesDropped(agentId: string, count: number, reason: string): void {
    this.lostSamples.byManager += count;
    this.state.samplesLost(agentId, count, reason, { by: 'manager' });
  }

  async listen(): Promise<{ tcp: { address: string; port: number }; udp: { address: string; port: number } }> {
    this.startedAt = this.now();
    this.loopDelay.enable();
    // The registry is the enrolled agents; the record only adds alerts and details to them.
    this.admission.registerAll();
    this.state.setLabelAssigns(this.opts.labels);
    this.state.restore(this.log.readBack());
    this.log.open();
    migrateOldHistory(join(this.opts.dataDir, OLD_HISTORY_FILE), this.history, (id) => !!this.state.agent(id), (l) => this.notice(l));
    const host = this.opts.host ?? '0.0.0.0';

    const tcp = createServer({ noDelay: true, pauseOnConnect: true }, (socket) => this.onConnection(socket));
    tcp.on('error', (err) => this.notice(`agent listener error: ${err.message}`));
    this.tcp = tcp;
    tcp.listen(this.opts.port ?? DEFAULT_TCP_PORT, host);
    await listening(tcp, 'the agents\' TCP port', { host, port: this.opts.port ?? DEFAULT_TCP_PORT }, '--port');

    const udp = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4' });
    this.udp = udp;
    udp.on('message', (buf, rinfo) => this.intake.onDatagram(buf, rinfo.address, rinfo.port));
    udp.on('error', (err) => this.notice(`alert listener error: ${err.message}`));
    udp.bind(this.opts.udpPort ?? DEFAULT_UDP_PORT, host);
    await listening(udp, 'the alerts\' UDP port', { host, port: this.opts.udpPort ?? DEFAULT_UDP_PORT }, '--udp-port');

    this.liveness.start(this.startedAt);
    this.livenessTimer = setInterval(() => this.checkSilent(), this.liveness.sweepMs);
    this.livenessTimer.unref();
    // Pending keys expire within a minute of their time (or a tenth of it, for short ones).
    this.admission.expire();
    this.expiryTimer = setInterval(() => this.admission.expire(), Math.max(100, Math.min(60_000, this.admission.enrollment.pendingTtlMs / 10)));
    this.expiryTimer.unref();

    const t = tcp.address() as { address: string; port: number };
    const u = udp.address();
    this.state.record({ at: this.now(), event: 'start', tcp: `${t.address}:${t.port}`, udp: `${u.address}:${u.port}`, allow: this.allow.entries });
    return { tcp: { address: t.address, port: t.port }, udp: { address: u.address, port: u.port } };
  }

  // ---- TCP: handshake, then hello -------------------------------------------------------------

  private onConnection(socket: Socket): void {
    if (this.stopping) {
      socket.destroy();
      return;
    }
    const admitted = this.gate.admit(socket); // nothing read yet: pauseOnConnect
    if (!admitted) return;
    const { address, release } = admitted;
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.setKeepAlive(true, 30_000);
    socket.on('error', () => {}); // reported through the TLS socket
    const tls = new TLSSocket(socket, this.tlsOptions);
    const handshake = setTimeout(() => {
      this.audit.protocolError(address, new HwError('HANDSHAKE_TIMEOUT', 'no TLS handshake and hello within the time allowed'));
      tls.destroy();
    }, this.opts.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS);
    let link: AgentLink | undefined;
    let peer: Peer<AgentMessage, ManagerMessage> | undefined;
    tls.on('error', (err) => {
      if (!peer) this.audit.protocolError(address, new HwError('TLS', `TLS: ${err.message}`));
    });
    tls.on('close', () => clearTimeout(handshake));
    tls.once('secure', () => {
      const cert = tls.getPeerCertificate();
      const fingerprint = cert && 'fingerprint256' in cert ? cert.fingerprint256 : '';
      if (!fingerprint) {
        this.audit.protocolError(address, new HwError('TLS', 'the agent presented no client certificate'));
        tls.destroy();
        return;
      }
      const p = new Peer<AgentMessage, ManagerMessage>(tls, {
        parse: parseAgentMessage,
        heartbeatMs: this.opts.heartbeatMs ?? HEARTBEAT_MS,
        now: this.now,
        // Before its hello a connection gets nothing back, not even a pong.
        quiet: true,
        // An accepted agent's odd message is logged and dropped (it may be newer than we are);
        // from anyone else it ends the connection.
        onBadMessage: (err) => {
          const trusted = !!link && this.state.agent(link.agentId)?.trust === 'accepted';
          this.audit.protocolError(address, err, link?.agentId);
          return trusted;
        },
      });
      peer = p;
      p.on('message', (msg) => {
        if (link) {
          if (msg.type === 'upgrade-outcome') this.upgrades.outcome(link.agentId, msg);
          else if (!this.upgradeSender.onMessage(link, msg)) this.router.route(link, msg);
          return;
        }
        if (msg.type !== 'hello') {
          p.fail(new HwError('BAD_MESSAGE', `expected hello, got ${msg.type}`));
          return;
        }
        clearTimeout(handshake);
        release();
        link = this.onHello(p, msg, address, fingerprint);
      });
      p.on('data', (id, parts, bytes) => {
        if (link) link.onData(id, parts, bytes);
        else p.fail(new HwError('BAD_MESSAGE', 'file data before hello'));
      });
      p.on('close', (err) => this.onPeerClose(address, link, err));
    });
    socket.resume();
  }

  private onPeerClose(address: string, link: AgentLink | undefined, err: Error | undefined): void {
    if (!link) {
      if (err) this.audit.protocolError(address, err);
      return;
    }
    const code = err ? toWireError(err).code : undefined;
    const reason = code ?? 'closed';
    if (code && code !== 'HEARTBEAT_TIMEOUT' && code !== 'DISCONNECTED' && code !== 'INTERNAL') {
      this.audit.protocolError(address, err!, link.agentId);
    }
    link.close(reason);
    this.upgradeSender.closed(link);
    if (this.links.get(link.agentId) !== link) return;
    this.links.delete(link.agentId);
    this.intake.dropKey(link.agentId);
    this.state.agentDown(link.agentId, reason);
    const rec = this.state.agent(link.agentId);
    if (rec && !this.stopping && rec.trust === 'accepted') this.notice(`agent ${inert(rec.name)} (${rec.address}) disconnected: ${inert(reason)}`);
  }

  private onHello(peer: Peer<AgentMessage, ManagerMessage>, hello: Hello, address: string, fingerprint: string): AgentLink | undefined {
    let trust;
    try {
      trust = this.admission.admit(hello, address, fingerprint);
    } catch (err) {
      const e = toWireError(err);
      peer.post({ type: 'bye', reason: `${e.code}: ${e.message}` });
      this.audit.refusedAgent(address, { id: hello.id, name: hello.name }, fingerprint, e);
      peer.end();
      return undefined;
    }
    // A second connection with the same id (and key) replaces the first: the agent reconnected
    // before the old socket timed out.
    const old = this.links.get(hello.id);
    if (old) {
      this.links.delete(hello.id);
      old.close('replaced by a new connection');
      old.peer.fail(new HwError('DISCONNECTED', 'replaced by a new connection'));
    }
    const ackedSamples = hello.features?.includes(FEATURES.ackedSamples) ?? false;
    const link = new AgentLink(hello.id, peer, { ackedSamples, features: hello.features ?? [] });
    if (ackedSamples) this.sampleAcks.hello(hello.id, hello.sampleEpoch ?? '');
    this.links.set(hello.id, link);
    const udpKey = randomBytes(32);
    this.intake.setKey(hello.id, udpKey, hello.features?.includes(FEATURES.signedAcks) ?? false);
    const rec = this.state.agentUp({
      id: hello.id, name: hello.name, hostname: hello.hostname, address, platform: hello.platform, arch: hello.arch,
      version: hello.version, interval: hello.interval, restartAllowed: hello.restartAllowed, filesEnabled: hello.filesEnabled,
      trust, fingerprint, rulesVersion: hello.rulesVersion ?? null, ownLabels: hello.labels ?? {},
    });
    peer.post({ type: 'welcome', v: PROTOCOL_VERSION, agentId: hello.id, heartbeatMs: this.opts.heartbeatMs ?? HEARTBEAT_MS, status: trust, udpKey: udpKey.toString('base64'),
      features: [FEATURES.signedAcks, FEATURES.ackedSamples, FEATURES.upgrade], ...(ackedSamples ? { samplesWindow: this.sampleAcks.window() } : {}),
      ...upgradeKeyField(this.upgradeKey()),
    });
    this.upgrades.hello(hello);
    this.rulesHub.send(link, rec);
    peer.open();
    if (trust === 'pending') {
      this.notice(`agent ${inert(rec.name)} from ${address} is PENDING (key ${fingerprint.slice(0, 23)}...): accept it with \`manager accept ${inert(rec.name)}\``);
    } else {
      this.notice(`agent ${inert(rec.name)} connected from ${address} (${inert(rec.platform)}, id ${inert(rec.id.slice(0, 8))})`);
    }
    return link;
  }

  // ---- the administrator's decisions and commands ---------------------------------------------

  /** An administrator accepts a pending agent: it is told at once and starts reporting. */
  accept(ref: string, by = 'api'): AgentRecord {
    return this.admission.accept(ref, by, (id) => this.links.get(id)?.peer.post({ type: 'accepted' }));
  }

  /** The config's rules (undefined: the manager sets none); the agents whose set changed are sent it. */
  setRules(cfg: RulesConfig | undefined): void {
    const online: [AgentLink, AgentRecord][] = [];
    for (const [id, link] of this.links) {
      const rec = this.state.agent(id);
      if (rec) online.push([link, rec]);
    }
    this.rulesHub.set(cfg, online);
  }

  /** Holds back notification of matching alerts for a while (recorded, as every change of trust is). */
  silence(s: { selector: string; rule?: string; forS: number; reason?: string }, by = 'api'): Silence {
    const silence = this.silences.add({ ...s, by });
    this.state.record({ at: this.now(), event: 'silence', action: 'add', silence }, true);
    this.notice(`silence ${silence.id} by ${inert(by)}: ${inert(silence.selector)}${silence.rule ? ` rule ${silence.rule}` : ''} until ${new Date(silence.until).toISOString()}${silence.reason ? ` (${inert(silence.reason)})` : ''}`);
    return silence;
  }

  unsilence(id: string, by = 'api'): Silence {
    const silence = this.silences.remove(id);
    this.state.record({ at: this.now(), event: 'silence', action: 'remove', by, silence }, true);
    return silence;
  }

  /** The config's labels; agents whose rules change with them are sent their new set. */
  setLabels(assigns: LabelAssign[] | undefined): void {
    this.state.setLabelAssigns(assigns);
    this.setRules(this.rulesHub.config);
  }

  get rules(): RulesHub {
    return this.rulesHub;
  }

  /** Settings a config reload may change while agents stay connected. */
  applySettings(s: { autoAccept?: boolean }): void {
    if (s.autoAccept !== undefined) this.admission.autoAccept = s.autoAccept;
  }

  acceptAll(by = 'api'): AgentRecord[] {
    return this.admission.acceptAll(by, (id) => this.links.get(id)?.peer.post({ type: 'accepted' }));
  }

  /** Forgets an agent and refuses its key from now on; it is disconnected at once. */
  revoke(ref: string, by = 'api'): AgentRecord {
    return this.admission.revoke(ref, by, (id) => {
      this.history.forget(id); // its file stays, should the key be accepted again
      this.sampleAcks.forget(id);
      this.sayBye(id, 'REVOKED: this agent\'s key was revoked by the administrator');
    });
  }

  /**
   * Refuses pending agents (one, those from an address or CIDR range, or all): forgotten, their
   * keys refused from now on, disconnected. Returns them.
   */
  rejectPending(sel: RejectSelection, by = 'api'): AgentRecord[] {
    return this.admission.reject(sel, by);
  }

  /** Tells a connected agent why, and ends its connection. */
  private sayBye(id: string, reason: string): void {
    const link = this.links.get(id);
    if (!link) return;
    link.peer.post({ type: 'bye', reason });
    link.peer.end();
  }

  /** Runs a command on an agent and records it with its outcome. */
  command(ref: string, cmd: Exclude<CommandName, 'fetch'>, args: Record<string, unknown> = {}, by = 'api', timeoutMs?: number): Promise<unknown> {
    return this.dispatch.command(ref, cmd, args, by, timeoutMs);
  }

  /** Streams a file from an agent into `sink`; `signal` cancels it on both sides. */
  fetch(ref: string, path: string, sink: FileSink, signal?: AbortSignal, by = 'api'): Promise<{ bytes: number; sha256: string }> {
    return this.dispatch.fetch(ref, path, sink, signal, by);
  }

  // ---- liveness ----------------------------------------------------------------------------------

  private checkSilent(): void {
    const down = this.liveness.sweep(this.state.all());
    for (const [i, rec] of down.entries()) {
      const silent = this.liveness.silentSeconds(rec);
      this.links.get(rec.id)?.peer.fail(new HwError('HEARTBEAT_TIMEOUT', `silent for ${silent} s`));
      this.state.managerAlert(rec, 'AGENT_DOWN', silent, false);
      if (i < 20) this.notice(`AGENT_DOWN ${inert(rec.name)}: silent for ${silent} s`);
    }
    if (down.length > 20) this.notice(`AGENT_DOWN for ${down.length - 20} more agents (see alerts)`);
    if (down.length) this.state.flush();
  }

  // ---- reading -------------------------------------------------------------------------------------

  /** Datagrams dropped since start, by reason. */
  droppedDatagrams(): Record<string, number> {
    return this.intake.dropped();
  }

  /** What came in since start, who is here, the disk, and how late the loop runs (/api/stats and /metrics shape it). */
  figures(): ManagerFigures {
    let online = 0;
    let known = 0;
    for (const a of this.state.all()) {
      if (a.trust !== 'accepted') continue;
      known++;
      if (a.online) online++;
    }
    const ms = (ns: number) => Math.round(ns / 1e4) / 100;
    const log = this.state.storage();
    const enroll = this.admission.enrollment.storageError();
    return {
      startedAt: this.startedAt, now: this.now(),
      agentsKnown: known, agentsOnline: online, agentsPending: this.state.pending().length, connections: this.sockets.size,
      handshaking: this.gate.handshaking,
      reportsIngested: this.state.counters.reports, backfilledReports: this.state.counters.backfilled,
      alertsIngested: this.state.counters.alerts, droppedDatagrams: this.intake.dropped(),
      storage: {
        ok: log.ok && !enroll, error: log.error ?? enroll, failingSince: log.failingSince,
        heldRecords: log.heldRecords, heldBytes: log.heldBytes, droppedRecords: log.droppedRecords, agentsFileSaved: !enroll,
      },
      history: {
        ...this.history.counters, pendingSamples: this.history.pendingSamples(), lastError: this.history.lastError,
        processRecords: this.processHistory.counters.written, processFailedWrites: this.processHistory.counters.failedWrites, processLastError: this.processHistory.lastError,
        containerRecords: this.containerHistory.counters.written, containerFailedWrites: this.containerHistory.counters.failedWrites, containerLastError: this.containerHistory.lastError,
      },
      samples: { lostByAgents: this.lostSamples.byAgents, droppedByManager: this.lostSamples.byManager, awaitingAck: this.sampleAcks.waiting() },
      eventLoopDelayMs: { p50: ms(this.loopDelay.percentile(50)), p99: ms(this.loopDelay.percentile(99)), max: ms(this.loopDelay.max) },
    };
  }

  /** Stops accepting, tells agents, flushes the record. */
  async close(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    // Written and acknowledged before the agents are told goodbye: they need not resend it.
    this.history.flush();
    this.sampleAcks.flushAll();
    clearInterval(this.livenessTimer);
    clearInterval(this.expiryTimer);
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
    const left = this.log.close();
    if (left.heldRecords || left.droppedRecords) {
      this.notice(`STORAGE: ${left.heldRecords + left.droppedRecords} records could not be written to ${this.log.path} (${left.error}) and are lost; unacknowledged alerts stay queued on the agents`);
    }
    if (!this.admission.enrollment.close()) this.notice('STORAGE: agents.json could not be saved: changes since the disk failed are lost');
    this.history.close();
  }
}

async function listening(server: Server | UdpSocket, what: string, where: HostPort, flag: string): Promise<void> {
  try {
    await once(server, 'listening');
  } catch (err) {
    throw listenError(err, where, { what, flag });
  }
}

function upgradeKeyField(k: string | undefined): { upgradeKey?: string } {
  return k ? { upgradeKey: k } : {};
}
