// Every message of the protocol, its type, and its validation at the boundary. See PROTOCOL.md.

import { FS_TYPE_MAX, MAX_INTERVAL_S, MIN_INTERVAL_S, MOUNT_PATH_MAX } from '../constants.ts';
import { HwError } from '../errors.ts';
import type { InterfaceCounters, Metrics, MountUsage } from '../metrics/types.ts';
import {
  arr, bool, int, isObj, num, numIn, numOrNull, obj, oneOf, optBool, optStr, str, strRecord, type Obj,
} from './validate.ts';

export const ALERT_TYPES = ['CPU_HIGH', 'CPU_NORMAL'] as const;
export type AlertType = (typeof ALERT_TYPES)[number];

export const COMMANDS = ['status', 'procs', 'logs', 'fetch', 'restart'] as const;
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
}
export interface Report { type: 'report'; at: number; metrics: Metrics; interfaces?: InterfaceCounters[]; mounts?: MountUsage[]; backfill?: boolean }
/**
 * epoch: names the agent's alert counter. A new one is drawn whenever the agent's queue file is
 * created afresh (first start, or alerts.json lost), and seq starts again at 1 in it, so a reset
 * counter is never taken for duplicates. Absent from agents older than this field ('' for them).
 */
export interface AlertMsg { type: 'alert'; epoch?: string; seq: number; alert: AlertType; value: number; threshold: number; at: number }
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
/** udpKey: base64 of the 32-byte HMAC key for this session's alert datagrams. */
export interface Welcome { type: 'welcome'; v: number; agentId: string; heartbeatMs: number; status: Trust; udpKey: string }
/** An administrator accepted the pending agent. */
export interface Accepted { type: 'accepted' }
export interface Request { type: 'req'; id: number; cmd: CommandName; args: Obj }
export interface Credit { type: 'credit'; id: number; bytes: number }
export interface Cancel { type: 'cancel'; id: number }
export interface Ack { type: 'ack'; epoch?: string; seq: number }

export type AgentMessage = Hello | Report | AlertMsg | Response | FileStart | FileEnd | Ping | Pong | Bye;
export type ManagerMessage = Welcome | Accepted | Request | Credit | Cancel | Ack | Ping | Pong | Bye;

/** UDP: the agent's alert datagram and the manager's acknowledgement. */
export interface AlertDatagram { type: 'alert'; agentId: string; epoch?: string; seq: number; alert: AlertType; value: number; threshold: number; at: number }
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
        type: 'hello', v: int(o, 'v', 0, 1000), id: str(o, 'id', ID_MAX), name: str(o, 'name', 128),
        hostname: str(o, 'hostname', 256), platform: str(o, 'platform', 32), arch: str(o, 'arch', 32),
        version: str(o, 'version', 64), interval: numIn(o, 'interval', MIN_INTERVAL_S, MAX_INTERVAL_S), restartAllowed: bool(o, 'restartAllowed'),
        filesEnabled: bool(o, 'filesEnabled'), ...(o.enrollToken !== undefined ? { enrollToken: str(o, 'enrollToken', 256) } : {}),
      };
    case 'report': {
      const r: Report = { type: 'report', at: num(o, 'at'), metrics: checkMetrics(obj(o, 'metrics')) };
      if (o.interfaces !== undefined) r.interfaces = checkInterfaces(arr(o, 'interfaces', 1024));
      if (o.mounts !== undefined) r.mounts = checkMounts(arr(o, 'mounts', 256));
      const backfill = optBool(o, 'backfill');
      if (backfill) r.backfill = true;
      return r;
    }
    case 'alert':
      return {
        type: 'alert', ...epochOf(o), seq: int(o, 'seq', 1), alert: oneOf(o, 'alert', ALERT_TYPES), value: num(o, 'value'),
        threshold: num(o, 'threshold'), at: num(o, 'at'),
      };
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
        status: oneOf(o, 'status', ['accepted', 'pending'] as const), udpKey: str(o, 'udpKey', 64),
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
    default:
      return parseCommon(o);
  }
}

export function parseAlertDatagram(buf: Buffer): AlertDatagram {
  const o = parseJson(buf);
  if (o.type !== 'alert') throw new HwError('UNKNOWN_TYPE', 'datagram is not an alert');
  return {
    type: 'alert', agentId: str(o, 'agentId', ID_MAX), ...epochOf(o), seq: int(o, 'seq', 1), alert: oneOf(o, 'alert', ALERT_TYPES),
    value: num(o, 'value'), threshold: num(o, 'threshold'), at: num(o, 'at'),
  };
}

export function parseAckDatagram(buf: Buffer): AckDatagram {
  const o = parseJson(buf);
  if (o.type !== 'ack') throw new HwError('UNKNOWN_TYPE', 'datagram is not an ack');
  return { type: 'ack', agentId: str(o, 'agentId', ID_MAX), ...epochOf(o), seq: int(o, 'seq', 1) };
}

const EPOCH_RE = /^[A-Za-z0-9-]{1,64}$/;

function epochOf(o: Obj): { epoch?: string } {
  const e = optStr(o, 'epoch', 64);
  if (e === undefined) return {};
  if (!EPOCH_RE.test(e)) throw new HwError('BAD_MESSAGE', 'epoch must be 1-64 letters, digits or dashes');
  return { epoch: e };
}
