// The agent: one connection to a manager (connection.ts), reports with their backlog
// (reporter.ts), alerts (alerts.ts) and commands (command-handler.ts), each in its own file. This
// class builds them from the configuration and passes the connection's events between them.

import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { CPU_SAMPLE_MS, Alerts } from './alerts.ts';
import type { HwError } from '../errors.ts';
import type { FullStatus, ProcessSort, Sample, TopProcesses } from '../collect/types.ts';
import type { LogsResult } from '../actions/logs.ts';
import type { ServiceRow } from '../api/types.ts';
import { SERVICE_READ_MIN_MS, ServiceWatch } from './service-watch.ts';
import { processReadMinMs, processWatch } from './process-watch.ts';
import type { RuleWatch } from './rule-watch.ts';
import { ContainerRestarts } from './container-restarts.ts';
import type { ProcessCounter } from '../collect/process-match.ts';
import type { TlsIdentity } from '../security/tls-identity.ts';
import { FEATURES, type AgentMessage, type ManagerMessage, type RulesMsg } from '../wire/messages.ts';
import { cpuRuleFromFlags, type Rule } from '../rules/rule.ts';
import { AlertDatagrams, familyOf } from './alert-datagrams.ts';
import { AlertQueue } from './alert-queue.ts';
import type { Backoff } from '../util/backoff.ts';
import { CommandHandler } from './command-handler.ts';
import { containerCommand } from './container-commands.ts';
import { ContainerWatch } from './container-watch.ts';
import { ContainerEngine, type EngineOptions } from '../collect/containers/engine.ts';
import { ManagerConnection, fmt, type Link, type ManagerAddress } from './connection.ts';
import { AgentRules } from './agent-rules.ts';
import { RuleEvaluator, type RuleInputs } from './rule-eval.ts';
import { FileSender } from './file-sender.ts';
import { alertCause } from './alert-cause.ts';
import { insideRoots } from './files-root.ts';
import { ManagerPins } from './manager-pins.ts';
import { Reporter, type ReporterFigures } from './reporter.ts';
import { MemoryBacklog, type SampleBacklog } from './sample-backlog.ts';
import { SampleSpool } from './sample-spool.ts';
import { DEFAULT_PROCESSES_EVERY_MS, DEFAULT_PROCESSES_TOP, TopTaker } from './top-taker.ts';
import { ContainerUsageTaker, DEFAULT_CONTAINERS_EVERY_MS, DEFAULT_CONTAINERS_TOP } from './container-usage-taker.ts';
import { AgentUpgrades } from './upgrades.ts';
import type { VerifiedUpgrade } from './upgrade-receiver.ts';
import { selfCommand } from './upgrade-switch.ts';
import { VERSION } from '../version.ts';
import type { KeyObject } from 'node:crypto';

export type { ManagerAddress };

/** What the agent measures and does, injected so tests can drive CPU and stub the host's reboot. */
export interface AgentDeps {
  sample(): Promise<Sample>;
  status(): Promise<FullStatus>;
  processCount(): Promise<{ processCount: number | null; reason?: string }>;
  /** The first `n` processes by `sort` (absent: the agent cannot list processes on this host). */
  topProcesses?(o: { n: number; sort: ProcessSort; maxAgeMs?: number }): Promise<TopProcesses>;
  /** The same read at once, where it needs no child process (Linux): what an alert names as its cause. */
  topProcessesNow?(o: { n: number; sort: ProcessSort; maxAgeMs?: number }): TopProcesses;
  /** CPU busy percent since the previous call (null when unreadable) */
  cpuPercent(): number | null;
  readLogs(opts: { lines: number; logFiles?: string[] }): Promise<LogsResult>;
  /** Reboots the host (or runs --restart-command). Called after the ack is written. */
  restart(): Promise<void>;
  /** The host's services (systemctl, Get-Service); absent: this agent cannot list them here. */
  services?(o?: { details?: boolean }): Promise<{ source: string; rows: ServiceRow[] }>;
  /** Counts the processes process rules match (absent: not on this platform, they are not judged). */
  processCounter?: ProcessCounter;
  /** Swap use and the usage of each mount, read only when a rule judges them. */
  ruleExtras?(want: { swap: boolean; mounts: boolean }): Promise<Pick<RuleInputs, 'swap' | 'mounts'>>;
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
  /** --allow-container-restart: the manager may restart this host's containers */
  allowContainerRestart?: boolean;
  /** where the container engine is looked for (its env: DOCKER_HOST...; default process.env); absent: reports carry no containers */
  containerEngine?: EngineOptions;
  logFiles: string[];
  bind?: string;
  /** refuses downloads even with --files-root (kept for service files written before files were off by default) */
  noFiles?: boolean;
  /** the folders files may be fetched from (the opened file's real path); without one, fetch is refused */
  filesRoots?: string[];
  heartbeatMs?: number;
  /** --label role=db: sent in the hello */
  labels?: Record<string, string>;
  /** no alert datagrams (simulated fleets: alerts still go over TCP); saves a socket per agent */
  noUdp?: boolean;
  backoff?: Backoff;
  cpuSampleMs?: number;
  alertRetryMs?: number;
  /** how often a state file the disk refused is tried again */
  stateRetryMs?: number;
  /** where samples wait until the manager has them (default: the spool in --state-dir, else in memory) */
  backlog?: SampleBacklog;
  /** false: does not name acked-samples, as an agent older than it (tests and the benchmark's comparison) */
  ackedSamples?: boolean;
  /** how often a sample carries the top processes (--processes-every; 0: never) and how many of each */
  processesEveryMs?: number;
  processesTop?: number;
  /** how often a sample carries the containers' usage for the history (--containers-every; 0: never) and how many are named (the rest summed) */
  containersEveryMs?: number;
  containersTop?: number;
  /** false: does not name services, as an agent older than it (tests) */
  services?: boolean;
  /** time between reads of the services for service rules (default: the interval, at least 10 s; tests go faster) */
  servicesEveryMs?: number;
  /** shortest time between counts of the processes for process rules (default 5 s, Windows 15 s; never below the interval) */
  processRulesEveryMs?: number;
  /** shortest time between container lists (default 10 s; never below the interval; tests go faster) */
  containerListEveryMs?: number;
  /** features left out of the hello, as an agent older than them (tests) */
  omitFeatures?: string[];
  log?: (line: string) => void;
  /** --allow-upgrade: take a signed executable from the manager (refused by default) */
  allowUpgrade?: boolean;
  /** --upgrade-key: the upgrade key to pin (else the first welcome's) */
  upgradeKey?: KeyObject;
  /** the executable an upgrade replaces (default: this program's) */
  upgradeExe?: string;
}

export interface AgentEvents {
  connected: [ManagerAddress];
  disconnected: [string];
  alert: [AgentMessage];
  /** the manager was refused (MANAGER_CHANGED); the agent keeps retrying */
  rejected: [HwError];
  /** the manager refused this agent's hello, with its reason; the agent keeps retrying */
  refused: [ManagerAddress, string];
  /** an upgrade is on disk and verified: the owner stops the agent and switches (upgrade-run.ts) */
  upgrade: [VerifiedUpgrade];
}

export class Agent extends EventEmitter<AgentEvents> {
  private readonly cfg: AgentConfig;
  private readonly deps: AgentDeps;
  private readonly conn: ManagerConnection;
  private readonly pins: ManagerPins;
  private readonly queue: AlertQueue;
  private readonly alerts: Alerts;
  private readonly evaluator: RuleEvaluator;
  private readonly rules: AgentRules;
  private readonly flagRules: Rule[];
  private readonly reporter: Reporter;
  private readonly backlog: SampleBacklog;
  private readonly files = new FileSender();
  private readonly commands: CommandHandler;
  private readonly serviceWatch: ServiceWatch | undefined;
  private readonly processWatch: Pick<RuleWatch<unknown>, 'tick'> | undefined;
  private readonly containerWatch: ContainerWatch | undefined;
  private readonly upgrades: AgentUpgrades;
  private udp: AlertDatagrams | undefined;
  private accepted = false;
  /** the manager acknowledges samples (acked-samples), granting this backfill window at first */
  private ackedSamples = false;
  private samplesWindow: number | undefined;
  private saidUnsigned = false;
  private saidNoProcesses = false;
  private stopping = false;
  private readonly cpuSampleMs: number;
  private tickTimer: NodeJS.Timeout | undefined;
  private readonly topTaker: TopTaker | undefined;
  private readonly usageTaker: ContainerUsageTaker | undefined;
  private containerEngine: ContainerEngine | undefined;
  private engine(): ContainerEngine {
    return (this.containerEngine ??= new ContainerEngine(this.cfg.containerEngine));
  }

  /** Throws BAD_FLAG (a --files-root that is not a folder) or STATE_CORRUPT (a broken state file). */
  constructor(cfg: AgentConfig, deps: AgentDeps) {
    super();
    this.cfg = cfg;
    this.deps = deps;
    const log = (line: string) => this.log(line);
    const filesCheck = cfg.filesRoots?.length && !cfg.noFiles ? insideRoots(cfg.filesRoots) : undefined;
    const retry = cfg.stateRetryMs !== undefined ? { retryMs: cfg.stateRetryMs } : {};
    this.pins = new ManagerPins({
      ...(cfg.stateDir ? { stateDir: cfg.stateDir } : {}), ...(cfg.managerFingerprints ? { expected: cfg.managerFingerprints } : {}), log, ...retry,
    });
    this.queue = new AlertQueue({ ...(cfg.stateDir ? { stateDir: cfg.stateDir } : {}), log, ...retry });
    const link = () => (this.accepted ? this.conn.link : undefined);
    // With a state folder, every sample waits in a spool on disk until the manager has it, so an
    // agent restart, a reboot or a manager crash leaves no hole.
    this.backlog = cfg.backlog ?? (cfg.stateDir ? new SampleSpool({ dir: join(cfg.stateDir, 'spool'), log }) : new MemoryBacklog());
    this.conn = new ManagerConnection({
      managers: cfg.managers, tls: cfg.tls, pins: this.pins, log,
      hello: {
        id: cfg.id, name: cfg.name, interval: cfg.intervalS, restartAllowed: cfg.allowRestart, filesEnabled: filesCheck !== undefined,
        ...(cfg.enrollToken ? { enrollToken: cfg.enrollToken } : {}), ...(cfg.labels ? { labels: cfg.labels } : {}),
        sampleEpoch: this.backlog.epoch, ackedSamples: cfg.ackedSamples ?? true,
        features: [
          ...(cfg.services === false ? [] : [FEATURES.services]), FEATURES.containers, FEATURES.upgrade, ...(deps.topProcesses ? [FEATURES.top] : []),
          FEATURES.processRules, FEATURES.containerRules,
        ].filter((f) => !cfg.omitFeatures?.includes(f)),
      },
      ...(cfg.bind ? { bind: cfg.bind } : {}), ...(cfg.heartbeatMs ? { heartbeatMs: cfg.heartbeatMs } : {}), ...(cfg.backoff ? { backoff: cfg.backoff } : {}),
      rulesVersion: () => this.rules.version,
    });
    const cpuSampleMs = cfg.cpuSampleMs ?? CPU_SAMPLE_MS;
    this.cpuSampleMs = cpuSampleMs;
    this.rules = new AgentRules({ ...(cfg.stateDir ? { stateDir: cfg.stateDir } : {}), log });
    this.flagRules = [cpuRuleFromFlags(cfg.cpuThreshold, cfg.cpuForS)];
    const servicesEveryMs = cfg.servicesEveryMs ?? Math.max(cfg.intervalS * 1000, SERVICE_READ_MIN_MS);
    // Both are read on a report's tick: never more often than the interval.
    const processesEveryMs = Math.max(cfg.intervalS * 1000, cfg.processRulesEveryMs ?? processReadMinMs(process.platform));
    const containersEveryMs = Math.max(cfg.intervalS * 1000, cfg.containerListEveryMs ?? 10_000);
    const metricMs: Partial<Record<Rule['metric'], number>> = { cpu: cpuSampleMs, service: servicesEveryMs, process: processesEveryMs, container: containersEveryMs };
    this.evaluator = new RuleEvaluator({ intervalMs: (m) => metricMs[m] ?? cfg.intervalS * 1000, rules: this.rules.rules ?? this.flagRules });
    this.alerts = new Alerts({
      queue: this.queue, evaluator: this.evaluator,
      cpuPercent: () => deps.cpuPercent(), udp: () => this.udp, udpPort: cfg.udpPort, target: () => this.conn.current, link,
      raised: (msg) => this.emit('alert', msg), log, cpuSampleMs, ...alertCause(deps, this.evaluator), ...(cfg.alertRetryMs ? { retryMs: cfg.alertRetryMs } : {}),
    });
    const readServices = deps.services?.bind(deps);
    if (readServices && cfg.services !== false) {
      this.serviceWatch = new ServiceWatch({ read: () => readServices(), feed: (i) => !this.stopping && this.alerts.feed(i), everyMs: servicesEveryMs, log });
    }
    if (deps.processCounter) {
      this.processWatch = processWatch({
        counter: deps.processCounter, rules: () => this.evaluator.rules, feed: (i) => !this.stopping && this.alerts.feed(i), everyMs: processesEveryMs, log,
      });
    }
    // The containers ride on live reports, refreshed at most every 10 s (or the interval when longer):
    // usage from the cgroup files, the engine asked again only when its event stream says so. Each
    // list is judged by the container rules while one exists, and the history's taker asks for the
    // network and block counters once a period. Only where an engine location is configured
    // (startAgent does it): simulated fleets ask none.
    const restarts = new ContainerRestarts();
    const watching = !!cfg.containerEngine && cfg.containerEngine.watch !== false;
    const usageEvery = cfg.containersEveryMs ?? DEFAULT_CONTAINERS_EVERY_MS;
    if (watching && usageEvery > 0) this.usageTaker = new ContainerUsageTaker({ everyMs: usageEvery, n: cfg.containersTop ?? DEFAULT_CONTAINERS_TOP });
    const watch = !watching ? undefined
      : new ContainerWatch({
        engine: { list: () => this.engine().list({ forReport: !this.usageTaker?.wantsCounters(Date.now(), containersEveryMs) }) }, everyMs: containersEveryMs,
        ...(this.usageTaker ? { sink: this.usageTaker } : {}),
        onList: (rows) => {
          if (!this.evaluator.needs('container')) restarts.inputs([]); // forgets: a rule added later compares from its first list
          else if (!this.stopping) this.alerts.feed({ at: Date.now(), containers: restarts.inputs(rows) });
        },
      });
    this.containerWatch = watch;
    const every = cfg.processesEveryMs ?? DEFAULT_PROCESSES_EVERY_MS;
    if (deps.topProcesses && every > 0) this.topTaker = new TopTaker({ top: (o) => deps.topProcesses!(o), everyMs: every, n: cfg.processesTop ?? DEFAULT_PROCESSES_TOP, log });
    this.reporter = new Reporter({ sample: () => this.sample(), ...(watch ? { liveExtras: () => { const c = watch.current(); return c ? { containers: c } : {}; } } : {}), backlog: this.backlog, intervalMs: cfg.intervalS * 1000, link, log });
    this.commands = new CommandHandler({
      status: async () => ({ ...(await deps.status()), samples: this.reporter.figures() }), processCount: () => deps.processCount(), readLogs: (o) => deps.readLogs(o), restart: () => deps.restart(),
      ...(deps.topProcesses ? { topProcesses: (o: { n: number; sort: ProcessSort }) => deps.topProcesses!(o) } : {}),
      files: this.files, ...(filesCheck ? { filesCheck } : {}), allowRestart: cfg.allowRestart,
      ...(cfg.restartCommand ? { restartCommand: cfg.restartCommand } : {}), logFiles: cfg.logFiles, log,
      ...(readServices && cfg.services !== false ? { services: readServices } : {}),
      containers: (cmd, args) => containerCommand(this.engine(), cfg.allowContainerRestart ?? false, cmd, args),
    });
    this.upgrades = new AgentUpgrades({
      allowed: !!cfg.allowUpgrade, ...(cfg.stateDir ? { stateDir: cfg.stateDir } : {}), ...(cfg.upgradeKey ? { key: cfg.upgradeKey } : {}),
      exe: cfg.upgradeExe ?? selfCommand().exe, version: VERSION, verified: (u) => this.emit('upgrade', u), log,
    });
    this.conn.on('data', (peer, id, parts, bytes) => this.upgrades.onData(peer, id, parts, bytes));
    this.conn.on('welcome', (peer, target, w) => {
      this.upgrades.onWelcome(peer, w);
      const signedAcks = w.features?.includes(FEATURES.signedAcks) ?? false;
      this.udp?.setKey(Buffer.from(w.udpKey, 'base64'), signedAcks);
      if (this.udp && !signedAcks && !this.saidUnsigned) {
        this.saidUnsigned = true;
        this.log(`manager ${fmt(target)} does not sign its UDP acks (an older version): alerts are acknowledged over TCP only`);
      }
      this.ackedSamples = (cfg.ackedSamples ?? true) && (w.features?.includes(FEATURES.ackedSamples) ?? false);
      this.samplesWindow = w.samplesWindow;
      this.accepted = w.status === 'accepted';
      if (this.accepted) this.log(`connected to manager ${fmt(target)}`);
      else this.log(`connected to manager ${fmt(target)}, waiting to be accepted: on the manager run \`manager accept ${cfg.name}\``);
      this.emit('connected', target);
      if (this.accepted) this.onAccepted(peer);
    });
    this.conn.on('message', (peer, msg) => this.onMessage(peer, msg));
    this.conn.on('lost', (_peer, reason) => {
      this.accepted = false;
      this.reporter.onLost();
      this.files.cancelAll();
      this.upgrades.onLost();
      this.emit('disconnected', reason);
    });
    this.conn.on('rejected', (err) => this.emit('rejected', err));
    this.conn.on('refused', (target, reason) => this.emit('refused', target, reason));
  }

  get id(): string {
    return this.cfg.id;
  }

  get connected(): boolean {
    return this.conn.link !== undefined;
  }

  /** Welcomed as an accepted agent (not pending). */
  get isAccepted(): boolean {
    return this.accepted;
  }

  /** Alerts raised but not yet acknowledged by the manager. */
  pendingAlerts(): number {
    return this.alerts.pending;
  }

  /** The name of the alert counter (alerts.json's epoch). */
  get alertEpoch(): string {
    return this.queue.epoch;
  }

  /** The version of the rules it runs ('' for its own flags) and the rules themselves. */
  get rulesVersion(): string {
    return this.rules.version;
  }

  currentRules(): Rule[] {
    return this.evaluator.rules;
  }

  /** UDP acks refused since start (from elsewhere than the manager, unsigned, bad MAC...), by reason. */
  refusedAcks(): Record<string, number> {
    return this.udp?.refused() ?? {};
  }

  /** Samples kept and not yet acknowledged by the manager. */
  backlogSize(): number {
    return this.reporter.backlogSize;
  }

  /** Samples taken, unacknowledged and lost since start (also in `status`). */
  sampleFigures(): ReporterFigures {
    return this.reporter.figures();
  }

  start(): void {
    if (!this.cfg.noUdp) {
      this.udp = new AlertDatagrams({
        agentId: this.cfg.id, family: familyOf(this.cfg.bind ?? this.cfg.managers[0]!.host), onAck: (seq, epoch) => this.alerts.ack(seq, epoch, true),
        log: (l) => this.log(l), ...(this.cfg.bind ? { bind: this.cfg.bind } : {}),
      });
    }
    // One timer for the 1 s CPU sampler and the reports when the interval is a whole number of
    // samples (it is, outside tests): one wake-up a second, and the report reuses that tick's
    // reading of /proc/stat.
    const every = (this.cfg.intervalS * 1000) / this.cpuSampleMs;
    if (Number.isInteger(every) && every >= 1) {
      this.alerts.start({ cpuTimer: false });
      let n = 0;
      this.tickTimer = setInterval(() => {
        this.alerts.tick();
        if (++n >= every) {
          n = 0;
          void this.reporter.report();
        }
      }, this.cpuSampleMs);
    } else {
      this.alerts.start();
      this.reporter.start();
    }
    this.conn.start();
  }

  /** Stops everything (a second call does nothing). */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    clearInterval(this.tickTimer);
    this.alerts.stop();
    this.reporter.stop();
    this.files.cancelAll();
    await this.conn.stop();
    const left = this.reporter.figures();
    if (left.unacked) this.log(`${left.unacked} samples not yet in the manager's history stay ${this.cfg.stateDir && !this.cfg.backlog ? 'in the spool for the next start' : 'in memory and are lost (no --state-dir)'}`);
    this.pins.close();
    this.backlog.close?.();
    this.udp?.close();
    this.udp = undefined;
    this.containerEngine?.close();
    this.deps.close?.();
  }

  private log(line: string): void {
    this.cfg.log?.(line);
  }

  /** A report's sample, also judged by the rules (with swap and mounts when a rule asks for them). */
  private async sample(): Promise<Sample> {
    let s = await this.deps.sample();
    if (this.topTaker) {
      const processes = await this.topTaker.take(s.at);
      if (processes) s = { ...s, processes };
    }
    // Asked here too, not only by the live report: while away from the manager the history goes on.
    if (this.usageTaker) this.containerWatch?.current();
    const containerUsage = this.usageTaker?.take(s.at);
    if (containerUsage) s = { ...s, containerUsage };
    const m = s.metrics;
    const inputs: RuleInputs = {
      at: s.at, memory: m.memPercent, processes: m.processCount, disk: m.diskPercent, netRx: m.netRxRate ?? null, netTx: m.netTxRate ?? null,
      ...(s.interfaces ? { interfaces: s.interfaces } : {}),
    };
    // Swap is in the sample's metrics on Linux; read apart only where it is not.
    if (typeof m.swapTotalBytes === 'number' && typeof m.swapUsedBytes === 'number') {
      inputs.swap = m.swapTotalBytes > 0 ? Math.round((m.swapUsedBytes / m.swapTotalBytes) * 1000) / 10 : 0;
    }
    const want = { swap: inputs.swap === undefined && this.evaluator.needs('swap'), mounts: this.evaluator.rules.some((r) => r.per === 'mount') };
    if ((want.swap || want.mounts) && this.deps.ruleExtras) {
      try {
        Object.assign(inputs, await this.deps.ruleExtras(want));
      } catch (err) {
        this.log(`cannot read swap or mounts for the rules: ${(err as Error).message}`);
      }
    }
    if (this.stopping) return s;
    if (this.evaluator.needs('service')) this.serviceWatch?.tick();
    if (this.evaluator.needs('process')) {
      if (this.processWatch) this.processWatch.tick();
      else if (!this.saidNoProcesses) {
        this.saidNoProcesses = true;
        this.log(`process rules are not judged: this agent cannot list processes on ${process.platform}`);
      }
    }
    if (this.evaluator.needs('container')) this.containerWatch?.current();
    this.alerts.feed(inputs);
    return s;
  }

  private onRules(peer: Link, msg: RulesMsg): void {
    if (this.rules.set(msg)) {
      this.alerts.raise(this.evaluator.setRules(this.rules.rules ?? this.flagRules, Date.now()));
      this.log(this.rules.rules ? `running the manager's rules (version ${msg.version}): ${this.rules.rules.map((r) => r.name).join(', ') || 'none'}` : 'the manager sets no rules: running --cpu-threshold/--cpu-for');
    }
    peer.post({ type: 'rules-applied', version: this.rules.version });
  }

  /** Unacknowledged alerts replayed in order, then the backlog, then a report at once. */
  private onAccepted(peer: Link): void {
    this.accepted = true;
    this.alerts.replay(peer);
    void this.reporter.onAccepted(peer, this.ackedSamples, this.samplesWindow);
  }

  private onMessage(peer: Link, msg: ManagerMessage): void {
    if (this.upgrades.onMessage(peer, msg)) return;
    switch (msg.type) {
      case 'req':
        void this.commands.handle(peer, msg);
        return;
      case 'credit':
        this.files.credit(msg.id, msg.bytes);
        return;
      case 'cancel':
        this.files.cancel(msg.id);
        return;
      case 'ack':
        this.alerts.ack(msg.seq, msg.epoch);
        return;
      case 'samples-ack':
        this.reporter.onAck(peer, msg);
        return;
      case 'rules':
        this.onRules(peer, msg);
        return;
      case 'accepted':
        this.log('accepted by the manager');
        this.onAccepted(peer);
        return;
      default:
        return;
    }
  }
}

