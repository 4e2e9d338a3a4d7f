// Every message of the protocol, its type, and its validation at the boundary. See PROTOCOL.md.

import { FS_TYPE_MAX, MAX_INTERVAL_S, MAX_LABELS, MAX_LABEL_VALUE, MAX_RULES, MAX_RULE_SERIES, MIN_INTERVAL_S, MOUNT_PATH_MAX } from './constants.ts';
import { METRICS, RULE_NAME_RE, type Rule } from '../rules/rule.ts';
import { labelProblem } from '../rules/labels.ts';
import { HwError } from '../errors.ts';
import type { AlertTop, InterfaceCounters, Metrics, MountUsage, SampleProcesses } from '../collect/types.ts';
import { REPORT_CONTAINERS_MAX, type ContainerSample } from '../collect/containers/sample.ts';
import { checkSampleProcesses } from './processes.ts';
import { checkSampleContainers, type SampleContainers } from './container-usage.ts';

export type { AlertTop };
import {
  arr, bool, int, isObj, num, numIn, numOrNull, obj, oneOf, optBool, optStr, str, strRecord, type Obj,
} from './validate.ts';

/** The types agents older than rules send; newer ones send any rule's type (ALERT_TYPE_RE). */
export const ALERT_TYPES = ['CPU_HIGH', 'CPU_NORMAL'] as const;
/** CPU_HIGH, CPU_NORMAL, or a rule's name in capitals (MEMORY_HIGH, MEMORY_HIGH_RESOLVED). */
export type AlertType = string;
const ALERT_TYPE_RE = /^[A-Z][A-Z0-9_]{0,79}$/;

/**
 * An agent's id: a UUID the agent draws itself (crypto.randomUUID()), in its one canonical
 * spelling (lower case), so that one agent has one id. Ids from before that rule (8-64 letters,
 * digits, '.', '_' or '-') still pass the hello's check: the manager lets them in only when they
 * are already in its registry (common/manager/admission.ts).
 */
const AGENT_UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const LEGACY_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function isAgentUuid(id: string): boolean {
  return AGENT_UUID_RE.test(id);
}

function agentIdOf(o: Obj): string {
  const id = str(o, 'id', ID_MAX);
  if (!AGENT_UUID_RE.test(id) && !LEGACY_ID_RE.test(id)) throw new HwError('BAD_MESSAGE', 'field "id" must be a UUID (lower case)');
  return id;
}

export const COMMANDS = ['status', 'procs', 'logs', 'fetch', 'restart', 'services', 'containers', 'container-logs', 'container-restart', 'top'] as const;
export type CommandName = (typeof COMMANDS)[number];

export interface Hello {
  type: 'hello';
  v: number;
  id: string;
  name: string;
  hostname: string;
  platform: string;
  arch: string;
  version: string;
  interval: number;
  restartAllowed: boolean;
  filesEnabled: boolean;
  /** proves the right to be accepted at once (manager's --enroll-token) */
  enrollToken?: string;
  /**
   * The version of the rules the agent runs ('' for its own flags). Its presence says the agent
   * understands the `rules` message; older agents omit it and are sent none.
   */
  rulesVersion?: string;
  /** the agent's --label flags */
  labels?: Record<string, string>;
  /** what this agent understands beyond version 1 (FEATURES); absent from older agents */
  features?: string[];
  /**
   * acked-samples: names the agent's sample numbering (drawn when its spool is made afresh), so a
   * numbering started again is never taken for repeats.
   */
  sampleEpoch?: string;
}
/** seq: the sample's number in the agent's spool (acked-samples); absent from older agents. */
export interface Report {
  type: 'report'; at: number; metrics: Metrics; interfaces?: InterfaceCounters[]; mounts?: MountUsage[]; backfill?: boolean; seq?: number;
  containers?: ContainerSample[]; processes?: SampleProcesses;
  /** the containers' usage for the history (absent from older agents: not reported) */
  containerUsage?: SampleContainers;
}
/**
 * acked-samples: samples the agent had to drop (its spool past its bound, its disk refusing writes
 * and memory full, or a spool line unreadable), so the manager can log, count and record what is missing.
 */
export interface SamplesLost { type: 'samples-lost'; count: number; reason: 'spool-full' | 'memory-full' | 'unreadable'; firstAt?: number; lastAt?: number }
/**
 * epoch: names the agent's alert counter. A new one is drawn whenever the agent's queue file is
 * created afresh (first start, or alerts.json lost), and seq starts again at 1 in it, so a reset
 * counter is never taken for duplicates. Absent from agents older than this field ('' for them).
 */
export interface AlertMsg {
  type: 'alert'; epoch?: string; seq: number; alert: AlertType; value: number; threshold: number; at: number;
  /** which rule, and whether it fires or resolves (absent from agents older than rules) */
  rule?: string;
  state?: 'firing' | 'resolved';
  severity?: 'warning' | 'critical';
  /** the series of a per-mount or per-interface rule, e.g. { mount: '/' } */
  labels?: Record<string, string>;
  /** top: the processes using the most CPU (a cpu or processes rule) or memory when it fired (at most 3) */
  top?: AlertTop[];
}
export const ALERT_TOP_MAX = 3;
/** The agent now runs the rules of this version ('' when back on its own flags). */
export interface RulesApplied { type: 'rules-applied'; version: string }
export interface Response {
  type: 'res';
  id: number;
  ok: boolean;
  result?: unknown;
  error?: { code: string; message: string };
}
export interface FileStart { type: 'file'; id: number; size: number; path: string }
export interface FileEnd { type: 'file-end'; id: number; bytes: number; sha256: string }
export interface Ping { type: 'ping'; at: number }
export interface Pong { type: 'pong'; at: number }
export interface Bye { type: 'bye'; reason: string }

export type Trust = 'accepted' | 'pending';
/**
 * udpKey: base64 of the 32-byte HMAC key for this session's alert datagrams. features: what this
 * manager does beyond version 1 (FEATURES); absent from older managers.
 */
export interface Welcome {
  type: 'welcome'; v: number; agentId: string; heartbeatMs: number; status: Trust; udpKey: string; features?: string[];
  /** acked-samples: backfill samples the agent may have sent and not yet had acknowledged */
  samplesWindow?: number;
  /** upgrade: base64 of the manager's upgrade public key (pinned by an agent that has none) */
  upgradeKey?: string;
}

/**
 * Optional behaviours each side names in its hello or welcome; a name the other side does not know
 * is ignored. signed-acks: UDP acks are sealed with the session key like alert datagrams (the
 * manager seals them for an agent that named it; an agent whose manager named it takes no other).
 * acked-samples: reports carry `seq`; the manager answers `samples-ack` once they are written to its
 * history, and the agent keeps each sample on its disk until then (resending after a reconnect).
 */
export const FEATURES = { signedAcks: 'signed-acks', ackedSamples: 'acked-samples', services: 'services', containers: 'containers', upgrade: 'upgrade', top: 'top',
  processRules: 'process-rules', containerRules: 'container-rules',
} as const;
/**
 * Commands only agents naming a feature answer: the manager refuses them (AGENT_TOO_OLD) for any
 * other agent instead of sending them. services: the `services` command and `metric: service`
 * rules; containers: the containers, container-logs and container-restart commands. process-rules
 * and container-rules: `metric: process` and `metric: container` rules (the manager sends them to
 * no other agent: an older one's validator would refuse the whole set).
 */
export const COMMAND_FEATURES: Partial<Record<CommandName, string>> = {
  services: FEATURES.services, containers: FEATURES.containers, 'container-logs': FEATURES.containers, 'container-restart': FEATURES.containers,
  top: FEATURES.top,
};
const FEATURES_MAX = 32;
/** An administrator accepted the pending agent. */
export interface Accepted { type: 'accepted' }
export interface Request { type: 'req'; id: number; cmd: CommandName; args: Obj }
export interface Credit { type: 'credit'; id: number; bytes: number }
export interface Cancel { type: 'cancel'; id: number }
export interface Ack { type: 'ack'; epoch?: string; seq: number }
/**
 * acked-samples: these samples (inclusive ranges of seq) are in the manager's history on disk;
 * window: backfill samples the agent may have in flight from now on (the manager's flow control).
 */
export interface SamplesAck { type: 'samples-ack'; ranges: [number, number][]; window?: number }
/** The rules the agent runs from now on; null: none from the manager, the agent's own flags apply. */
export interface RulesMsg { type: 'rules'; version: string; rules: Rule[] | null }

export type AgentMessage = Hello | Report | SamplesLost | AlertMsg | RulesApplied | Response | FileStart | FileEnd | Ping | Pong | Bye | UpgradeAgentMessage;
export type ManagerMessage = Welcome | Accepted | Request | Credit | Cancel | Ack | SamplesAck | RulesMsg | Ping | Pong | Bye | UpgradeManagerMessage;

/** Ranges in one samples-ack, and the largest backfill window a manager may grant. */
export const SAMPLES_ACK_MAX_RANGES = 1024;
export const SAMPLES_WINDOW_MAX = 4096;

/** UDP: the agent's alert datagram and the manager's acknowledgement. */
export type AlertDatagram = Omit<AlertMsg, 'type'> & { type: 'alert'; agentId: string };
export interface AckDatagram { type: 'ack'; agentId: string; epoch?: string; seq: number }

const ID_MAX = 64;
const REQ_ID_MAX = 0xffffffff;

function parseJson(body: Buffer | string): Obj {
  let v: unknown;
  try {
    v = JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
  } catch {
    throw new HwError('BAD_JSON', 'message is not valid JSON');
  }
  if (!isObj(v)) throw new HwError('BAD_MESSAGE', 'message must be a JSON object');
  if (typeof v.type !== 'string') throw new HwError('BAD_MESSAGE', 'message has no "type"');
  return v;
}

const METRIC_KEYS = [
  'cpuPercent', 'memPercent', 'diskPercent', 'netRxBytes', 'netTxBytes', 'uptimeSeconds', 'processCount',
  'memTotalBytes', 'memAvailableBytes', 'netRxRate', 'netTxRate', 'load1', 'diskSizeBytes', 'diskAvailBytes',
] as const;
/** Newer metrics: kept when sent, absent (not null) from agents that do not send them. */
const OPTIONAL_METRIC_KEYS = ['swapTotalBytes', 'swapUsedBytes'] as const;

export function checkMetrics(o: Obj): Metrics {
  const m: Record<string, unknown> = {};
  for (const k of METRIC_KEYS) m[k] = numOrNull(o, k);
  for (const k of OPTIONAL_METRIC_KEYS) if (o[k] !== undefined) m[k] = numOrNull(o, k);
  const unavailable = strRecord(o, 'unavailable');
  if (unavailable) m.unavailable = unavailable;
  return m as unknown as Metrics;
}

function checkInterfaces(list: unknown[]): InterfaceCounters[] {
  return list.map((x) => {
    if (!isObj(x)) throw new HwError('BAD_MESSAGE', 'interface entry must be an object');
    return {
      name: str(x, 'name', 64),
      rxBytes: num(x, 'rxBytes'),
      txBytes: num(x, 'txBytes'),
      rxRate: numOrNull(x, 'rxRate'),
      txRate: numOrNull(x, 'txRate'),
    };
  });
}

function checkMounts(list: unknown[]): MountUsage[] {
  return list.map((x) => {
    if (!isObj(x)) throw new HwError('BAD_MESSAGE', 'mount entry must be an object');
    const m: MountUsage = { mount: str(x, 'mount', MOUNT_PATH_MAX), size: num(x, 'size'), used: num(x, 'used'), percent: num(x, 'percent') };
    // type and available came later: older agents send neither.
    const type = optStr(x, 'type', FS_TYPE_MAX);
    if (type !== undefined) m.type = type;
    if (x.available !== undefined) m.available = numIn(x, 'available', 0, Number.MAX_SAFE_INTEGER);
    return m;
  });
}

/** The messages both sides send: ping, pong, bye. Anything else is UNKNOWN_TYPE. */
function parseCommon(o: Obj): Ping | Pong | Bye {
  switch (o.type) {
    case 'ping':
    case 'pong':
      return { type: o.type, at: num(o, 'at') };
    case 'bye':
      return { type: 'bye', reason: str(o, 'reason', 512) };
    default:
      throw new HwError('UNKNOWN_TYPE', `unknown message type "${String(o.type).slice(0, 32)}"`);
  }
}

/** Validates a message from an agent. Throws HwError with BAD_JSON, BAD_MESSAGE or UNKNOWN_TYPE. */
export function parseAgentMessage(body: Buffer | string): AgentMessage {
  const o = parseJson(body);
  switch (o.type) {
    case 'hello':
      return {
        type: 'hello', v: int(o, 'v', 0, 1000), id: agentIdOf(o), name: str(o, 'name', 128),
        hostname: str(o, 'hostname', 256), platform: str(o, 'platform', 32), arch: str(o, 'arch', 32),
        version: str(o, 'version', 64), interval: numIn(o, 'interval', MIN_INTERVAL_S, MAX_INTERVAL_S), restartAllowed: bool(o, 'restartAllowed'),
        filesEnabled: bool(o, 'filesEnabled'), ...(o.enrollToken !== undefined ? { enrollToken: str(o, 'enrollToken', 256) } : {}),
        ...(o.rulesVersion !== undefined ? { rulesVersion: versionOf(o) } : {}),
        ...(o.labels !== undefined ? { labels: helloLabels(o) } : {}), ...featuresOf(o),
        ...(o.sampleEpoch !== undefined ? { sampleEpoch: tokenOf(o, 'sampleEpoch') } : {}),
      };
    case 'report': {
      const r: Report = { type: 'report', at: num(o, 'at'), metrics: checkMetrics(obj(o, 'metrics')) };
      if (o.interfaces !== undefined) r.interfaces = checkInterfaces(arr(o, 'interfaces', 1024));
      if (o.mounts !== undefined) r.mounts = checkMounts(arr(o, 'mounts', 256));
      const backfill = optBool(o, 'backfill');
      if (backfill) r.backfill = true;
      if (o.seq !== undefined) r.seq = int(o, 'seq');
      if (o.containers !== undefined) r.containers = arr(o, 'containers', REPORT_CONTAINERS_MAX).map(checkContainer);
      if (o.processes !== undefined) r.processes = checkSampleProcesses(o);
      if (o.containerUsage !== undefined) r.containerUsage = checkSampleContainers(o);
      return r;
    }
    case 'samples-lost': {
      const l: SamplesLost = { type: 'samples-lost', count: int(o, 'count', 1), reason: oneOf(o, 'reason', ['spool-full', 'memory-full', 'unreadable'] as const) };
      if (o.firstAt !== undefined) l.firstAt = num(o, 'firstAt');
      if (o.lastAt !== undefined) l.lastAt = num(o, 'lastAt');
      return l;
    }
    case 'alert':
      return { type: 'alert', ...alertFields(o) };
    case 'rules-applied':
      return { type: 'rules-applied', version: versionOf(o) };
    case 'res': {
      const id = int(o, 'id', 1, REQ_ID_MAX);
      const ok = bool(o, 'ok');
      if (ok) return { type: 'res', id, ok, result: o.result };
      const e = obj(o, 'error');
      return { type: 'res', id, ok, error: { code: str(e, 'code', 64), message: str(e, 'message', 4096) } };
    }
    case 'file':
      return { type: 'file', id: int(o, 'id', 1, REQ_ID_MAX), size: int(o, 'size'), path: str(o, 'path', 4096) };
    case 'file-end': {
      const sha256 = str(o, 'sha256', 64);
      if (!/^[0-9a-f]{64}$/.test(sha256)) throw new HwError('BAD_MESSAGE', 'field "sha256" must be 64 hex digits');
      return { type: 'file-end', id: int(o, 'id', 1, REQ_ID_MAX), bytes: int(o, 'bytes'), sha256 };
    }
    case 'upgrade-credit':
    case 'upgrade-result':
    case 'upgrade-outcome':
      return parseUpgradeAgentMessage(o);
    default:
      return parseCommon(o);
  }
}

/** Validates a message from the manager. */
export function parseManagerMessage(body: Buffer | string): ManagerMessage {
  const o = parseJson(body);
  switch (o.type) {
    case 'welcome':
      return {
        type: 'welcome', v: int(o, 'v', 0, 1000), agentId: str(o, 'agentId', ID_MAX), heartbeatMs: int(o, 'heartbeatMs', 10, 3_600_000),
        status: oneOf(o, 'status', ['accepted', 'pending'] as const), udpKey: str(o, 'udpKey', 64), ...featuresOf(o),
        ...(o.samplesWindow !== undefined ? { samplesWindow: int(o, 'samplesWindow', 1, SAMPLES_WINDOW_MAX) } : {}),
        ...(o.upgradeKey !== undefined ? { upgradeKey: str(o, 'upgradeKey', 128) } : {}),
      };
    case 'accepted':
      return { type: 'accepted' };
    case 'req': {
      const args = o.args === undefined ? {} : obj(o, 'args');
      return { type: 'req', id: int(o, 'id', 1, REQ_ID_MAX), cmd: oneOf(o, 'cmd', COMMANDS), args };
    }
    case 'credit':
      return { type: 'credit', id: int(o, 'id', 1, REQ_ID_MAX), bytes: int(o, 'bytes', 1) };
    case 'cancel':
      return { type: 'cancel', id: int(o, 'id', 1, REQ_ID_MAX) };
    case 'ack':
      return { type: 'ack', ...epochOf(o), seq: int(o, 'seq', 1) };
    case 'samples-ack':
      return { type: 'samples-ack', ranges: sampleRanges(o), ...(o.window !== undefined ? { window: int(o, 'window', 1, SAMPLES_WINDOW_MAX) } : {}) };
    case 'rules': {
      if (o.rules === null) return { type: 'rules', version: versionOf(o), rules: null };
      return { type: 'rules', version: versionOf(o), rules: arr(o, 'rules', MAX_RULES).map(checkRule) };
    }
    case 'upgrade':
    case 'upgrade-end':
    case 'upgrade-cancel':
      return parseUpgradeManagerMessage(o);
    default:
      return parseCommon(o);
  }
}

export function parseAlertDatagram(buf: Buffer): AlertDatagram {
  const o = parseJson(buf);
  if (o.type !== 'alert') throw new HwError('UNKNOWN_TYPE', 'datagram is not an alert');
  return { type: 'alert', agentId: str(o, 'agentId', ID_MAX), ...alertFields(o) };
}

/** An alert's fields, on TCP and UDP alike; the rule fields are optional (older agents). */
function alertFields(o: Obj): Omit<AlertMsg, 'type'> {
  const alert = str(o, 'alert', 80);
  if (!ALERT_TYPE_RE.test(alert)) throw new HwError('BAD_MESSAGE', 'field "alert" must be capital letters, digits and _');
  const a: Omit<AlertMsg, 'type'> = { ...epochOf(o), seq: int(o, 'seq', 1), alert, value: num(o, 'value'), threshold: num(o, 'threshold'), at: num(o, 'at') };
  if (o.rule !== undefined) a.rule = ruleName(o, 'rule');
  if (o.state !== undefined) a.state = oneOf(o, 'state', ['firing', 'resolved'] as const);
  if (o.severity !== undefined) a.severity = oneOf(o, 'severity', ['warning', 'critical'] as const);
  const labels = strRecord(o, 'labels', MAX_LABELS, MAX_LABEL_VALUE);
  if (labels) a.labels = labels;
  if (o.top !== undefined) a.top = alertTop(o);
  return a;
}

function alertTop(o: Obj): AlertTop[] {
  return arr(o, 'top', ALERT_TOP_MAX).map((p) => {
    if (!isObj(p)) throw new HwError('BAD_MESSAGE', 'field "top" must be a list of processes');
    return { pid: int(p, 'pid'), name: str(p, 'name', 256), cpuPercent: numOrNull(p, 'cpuPercent'), memBytes: numOrNull(p, 'memBytes') };
  });
}

function helloLabels(o: Obj): Record<string, string> {
  const l = strRecord(o, 'labels', MAX_LABELS, MAX_LABEL_VALUE) ?? {};
  for (const [k, v] of Object.entries(l)) {
    const bad = labelProblem(k, v);
    if (bad) throw new HwError('BAD_MESSAGE', `hello: ${bad}`);
  }
  return l;
}

function ruleName(o: Obj, k: string): string {
  const n = str(o, k, 63);
  if (!RULE_NAME_RE.test(n)) throw new HwError('BAD_MESSAGE', `field "${k}" must be a rule name (a-z, 0-9, _)`);
  return n;
}

function versionOf(o: Obj): string {
  const v = str(o, o.type === 'hello' ? 'rulesVersion' : 'version', 64);
  if (!/^[A-Za-z0-9-]*$/.test(v)) throw new HwError('BAD_MESSAGE', 'rules version must be letters, digits or dashes');
  return v;
}

function checkStrList(o: Obj, k: string): string[] | undefined {
  if (o[k] === undefined) return undefined;
  return arr(o, k, MAX_RULE_SERIES).map((v) => {
    if (typeof v !== 'string' || v.length > 256) throw new HwError('BAD_MESSAGE', `field "${k}" must be a list of strings`);
    return v;
  });
}

/** A rule as the manager sends it: every field checked, so the evaluator never sees a bad one. */
function checkRule(v: unknown): Rule {
  if (!isObj(v)) throw new HwError('BAD_MESSAGE', 'a rule must be an object');
  const r: Rule = {
    name: ruleName(v, 'name'), metric: oneOf(v, 'metric', METRICS), op: oneOf(v, 'op', ['above', 'below'] as const),
    threshold: num(v, 'threshold'), clear: num(v, 'clear'), for: numIn(v, 'for', 0, 86_400 * 30), clearFor: numIn(v, 'clearFor', 0, 86_400 * 30),
  };
  if (v.critical !== undefined) r.critical = num(v, 'critical');
  if (v.repeat !== undefined) r.repeat = numIn(v, 'repeat', 1, 86_400 * 365);
  if (v.per !== undefined) r.per = oneOf(v, 'per', ['mount', 'interface'] as const);
  const ex = checkStrList(v, 'excludeFstypes');
  if (ex) r.excludeFstypes = ex;
  const only = checkStrList(v, 'only');
  if (only) r.only = only;
  const match = checkStrList(v, 'match');
  if (match) r.match = match;
  const cmdline = checkStrList(v, 'matchCmdline');
  if (cmdline) r.matchCmdline = cmdline;
  return r;
}

export function parseAckDatagram(buf: Buffer): AckDatagram {
  const o = parseJson(buf);
  if (o.type !== 'ack') throw new HwError('UNKNOWN_TYPE', 'datagram is not an ack');
  return { type: 'ack', agentId: str(o, 'agentId', ID_MAX), ...epochOf(o), seq: int(o, 'seq', 1) };
}

const EPOCH_RE = /^[A-Za-z0-9-]{1,64}$/;

/** A list of feature names; unknown names are kept (and ignored by the reader), bad shapes refused. */
function sampleRanges(o: Obj): [number, number][] {
  return arr(o, 'ranges', SAMPLES_ACK_MAX_RANGES).map((r) => {
    if (!Array.isArray(r) || r.length !== 2 || !r.every((n) => Number.isSafeInteger(n) && n >= 0) || r[0] > r[1]) {
      throw new HwError('BAD_MESSAGE', 'field "ranges" must be a list of [from, to] whole numbers, from <= to');
    }
    return [r[0], r[1]] as [number, number];
  });
}

/** A short opaque name (an epoch): letters, digits, - and _. */
function tokenOf(o: Obj, k: string): string {
  const v = str(o, k, 64);
  if (!/^[A-Za-z0-9_-]*$/.test(v)) throw new HwError('BAD_MESSAGE', `field "${k}" must be letters, digits, - and _`);
  return v;
}

function featuresOf(o: Obj): { features?: string[] } {
  if (o.features === undefined) return {};
  return {
    features: arr(o, 'features', FEATURES_MAX).map((f) => {
      if (typeof f !== 'string' || !/^[a-z0-9-]{1,64}$/.test(f)) throw new HwError('BAD_MESSAGE', 'field "features" must be a list of names (a-z, 0-9, -)');
      return f;
    }),
  };
}

function epochOf(o: Obj): { epoch?: string } {
  const e = optStr(o, 'epoch', 64);
  if (e === undefined) return {};
  if (!EPOCH_RE.test(e)) throw new HwError('BAD_MESSAGE', 'epoch must be 1-64 letters, digits or dashes');
  return { epoch: e };
}

/** One container of a live report (containers feature). */
function checkContainer(v: unknown): ContainerSample {
  if (!isObj(v)) throw new HwError('BAD_MESSAGE', 'a report\'s container must be an object');
  const health = v.health === null || v.health === undefined ? null : str(v, 'health', 20);
  return {
    name: str(v, 'name', 128), image: str(v, 'image', 200), state: str(v, 'state', 20), health,
    restartCount: v.restartCount === null || v.restartCount === undefined ? null : int(v, 'restartCount', 0),
    cpuPercent: numOrNull(v, 'cpuPercent'), memUsedBytes: numOrNull(v, 'memUsedBytes'),
  };
}

// ---- upgrade (feature `upgrade`): the manager streams a signed executable to the agent --------

/**
 * Manager to agent. `upgrade` opens transfer `id` (its own numbering, apart from file requests):
 * `size` bytes follow as kind-2 frames, but only as far as the agent grants with `upgrade-credit`;
 * `sig` is the executable's signed manifest (checked by the agent, opaque here); `by` who asked.
 */
export interface UpgradeStart { type: 'upgrade'; id: number; size: number; sig: Obj; by?: string }
export interface UpgradeEnd { type: 'upgrade-end'; id: number; bytes: number }
export interface UpgradeCancel { type: 'upgrade-cancel'; id: number }
export type UpgradeManagerMessage = UpgradeStart | UpgradeEnd | UpgradeCancel;

/** Agent to manager: credit it grants (the manager sends nothing it was not granted). */
export interface UpgradeCredit { type: 'upgrade-credit'; id: number; bytes: number }
/** The executable was refused (a coded error) or verified and the switch begins (`ok`). */
export interface UpgradeResult { type: 'upgrade-result'; id: number; ok: boolean; error?: { code: string; message: string } }
/** After a switch, from the agent then running: B confirmed (`ok`) or A back (`reason`). */
export interface UpgradeOutcome { type: 'upgrade-outcome'; ok: boolean; from: string; to: string; version: string; reason?: string; by?: string }
export type UpgradeAgentMessage = UpgradeCredit | UpgradeResult | UpgradeOutcome;

const SHORT = /^[A-Za-z0-9._+-]{1,64}$/;
function shortOf(o: Obj, k: string): string {
  const v = str(o, k, 64);
  if (!SHORT.test(v)) throw new HwError('BAD_MESSAGE', `field "${k}" must be a version (letters, digits, . _ + -)`);
  return v;
}

function parseUpgradeManagerMessage(o: Obj): UpgradeManagerMessage {
  const id = int(o, 'id', 1, REQ_ID_MAX);
  if (o.type === 'upgrade') return { type: 'upgrade', id, size: int(o, 'size', 1), sig: obj(o, 'sig'), ...(o.by !== undefined ? { by: str(o, 'by', 128) } : {}) };
  if (o.type === 'upgrade-end') return { type: 'upgrade-end', id, bytes: int(o, 'bytes') };
  return { type: 'upgrade-cancel', id };
}

function parseUpgradeAgentMessage(o: Obj): UpgradeAgentMessage {
  if (o.type === 'upgrade-credit') return { type: 'upgrade-credit', id: int(o, 'id', 1, REQ_ID_MAX), bytes: int(o, 'bytes', 1) };
  if (o.type === 'upgrade-result') {
    const id = int(o, 'id', 1, REQ_ID_MAX);
    if (bool(o, 'ok')) return { type: 'upgrade-result', id, ok: true };
    const e = obj(o, 'error');
    return { type: 'upgrade-result', id, ok: false, error: { code: str(e, 'code', 64), message: str(e, 'message', 4096) } };
  }
  return {
    type: 'upgrade-outcome', ok: bool(o, 'ok'), from: shortOf(o, 'from'), to: shortOf(o, 'to'), version: shortOf(o, 'version'),
    ...(o.reason !== undefined ? { reason: str(o, 'reason', 1024) } : {}), ...(o.by !== undefined ? { by: str(o, 'by', 128) } : {}),
  };
}
