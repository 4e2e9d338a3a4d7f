// The agent: keeps one connection to a manager (retrying the list with jittered backoff forever),
// reports every interval, watches CPU every second, sends alerts over UDP and TCP until
// acknowledged, and answers commands — each in its own task, so none blocks another.

import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import { hostname as osHostname } from 'node:os';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import {
  ALERT_RETRY_MS, CPU_SAMPLE_MS, DEFAULT_LOG_LINES, HANDSHAKE_TIMEOUT_MS, HEARTBEAT_MS, MAX_LOG_LINES, PROTOCOL_VERSION, VERSION,
} from '../constants.ts';
import { HwError, toWireError } from '../errors.ts';
import { LogThrottle } from '../log/throttle.ts';
import type { FullStatus, LogsResult, Sample } from '../metrics/types.ts';
import type { TlsIdentity } from '../security/tls-identity.ts';
import { parseManagerMessage, type AgentMessage, type AlertMsg, type ManagerMessage, type Request } from '../wire/messages.ts';
import { Peer } from '../wire/peer.ts';
import { AlertDatagrams, familyOf } from './alert-datagrams.ts';
import { AlertQueue } from './alert-queue.ts';
import { Backoff } from './backoff.ts';
import { CpuAlertMonitor } from './cpu-alert.ts';
import { FileSender } from './file-sender.ts';
import { insideRoots } from './files-root.ts';
import { ManagerPins } from './manager-pins.ts';
import { SampleSpool } from './sample-spool.ts';
import { join } from 'node:path';

export interface ManagerAddress {
  host: string;
  port: number;
}

/** What the agent measures and does, injected so tests can drive CPU and stub the host's reboot. */
export interface AgentDeps {
  sample(): Promise<Sample>;
  status(): Promise<FullStatus>;
  processCount(): Promise<{ processCount: number | null; reason?: string }>;
  /** CPU busy percent since the previous call (null when unreadable) */
  cpuPercent(): number | null;
  readLogs(opts: { lines: number; logFiles?: string[] }): Promise<LogsResult>;
  /** Reboots the host (or runs --restart-command). Called after the ack is written. */
  restart(): Promise<void>;
  close?(): void;
}

export interface AgentConfig {
  managers: ManagerAddress[];
  udpPort: number;
  /** this agent's key and certificate (client certificate in TLS) */
  tls: TlsIdentity;
  /** accept only managers with one of these fingerprints; otherwise the first one seen is pinned */
  managerFingerprints?: string[];
  enrollToken?: string;
  id: string;
  name: string;
  stateDir?: string;
  intervalS: number;
  cpuThreshold: number;
  cpuForS: number;
  allowRestart: boolean;
  restartCommand?: string;
  logFiles: string[];
  bind?: string;
  noFiles?: boolean;
  /** when given, only files inside these folders (after resolving symlinks) may be fetched */
  filesRoots?: string[];
  heartbeatMs?: number;
  /** no alert datagrams (simulated fleets: alerts still go over TCP); saves a socket per agent */
  noUdp?: boolean;
  backoff?: Backoff;
  cpuSampleMs?: number;
  alertRetryMs?: number;
  log?: (line: string) => void;
}

export interface AgentEvents {
  connected: [ManagerAddress];
  disconnected: [string];
  alert: [AgentMessage];
  /** the manager was refused (MANAGER_CHANGED); the agent keeps retrying */
  rejected: [HwError];
}

export class Agent extends EventEmitter<AgentEvents> {
  private readonly cfg: AgentConfig;
  private readonly deps: AgentDeps;
  private readonly backoff: Backoff;
  private readonly queue: AlertQueue;
  private readonly files = new FileSender();
  private readonly cpuMonitor: CpuAlertMonitor;
  private peer: Peer<ManagerMessage, AgentMessage> | undefined;
  private welcomed = false;
  private current: ManagerAddress | undefined;
  private next = 0;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private reportTimer: NodeJS.Timeout | undefined;
  private cpuTimer: NodeJS.Timeout | undefined;
  private alertTimer: NodeJS.Timeout | undefined;
  private udp: AlertDatagrams | undefined;
  private accepted = false;
  private lastDisconnect = '';
  private readonly pins: ManagerPins;
  /** samples taken while not connected, oldest first, bounded, on disk with a state folder */
  private readonly backlog: SampleSpool;
  private sendingBacklog = false;
  private readonly badNoted = new LogThrottle();

  private readonly filesCheck: ((real: string) => void) | undefined;

  constructor(cfg: AgentConfig, deps: AgentDeps) {
    super();
    this.cfg = cfg;
    this.filesCheck = cfg.filesRoots?.length ? insideRoots(cfg.filesRoots) : undefined;
    this.deps = deps;
    this.backoff = cfg.backoff ?? new Backoff();
    this.queue = new AlertQueue(cfg.stateDir);
    this.backlog = new SampleSpool({ ...(cfg.stateDir ? { dir: join(cfg.stateDir, 'spool') } : {}), log: (l) => this.log(l) });
    this.cpuMonitor = new CpuAlertMonitor({ threshold: cfg.cpuThreshold, forSamples: cfg.cpuForS * 1000 / (cfg.cpuSampleMs ?? CPU_SAMPLE_MS) });
    this.pins = new ManagerPins({ ...(cfg.stateDir ? { stateDir: cfg.stateDir } : {}), ...(cfg.managerFingerprints ? { expected: cfg.managerFingerprints } : {}) });
  }

  get id(): string {
    return this.cfg.id;
  }

  get connected(): boolean {
    return this.welcomed;
  }

  /** Alerts raised but not yet acknowledged by the manager. */
  pendingAlerts(): number {
    return this.queue.pending().length;
  }

  start(): void {
    this.openUdp();
    this.cpuTimer = setInterval(() => this.onCpuTick(), this.cfg.cpuSampleMs ?? CPU_SAMPLE_MS);
    this.alertTimer = setInterval(() => this.resendAlerts(), this.cfg.alertRetryMs ?? ALERT_RETRY_MS);
    this.reportTimer = setInterval(() => void this.report(), this.cfg.intervalS * 1000);
    this.connectNext();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.cpuTimer);
    clearInterval(this.alertTimer);
    clearInterval(this.reportTimer);
    this.files.cancelAll();
    const peer = this.peer;
    if (peer && !peer.closed) {
      peer.post({ type: 'bye', reason: 'agent stopping' });
      peer.end();
      await new Promise<void>((r) => {
        if (peer.closed) r();
        else peer.once('close', () => r());
        setTimeout(r, 1000).unref();
      });
    }
    this.udp?.close();
    this.backlog.close();
    this.deps.close?.();
  }

  private log(line: string): void {
    this.cfg.log?.(line);
  }

  // ---- connection ------------------------------------------------------------------------------

  private connectNext(): void {
    if (this.stopped) return;
    const target = this.cfg.managers[this.next % this.cfg.managers.length]!;
    this.next++;
    this.current = target;
    // The manager's certificate is self-signed: no CA can vouch for it, so it is checked by
    // fingerprint (ManagerPins) before a single byte of ours is sent.
    const socket: TLSSocket = tlsConnect({
      host: target.host, port: target.port, key: this.cfg.tls.key, cert: this.cfg.tls.cert, rejectUnauthorized: false,
      minVersion: 'TLSv1.3', ...(isIP(target.host) ? {} : { servername: target.host }),
      ...(this.cfg.bind ? { localAddress: this.cfg.bind } : {}),
    });
    // Socket options only once connected: set before, Wine's Windows layer fails the connect.
    socket.once('connect', () => {
      socket.setKeepAlive(true, 30_000);
      socket.setNoDelay(true);
    });
    const peer = new Peer<ManagerMessage, AgentMessage>(socket, {
      parse: parseManagerMessage,
      heartbeatMs: this.cfg.heartbeatMs ?? HEARTBEAT_MS,
      // The pinned manager is trusted: an odd message from it is logged (at most once a minute
      // per code) and dropped rather than worth a reconnect.
      onBadMessage: (err) => {
        const code = (err as HwError).code ?? 'BAD_MESSAGE';
        if (this.badNoted.note(code)) this.log(`ignored a bad message from the manager: ${err.message} [${code}]`);
        return this.welcomed;
      },
    });
    this.peer = peer;
    this.welcomed = false;
    const handshake = setTimeout(() => peer.fail(new HwError('HANDSHAKE_TIMEOUT', 'no welcome from the manager')), HANDSHAKE_TIMEOUT_MS);
    socket.once('secureConnect', () => {
      const fp = socket.getPeerCertificate().fingerprint256 ?? '';
      const { error: bad, pinned } = this.pins.check(fmt(target), fp);
      if (pinned) this.log(`pinned manager ${fmt(target)} certificate ${fp}`);
      if (bad) {
        this.lastDisconnect = bad.message;
        this.emit('rejected', bad);
        peer.fail(bad);
        return;
      }
      peer.post({
        type: 'hello', v: PROTOCOL_VERSION, id: this.cfg.id, name: this.cfg.name, hostname: osHostname(), platform: process.platform,
        arch: process.arch, version: VERSION, interval: this.cfg.intervalS, restartAllowed: this.cfg.allowRestart,
        filesEnabled: !this.cfg.noFiles, ...(this.cfg.enrollToken ? { enrollToken: this.cfg.enrollToken } : {}),
      });
    });
    peer.on('message', (msg) => {
      if (!this.welcomed) {
        if (msg.type === 'bye') {
          this.lastDisconnect = `manager refused: ${msg.reason}`;
          return;
        }
        if (msg.type !== 'welcome') {
          peer.fail(new HwError('BAD_MESSAGE', `expected welcome, got ${msg.type}`));
          return;
        }
        clearTimeout(handshake);
        this.onWelcome(peer, target, msg);
        return;
      }
      this.onMessage(peer, msg);
    });
    peer.on('close', (err) => {
      clearTimeout(handshake);
      const was = this.welcomed;
      if (this.peer === peer) {
        this.peer = undefined;
        this.welcomed = false;
      }
      this.files.cancelAll();
      const reason = this.lastDisconnect || (err ? describe(err) : 'closed by the manager');
      this.lastDisconnect = '';
      if (was) {
        this.log(`disconnected from ${fmt(target)}: ${reason}`);
        this.emit('disconnected', reason);
      }
      if (this.stopped) return;
      const delay = this.backoff.next();
      if (!was) this.log(`cannot reach manager ${fmt(target)}: ${reason}; retrying in ${(delay / 1000).toFixed(1)} s`);
      this.retryTimer = setTimeout(() => this.connectNext(), delay);
    });
  }

  private onWelcome(peer: Peer<ManagerMessage, AgentMessage>, target: ManagerAddress, w: { heartbeatMs: number; status: string; udpKey: string }): void {
    this.welcomed = true;
    this.backoff.reset();
    this.next--; // stay on this manager next time
    peer.setHeartbeat(w.heartbeatMs);
    this.udp?.setKey(Buffer.from(w.udpKey, 'base64'));
    this.accepted = w.status === 'accepted';
    if (this.accepted) this.log(`connected to manager ${fmt(target)}`);
    else this.log(`connected to manager ${fmt(target)}, waiting to be accepted: on the manager run \`manager accept ${this.cfg.name}\``);
    this.emit('connected', target);
    if (this.accepted) this.onAccepted(peer);
  }

  /**
   * Replays unacknowledged alerts in order, then the samples taken while away (marked backfill,
   * so the manager's history has no hole), then reports at once so the manager has metrics.
   */
  private onAccepted(peer: Peer<ManagerMessage, AgentMessage>): void {
    this.accepted = true;
    for (const a of this.queue.pending()) peer.post(a);
    void this.report();
    void this.sendBacklog(peer);
  }

  /** Backfill, oldest first, beside the live reports (which never wait for it). */
  private async sendBacklog(peer: Peer<ManagerMessage, AgentMessage>): Promise<void> {
    if (this.sendingBacklog) return;
    this.sendingBacklog = true;
    if (this.backlog.dropped) this.log(`${this.backlog.dropped} samples taken while away were dropped (the spool was full)`);
    this.backlog.dropped = 0;
    let sent = 0;
    try {
      while (this.backlog.size && !peer.closed) {
        const batch = this.backlog.peek(50);
        for (const s of batch) {
          if (!s.at) continue; // a damaged spool line
          await peer.send({ type: 'report', at: s.at, metrics: s.metrics, ...sampleExtras(s), backfill: true });
        }
        this.backlog.drop(batch.length);
        sent += batch.length;
      }
    } catch {
      // disconnected again: what is left stays for the next connection
    } finally {
      this.sendingBacklog = false;
    }
    if (sent) this.log(`sent ${sent} samples taken while away`);
  }

  private onMessage(peer: Peer<ManagerMessage, AgentMessage>, msg: ManagerMessage): void {
    switch (msg.type) {
      case 'req':
        void this.handle(peer, msg);
        return;
      case 'credit':
        this.files.credit(msg.id, msg.bytes);
        return;
      case 'cancel':
        this.files.cancel(msg.id);
        return;
      case 'ack':
        this.queue.ack(msg.seq);
        return;
      case 'accepted':
        this.log('accepted by the manager');
        this.onAccepted(peer);
        return;
      case 'bye':
        this.lastDisconnect = `manager said: ${msg.reason}`;
        return;
      default:
        return;
    }
  }

  /** Samples and reports; while not connected (or not yet accepted) the sample is kept for later. */
  private async report(): Promise<void> {
    let s: Sample;
    try {
      s = await this.deps.sample();
    } catch (err) {
      this.log(`sampling failed: ${(err as Error).message}`);
      return;
    }
    const peer = this.peer;
    if (peer && !peer.closed && this.welcomed && this.accepted) {
      peer.post({ type: 'report', at: s.at, metrics: s.metrics, ...sampleExtras(s) });
      return;
    }
    if (this.stopped) return;
    this.backlog.push(s);
  }

  /** Samples waiting to be sent as backfill. */
  backlogSize(): number {
    return this.backlog.size;
  }

  // ---- commands --------------------------------------------------------------------------------

  private async handle(peer: Peer<ManagerMessage, AgentMessage>, req: Request): Promise<void> {
    try {
      if (req.cmd === 'fetch') {
        if (this.cfg.noFiles) throw new HwError('FILES_DISABLED', 'file download is switched off on this agent (--no-files)');
        const path = req.args.path;
        if (typeof path !== 'string' || !path) throw new HwError('BAD_ARGS', 'fetch needs a path');
        await this.files.send(peer, req.id, path, this.filesCheck);
        return;
      }
      const result = await this.run(req);
      await peer.send({ type: 'res', id: req.id, ok: true, result });
      if (req.cmd === 'restart') {
        this.log('restart requested by the manager: restarting the host');
        this.deps.restart().catch((err) => this.log(`restart failed: ${(err as Error).message}`));
      }
    } catch (err) {
      const e = toWireError(err);
      if (req.cmd === 'fetch') this.log(`file transfer ${String(req.args.path)} failed: ${e.message} [${e.code}]`);
      if (!peer.closed) peer.post({ type: 'res', id: req.id, ok: false, error: e });
    }
  }

  private async run(req: Request): Promise<unknown> {
    switch (req.cmd) {
      case 'status':
        return this.deps.status();
      case 'procs':
        return this.deps.processCount();
      case 'logs': {
        const n = req.args.lines === undefined ? DEFAULT_LOG_LINES : req.args.lines;
        if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_LOG_LINES) {
          throw new HwError('BAD_ARGS', `lines must be a whole number from 1 to ${MAX_LOG_LINES}`);
        }
        return this.deps.readLogs({ lines: n, ...(this.cfg.logFiles.length ? { logFiles: this.cfg.logFiles } : {}) });
      }
      case 'restart':
        if (!this.cfg.allowRestart) {
          throw new HwError('RESTART_DISABLED', 'this agent does not allow restarts: start it with --allow-restart');
        }
        return { restarting: true, command: this.cfg.restartCommand ?? 'system default' };
      default:
        throw new HwError('UNKNOWN_COMMAND', `unknown command ${String(req.cmd)}`);
    }
  }

  // ---- alerts ----------------------------------------------------------------------------------

  private onCpuTick(): void {
    const decision = this.cpuMonitor.push(this.deps.cpuPercent());
    if (!decision) return;
    const msg = this.queue.add({ alert: decision.alert, value: decision.value, threshold: decision.threshold, at: Date.now() });
    this.log(`${msg.alert}: CPU ${msg.value}% (threshold ${msg.threshold}%)`);
    this.emit('alert', msg);
    this.sendUdp(msg);
    if (this.peer && this.welcomed && this.accepted) this.peer.post(msg);
  }

  private resendAlerts(): void {
    const pending = this.queue.pending();
    // Over UDP only: the TCP copy was sent when raised or replayed after the last reconnect.
    for (const a of pending.slice(0, 50)) this.sendUdp(a);
  }

  private openUdp(): void {
    if (this.cfg.noUdp) return;
    this.udp = new AlertDatagrams({
      agentId: this.cfg.id, family: familyOf(this.cfg.bind ?? this.cfg.managers[0]!.host), onAck: (seq) => this.queue.ack(seq),
      log: (l) => this.log(l), ...(this.cfg.bind ? { bind: this.cfg.bind } : {}),
    });
  }

  private sendUdp(a: AlertMsg): void {
    const target = this.current ?? this.cfg.managers[0]!;
    this.udp?.send(a, target.host, this.cfg.udpPort);
  }
}

function sampleExtras(s: Sample): Pick<Sample, 'interfaces' | 'mounts'> {
  return { ...(s.interfaces ? { interfaces: s.interfaces } : {}), ...(s.mounts ? { mounts: s.mounts } : {}) };
}

function fmt(a: ManagerAddress): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

function describe(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ECONNREFUSED') return 'connection refused (is the manager running on that port?)';
  if (code === 'ECONNRESET') return 'connection reset (not in the manager\'s --allow list?)';
  if (code === 'ETIMEDOUT') return 'connection timed out';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host name not found';
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return 'host unreachable';
  if (code === 'EADDRNOTAVAIL') return '--bind address is not on this host';
  return code ? `${code}: ${err.message}` : err.message;
}
