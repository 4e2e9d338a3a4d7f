// The manager's state: known agents, their latest metrics, alerts and the event stream. The
// console, the control API, the dashboard and /metrics all read it through this class.

import { EventEmitter } from 'node:events';
import { HwError } from '../errors.ts';
import type { InterfaceCounters, Metrics, MountUsage } from '../collect/types.ts';
import type { ContainerSample } from '../collect/containers/sample.ts';
import type { AddResult, HistoryStore } from '../history/store.ts';
import { AlertDedupe, DURABLE } from './alert-dedupe.ts';
import { NOT_WRITTEN, type EventLog, type LoggedEvent, type StorageStatus } from './event-log.ts';
import { ruleOfType } from '../rules/rule.ts';
import { effectiveLabels, type LabelAssign } from '../rules/labels.ts';
import type { Silences } from './silences.ts';
import type { AlertMsg, AlertTop } from '../wire/messages.ts';
import { faultPoint } from '../util/fault.ts';

/** In-memory alerts kept by the manager for `alerts` (the event log keeps all). */
const ALERTS_KEPT = 10_000;

export interface AgentRecord {
  id: string;
  name: string;
  hostname: string;
  address: string;
  platform: string;
  arch: string;
  version: string;
  interval: number;
  online: boolean;
  /** set after a restart command was acknowledged, cleared when the agent is back */
  restarting: boolean;
  restartAllowed: boolean;
  filesEnabled: boolean;
  /** accepted: trusted; pending: waiting for an administrator (no commands, reports dropped) */
  trust: 'accepted' | 'pending';
  /** SHA-256 of the agent's certificate */
  fingerprint: string;
  connectedAt: number | null;
  lastSeen: number | null;
  /** time of the newest sample (so a late backfilled one does not replace it) */
  metricsAt: number | null;
  /** AGENT_DOWN was raised and AGENT_UP not yet */
  down: boolean;
  metrics: Metrics | null;
  interfaces: InterfaceCounters[];
  /** the version of the rules the agent says it runs ('' its own flags; null: too old for rules) */
  rulesVersion: string | null;
  /** the agent's own (--label) and the config's labels, the config's winning */
  labels: Record<string, string>;
  /** the agent's own, from its hello */
  ownLabels: Record<string, string>;
  /** the newest report's mounts; empty until one carries them */
  mounts: MountUsage[];
  /** samples that never reached its history (its spool's bound, a failing disk...), as in the record */
  samplesLost: { count: number; reason: string; at: number } | null;
  /** the newest live report's containers (containers feature); absent: none reported (no engine, or an older agent) */
  containers?: ContainerSample[];
}

export interface AlertRecord {
  /** the agent's name at the time (stable id in agentId) */
  agent: string;
  agentId: string;
  type: string;
  value: number;
  threshold?: number;
  /** when the agent raised it (ms since epoch) */
  at: number;
  /** the agent's own sequence number (CPU_HIGH/CPU_NORMAL), or the manager's (AGENT_DOWN/AGENT_UP) */
  seq: number;
  /** the agent's alert counter that seq belongs to ('' for agents that send none) */
  epoch?: string;
  /** manager-wide order of arrival, for `alerts --follow` */
  n: number;
  receivedAt: number;
  via: 'udp' | 'tcp' | 'manager';
  rule?: string;
  state?: 'firing' | 'resolved';
  severity?: 'warning' | 'critical';
  labels?: Record<string, string>;
  /** the processes the agent named as the cause when it fired (at most 3; absent from older agents) */
  top?: AlertTop[];
  /** the id of the silence that held back its notification (recorded and shown all the same) */
  silenced?: string;
}

export interface StateEvents {
  alert: [AlertRecord];
  agent: [AgentRecord, 'up' | 'down' | 'new' | 'report' | 'removed'];
  event: [LoggedEvent];
}

export class ManagerState extends EventEmitter<StateEvents> {
  private readonly agentsById = new Map<string, AgentRecord>();
  private readonly alertList: AlertRecord[] = [];
  /** what fires now: the latest firing alert of each agent, rule and series */
  private readonly active = new Map<string, AlertRecord>();
  private labelAssigns: LabelAssign[] | undefined;
  /** set by the manager; absent in tests that build a bare state */
  silences: Silences | undefined;
  private readonly dedupe: AlertDedupe;
  private alertCounter = 0;
  private readonly log: EventLog | undefined;
  private readonly now: () => number;
  /** counters since start, for /api/stats */
  readonly counters = { reports: 0, backfilled: 0, alerts: 0 };
  /** every agent's samples on disk (common/history/); absent in tests that need none */
  readonly history: HistoryStore | undefined;

  constructor(opts: { log?: EventLog; now?: () => number; history?: HistoryStore; dedupeWindow?: number } = {}) {
    super();
    this.log = opts.log;
    this.dedupe = new AlertDedupe(opts.dedupeWindow);
    this.now = opts.now ?? Date.now;
    this.history = opts.history;
    this.setMaxListeners(0);
  }

  /**
   * An enrolled agent (from agents.json), listed offline until it connects. The registry is the
   * enrolled agents: the event log adds details, never agents.
   */
  register(e: { id: string; name: string; fingerprint: string; status: AgentRecord['trust']; address?: string; hostname?: string; platform?: string; arch?: string; version?: string; interval?: number; lastSeen?: number }): AgentRecord {
    const rec = this.agentsById.get(e.id) ?? blankAgent(e.id);
    Object.assign(rec, pick(e as Partial<AgentRecord>), { name: e.name, trust: e.status, fingerprint: e.fingerprint });
    if (typeof e.interval === 'number' && e.interval > 0) rec.interval = e.interval;
    if (typeof e.lastSeen === 'number' && !rec.lastSeen) rec.lastSeen = e.lastSeen;
    this.agentsById.set(rec.id, rec);
    return rec;
  }

  /**
   * Rebuilds alerts, the duplicate filter and the down flags from what the event log read back,
   * and the details (host name, platform, last seen) of agents already registered.
   */
  restore(events: LoggedEvent[]): void {
    for (const e of events) {
      const a = e.agent as Partial<AgentRecord> | undefined;
      if ((e.event === 'connect' || e.event === 'disconnect') && a?.id) {
        const rec = this.agentsById.get(a.id);
        if (!rec) continue;
        Object.assign(rec, pick(a), { online: false, connectedAt: null });
        if (typeof e.at === 'number' && e.at > (rec.lastSeen ?? 0)) rec.lastSeen = e.at;
      } else if (e.event === 'samples-lost' && a?.id && typeof e.count === 'number') {
        const rec = this.agentsById.get(a.id);
        if (rec) this.addSamplesLost(rec, e.count, String(e.reason), e.at);
      } else if (e.event === 'alert' && e.alert && typeof e.alert === 'object') {
        const al = e.alert as AlertRecord;
        if (typeof al.agentId !== 'string' || typeof al.seq !== 'number') continue;
        if (al.via !== 'manager') this.dedupe.mark(al.agentId, typeof al.epoch === 'string' ? al.epoch : '', al.seq, DURABLE);
        // Its number as recorded when it is ahead (numbers then stay the same across restarts, as
        // the notifier's outbox mark needs); counted on for records without one.
        this.alertCounter = Number.isSafeInteger(al.n) && al.n > this.alertCounter ? al.n : this.alertCounter + 1;
        this.pushAlert({ ...al, n: this.alertCounter });
        const rec = this.agentsById.get(al.agentId);
        if (rec && al.type === 'AGENT_DOWN') rec.down = true;
        if (rec && al.type === 'AGENT_UP') rec.down = false;
      }
    }
  }

  // ---- reading -------------------------------------------------------------------------------

  /** Accepted agents (and pending ones too with `withPending`), by name. */
  agents(withPending = false): AgentRecord[] {
    return [...this.agentsById.values()]
      .filter((a) => withPending || a.trust === 'accepted')
      .sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  }

  pending(): AgentRecord[] {
    return this.agents(true).filter((a) => a.trust === 'pending');
  }

  setTrust(id: string, trust: AgentRecord['trust']): void {
    const rec = this.agentsById.get(id);
    if (rec) rec.trust = trust;
  }

  /** Forgets an agent (revoked, or no longer enrolled). */
  remove(id: string): void {
    const rec = this.agentsById.get(id);
    this.agentsById.delete(id);
    for (const [k, a] of this.active) if (a.agentId === id) this.active.delete(k);
    this.dedupe.forget(id);
    if (rec) this.emit('agent', rec, 'removed');
  }

  agent(id: string): AgentRecord | undefined {
    return this.agentsById.get(id);
  }

  /**
   * Finds an agent by id, name, IP address, host name or id prefix (4+ characters), in that order;
   * `id:<id>` and `name:<name>` match only that. Throws AGENT_NOT_FOUND, or AGENT_AMBIGUOUS naming
   * every agent that matches: a reference that is one agent's id and another's name is never
   * guessed (whoever chose that name could otherwise take the other's commands), nor one name
   * held by agents with different keys. Where several match by address, host name or prefix and
   * exactly one is online, that one is meant.
   */
  find(ref: string, withPending = false): AgentRecord {
    const visible = (a: AgentRecord | undefined): a is AgentRecord => !!a && (withPending || a.trust === 'accepted');
    const explicit = /^(id|name):([^]+)$/.exec(ref);
    // Unsorted: sorting 10,000 agents by name on every command was most of a `status` round trip.
    const all = () => [...this.agentsById.values()].filter(visible);
    if (explicit?.[1] === 'id') {
      const rec = this.agentsById.get(explicit[2]!);
      if (visible(rec)) return rec;
      throw new HwError('AGENT_NOT_FOUND', `no agent has the id ${explicit[2]} (see \`agents\`)`);
    }
    const name = explicit ? explicit[2]! : ref;
    const byName: AgentRecord[] = [];
    for (const a of this.agentsById.values()) if (a.name === name && visible(a)) byName.push(a);
    const byId = explicit ? undefined : this.agentsById.get(ref);
    const exact = visible(byId) ? [byId, ...byName.filter((a) => a !== byId)] : byName;
    if (exact.length === 1) return exact[0]!;
    if (exact.length > 1) {
      // Only copies of one agent under one key (it lost its id and enrolled again): the online one.
      const online = exact.filter((h) => h.online);
      if (!visible(byId) && online.length === 1 && exact.every((h) => h.fingerprint === exact[0]!.fingerprint)) return online[0]!;
      throw ambiguous(ref, exact);
    }
    if (explicit) throw new HwError('AGENT_NOT_FOUND', `no agent is named "${name}" (see \`agents\`)`);
    const list = all();
    for (const match of [
      (a: AgentRecord) => a.address === ref,
      (a: AgentRecord) => a.hostname === ref,
      (a: AgentRecord) => ref.length >= 4 && a.id.startsWith(ref),
    ]) {
      const hits = list.filter(match);
      if (hits.length === 1) return hits[0]!;
      if (hits.length > 1) {
        const online = hits.filter((h) => h.online);
        if (online.length === 1) return online[0]!;
        throw ambiguous(ref, hits);
      }
    }
    throw new HwError('AGENT_NOT_FOUND', `no agent is named "${ref}" or has that id or address (see \`agents\`)`);
  }

  /** Alerts after `afterN` (manager-wide order), oldest first. */
  alerts(afterN = 0, limit = ALERTS_KEPT): AlertRecord[] {
    const out = afterN > 0 ? this.alertList.filter((a) => a.n > afterN) : this.alertList;
    return out.slice(-Math.min(limit, ALERTS_KEPT));
  }

  // ---- changes (called by the server) -----------------------------------------------------------

  /** An agent finished its hello. Returns the record, now online. */
  agentUp(info: Omit<AgentRecord, 'online' | 'restarting' | 'connectedAt' | 'lastSeen' | 'metrics' | 'metricsAt' | 'interfaces' | 'mounts' | 'down' | 'labels' | 'rulesVersion' | 'ownLabels' | 'samplesLost'> & { rulesVersion?: string | null; ownLabels?: Record<string, string> }): AgentRecord {
    const t = this.now();
    let rec = this.agentsById.get(info.id);
    const isNew = !rec;
    if (!rec) {
      rec = blankAgent(info.id);
      this.agentsById.set(info.id, rec);
    }
    const wasRestarting = rec.restarting;
    Object.assign(rec, info, { online: true, restarting: false, connectedAt: t, lastSeen: t, rulesVersion: info.rulesVersion ?? null, ownLabels: info.ownLabels ?? {} });
    rec.labels = this.labelsOf(rec);
    this.record({ at: t, event: 'connect', agent: summary(rec), ...(wasRestarting ? { afterRestart: true } : {}) });
    if (rec.down && rec.trust === 'accepted') {
      rec.down = false;
      this.managerAlert(rec, 'AGENT_UP', 0);
    }
    this.emit('agent', rec, isNew ? 'new' : 'up');
    return rec;
  }

  agentDown(id: string, reason: string): void {
    const rec = this.agentsById.get(id);
    if (!rec || !rec.online) return;
    rec.online = false;
    rec.connectedAt = null;
    this.record({ at: this.now(), event: 'disconnect', agent: summary(rec), reason });
    this.emit('agent', rec, 'down');
  }

  /**
   * A report: shown as the agent's latest (unless it is older) and added to its history. `seq`: a
   * numbered sample the history acknowledges once written; 'refused' when it cannot wait now.
   */
  report(id: string, metrics: Metrics, interfaces: InterfaceCounters[] | undefined, at: number, backfill = false, mounts?: MountUsage[], seq?: number): AddResult {
    const rec = this.agentsById.get(id);
    if (!rec) return 'ignored';
    this.counters.reports++;
    if (backfill) this.counters.backfilled++;
    const r = this.history?.add(id, rec.interval, at, metrics, interfaces, mounts, backfill, seq) ?? 'taken';
    rec.lastSeen = this.now();
    if (rec.metricsAt !== null && at < rec.metricsAt) return r; // a late backfilled sample
    rec.metrics = refreshed(rec.metrics, metrics);
    rec.metricsAt = at;
    if (interfaces) rec.interfaces = refreshedList(rec.interfaces, interfaces);
    if (mounts) rec.mounts = refreshedList(rec.mounts, mounts);
    this.emit('agent', rec, 'report');
    return r;
  }

  /** Samples of an agent that never reached its history: recorded, and shown with the agent. */
  samplesLost(id: string, count: number, reason: string, extra: Record<string, unknown> = {}): void {
    const rec = this.agentsById.get(id);
    const at = this.now();
    if (rec) this.addSamplesLost(rec, count, reason, at);
    this.record({ at, event: 'samples-lost', agent: { id, name: rec?.name ?? id }, count, reason, ...extra });
    if (rec) this.emit('agent', rec, 'report');
  }

  private addSamplesLost(rec: AgentRecord, count: number, reason: string, at: number): void {
    rec.samplesLost = { count: (rec.samplesLost?.count ?? 0) + count, reason, at };
  }

  /** Every record, unsorted (for sweeps over the whole fleet). */
  all(): IterableIterator<AgentRecord> {
    return this.agentsById.values();
  }

  /**
   * An alert the manager raises itself about an agent (AGENT_DOWN, AGENT_UP), flushed to disk
   * unless `flush` is false (a sweep that raises many flushes once at its end).
   */
  managerAlert(rec: AgentRecord, type: 'AGENT_DOWN' | 'AGENT_UP', value: number, flush = true): AlertRecord {
    if (type === 'AGENT_DOWN') rec.down = true;
    const n = ++this.alertCounter;
    const t = this.now();
    const alert: AlertRecord = {
      agent: rec.name, agentId: rec.id, type, value, at: t, seq: n, n, receivedAt: t, via: 'manager',
      rule: 'agent_down', state: type === 'AGENT_DOWN' ? 'firing' : 'resolved', severity: 'critical',
    };
    const sid = this.silenceOf(alert);
    if (sid) alert.silenced = sid;
    this.record({ at: t, event: 'alert', alert }, flush);
    this.pushAlert(alert);
    this.emit('alert', alert);
    return alert;
  }

  touch(id: string): void {
    const rec = this.agentsById.get(id);
    if (rec) rec.lastSeen = this.now();
  }

  /** Labels the config gives agents (`labels:`), applied to every agent now and to each that connects. */
  setLabelAssigns(assigns: LabelAssign[] | undefined): void {
    this.labelAssigns = assigns;
    for (const rec of this.agentsById.values()) rec.labels = this.labelsOf(rec);
  }

  private labelsOf(rec: AgentRecord): Record<string, string> {
    return effectiveLabels(rec.ownLabels, this.labelAssigns, rec);
  }

  setRulesVersion(id: string, version: string): void {
    const rec = this.agentsById.get(id);
    if (rec) rec.rulesVersion = version;
  }

  markRestarting(id: string): void {
    const rec = this.agentsById.get(id);
    if (rec) rec.restarting = true;
  }

  /**
   * An alert from an agent, over UDP or TCP. Returns false for a duplicate (already shown once),
   * and for one that could not even be held in memory (the disk failing for long): the agent
   * keeps it and sends it again. Ask isRecorded() before acknowledging.
   */
  alert(agentId: string, a: Pick<AlertMsg, 'epoch' | 'seq' | 'alert' | 'value' | 'threshold' | 'at' | 'rule' | 'state' | 'severity' | 'labels'>, via: 'udp' | 'tcp'): boolean {
    const epoch = a.epoch ?? '';
    if (this.dedupe.check(agentId, epoch, a.seq).seen) return false;
    if (this.log && !this.log.canHold()) return false;
    const rec = this.agentsById.get(agentId);
    const alert: AlertRecord = {
      agent: rec?.name ?? agentId, agentId, type: a.alert, value: a.value, threshold: a.threshold, at: a.at, seq: a.seq,
      ...(epoch ? { epoch } : {}), n: ++this.alertCounter, receivedAt: this.now(), via,
      ...ruleFields(a),
    };
    const sid = this.silenceOf(alert);
    if (sid) alert.silenced = sid;
    const mark = this.record({ at: alert.receivedAt, event: 'alert', alert }, true);
    this.dedupe.mark(agentId, epoch, a.seq, mark);
    this.counters.alerts++;
    this.pushAlert(alert);
    faultPoint('kill-after-alert-record');
    this.emit('alert', alert);
    return true;
  }

  /**
   * True when the agent's alert (epoch, seq) is in the record on disk: only then is it
   * acknowledged. While the disk fails it is shown but not acknowledged, so the agent keeps it.
   */
  isRecorded(agentId: string, epoch: string | undefined, seq: number): boolean {
    const s = this.dedupe.check(agentId, epoch ?? '', seq);
    if (!s.seen) return false;
    return !this.log || s.mark === DURABLE || this.log.isDurable(s.mark);
  }

  /** Whether the record is being written, or held in memory while the disk fails. */
  storage(): StorageStatus {
    return this.log?.status() ?? { ok: true, failingSince: null, error: null, heldRecords: 0, heldBytes: 0, droppedRecords: 0 };
  }

  /** Makes what was recorded so far durable (false: the disk refused; it is retried). */
  flush(): boolean {
    return this.log?.flush() ?? true;
  }

  /** Writes an event to the log and tells subscribers. Returns the record's number in the log. */
  record(e: LoggedEvent, flush = false): number {
    const n = this.log ? this.log.append(e, flush) : NOT_WRITTEN;
    this.emit('event', e);
    return n;
  }

  /**
   * Whether notification of this alert is held back by a silence (it is recorded and shown all
   * the same). For the notifiers: Alertmanager, webhooks, the console's alert lines.
   */
  isSilenced(alert: Pick<AlertRecord, 'agentId' | 'type' | 'rule'>): boolean {
    return this.silenceOf(alert) !== undefined;
  }

  private silenceOf(alert: Pick<AlertRecord, 'agentId' | 'type' | 'rule'>): string | undefined {
    if (!this.silences) return undefined;
    const rec = this.agentsById.get(alert.agentId);
    if (!rec) return undefined;
    return this.silences.matching(rec, alert.rule ?? ruleOfType(alert.type).rule)?.id;
  }

  /** What fires now (firing and not yet resolved), oldest first. */
  activeAlerts(): AlertRecord[] {
    return [...this.active.values()].sort((a, b) => a.n - b.n);
  }

  private pushAlert(a: AlertRecord): void {
    const r = a.rule ? { rule: a.rule, state: a.state ?? 'firing' } : ruleOfType(a.type);
    const key = `${a.agentId}\0${r.rule}\0${labelsKey(a.labels)}`;
    if (r.state === 'firing') this.active.set(key, a);
    else this.active.delete(key);
    this.alertList.push(a);
    // Trimmed in batches: one splice per alert past the bound moved 10,000 entries every time.
    if (this.alertList.length > ALERTS_KEPT + ALERTS_KEPT / 10) this.alertList.splice(0, this.alertList.length - ALERTS_KEPT);
  }

}

function ambiguous(ref: string, hits: AgentRecord[]): HwError {
  const list = hits.map((h) => `${h.id === ref ? 'id' : h.name === ref ? 'name' : 'match'} of "${h.name}" (id ${h.id}${h.trust === 'pending' ? ', pending' : ''})`);
  return new HwError('AGENT_AMBIGUOUS', `"${ref}" matches ${hits.length} agents: ${list.join('; ')}. Say which with id:<id> or name:<name>`);
}

function blankAgent(id: string): AgentRecord {
  return {
    id, name: id.slice(0, 8), hostname: '', address: '', platform: '', arch: '', version: '', interval: 0,
    online: false, restarting: false, restartAllowed: false, filesEnabled: true, trust: 'pending', fingerprint: '', connectedAt: null, lastSeen: null,
    metricsAt: null, down: false, metrics: null, interfaces: [], mounts: [], rulesVersion: null, labels: {}, ownLabels: {},
    samplesLost: null,
  };
}

function pick(a: Partial<AgentRecord>): Partial<AgentRecord> {
  const out: Partial<AgentRecord> = {};
  for (const k of ['name', 'hostname', 'address', 'platform', 'arch', 'version'] as const) {
    if (typeof a[k] === 'string') out[k] = a[k];
  }
  return out;
}

export function summary(a: AgentRecord): Pick<AgentRecord, 'id' | 'name' | 'hostname' | 'address' | 'platform' | 'arch' | 'version'> {
  return { id: a.id, name: a.name, hostname: a.hostname, address: a.address, platform: a.platform, arch: a.arch, version: a.version };
}

/** The rule fields of an agent's alert; derived from the type for agents older than rules. */
function ruleFields(a: Pick<AlertMsg, 'alert' | 'rule' | 'state' | 'severity' | 'labels' | 'top'>): Pick<AlertRecord, 'rule' | 'state' | 'severity' | 'labels' | 'top'> {
  const r = a.rule ? { rule: a.rule, state: a.state ?? 'firing' } : ruleOfType(a.alert);
  return {
    rule: r.rule, state: r.state, severity: a.severity ?? 'warning', ...(a.labels && Object.keys(a.labels).length ? { labels: a.labels } : {}),
    ...(a.top?.length ? { top: a.top } : {}),
  };
}

function labelsKey(l: Record<string, string> | undefined): string {
  return l ? Object.keys(l).sort().map((k) => `${k}=${l[k]}`).join(',') : '';
}

/**
 * `next`'s values copied into `prev` when both have the same keys (a host's reports do), else
 * `next`. A record then keeps one metrics object for its life instead of a new one a second: at
 * 10,000 agents each lived just long enough to reach V8's old generation, whose dead copies
 * grew the heap by tens of MiB between collections. Readers serialize the record when they
 * send it, so none holds on to an older report.
 */
function refreshed<T extends object>(prev: T | null, next: T): T {
  if (!prev || prev === next) return next;
  let n = 0;
  for (const k in next) {
    if (!Object.prototype.hasOwnProperty.call(prev, k)) return next;
    n++;
  }
  for (const k in prev) if (Object.prototype.hasOwnProperty.call(prev, k)) n--;
  if (n !== 0) return next;
  return Object.assign(prev, next);
}

/** The same for a list (interfaces, mounts): in place when it has as many entries of the same keys. */
function refreshedList<T extends object>(prev: T[], next: T[]): T[] {
  if (prev.length !== next.length || prev === next) return next;
  for (let i = 0; i < next.length; i++) if (refreshed(prev[i]!, next[i]!) !== prev[i]) return next;
  return prev;
}
