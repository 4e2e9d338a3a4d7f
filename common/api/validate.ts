// One validator per action, called by every front end: the API's routes, the console and the CLI
// (which checks a request before sending it, so a mistake is reported without a round trip, in the
// same words the manager would use). Each takes loose input (a JSON body, parsed words) and returns
// the typed request, or throws BAD_ARGS naming what is wrong.

import { MAX_LOG_LINES } from '../wire/constants.ts';
import { HwError } from '../errors.ts';
import { durationMs, parseCount, parseDuration } from '../util/units.ts';
import type { JobRequest, RejectSelection, Selection, SilenceRequest, UpgradeRequest } from './types.ts';
import { containerArgs, type ContainerArgs, type ContainerCommand } from '../collect/containers/args.ts';
import { checkName } from '../collect/containers/engine.ts';

/** Hosts a command to many runs on at once (--parallel), by default and at most. */
export const JOB_PARALLEL = { default: 10, max: 100 } as const;
/** A command's own timeout, in seconds (--timeout). */
const TIMEOUT_S = { min: 0.1, max: 3600 } as const;

export const COMMANDS = ['status', 'procs', 'logs', 'restart', 'top'] as const;
export type CommandName = (typeof COMMANDS)[number];


/** Which agents: exactly one of a selector, --label or --all. */
export function selection(input: object): Selection {
  const b = input as Record<string, unknown>;
  const sel: Selection = {};
  if (b.selector !== undefined) {
    if (typeof b.selector !== 'string' || !b.selector) throw new HwError('BAD_ARGS', '"selector" must be an agent name, id, IP, glob or label=value');
    sel.selector = b.selector;
  }
  if (b.label !== undefined) {
    if (typeof b.label !== 'string' || !/^[^=]+=.*$/.test(b.label)) throw new HwError('BAD_ARGS', '--label must be name=value, e.g. --label role=db');
    sel.label = b.label;
  }
  if (yes(b.all, 'all')) sel.all = true;
  const n = [sel.selector, sel.label, sel.all].filter((x) => x !== undefined).length;
  if (n !== 1) throw new HwError('BAD_ARGS', n ? 'give one of an agent (or glob, label=value), --label or --all' : 'which agents? give an agent, a glob like \'web-*\', --label role=db or --all');
  return sel;
}

export function parallel(v: unknown): number {
  if (v === undefined) return JOB_PARALLEL.default;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > JOB_PARALLEL.max) throw new HwError('BAD_ARGS', `--parallel must be a whole number from 1 to ${JOB_PARALLEL.max}`);
  return n;
}

/** --timeout: seconds or a duration like 2m, returned in seconds; undefined for the manager's own. */
export function timeoutSeconds(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  const s = durationMs(v, '--timeout') / 1000;
  if (!(s >= TIMEOUT_S.min && s <= TIMEOUT_S.max)) throw new HwError('BAD_ARGS', `--timeout must be from ${TIMEOUT_S.min} s to ${TIMEOUT_S.max / 3600} h (seconds, or a duration like 2m)`);
  return s;
}

/** A command's arguments: only what that command takes, each checked. */
export function commandArgs(cmd: CommandName, v: unknown): Record<string, unknown> {
  if (v === undefined) return {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new HwError('BAD_ARGS', '"args" must be an object');
  const a = v as Record<string, unknown>;
  if (cmd === 'top') return topRequest(a);
  const extra = Object.keys(a).filter((k) => !(cmd === 'logs' && k === 'lines'));
  if (extra.length) throw new HwError('BAD_ARGS', `${cmd} takes ${cmd === 'logs' ? 'only "lines"' : 'no arguments'}, not "${extra[0]!.slice(0, 50)}"`);
  if (a.lines !== undefined) {
    const n = Number(a.lines);
    if (!Number.isInteger(n) || n < 1 || n > MAX_LOG_LINES) throw new HwError('BAD_ARGS', `-n (lines) must be a whole number from 1 to ${MAX_LOG_LINES}`);
    return { lines: n };
  }
  return {};
}

export function command(v: unknown): CommandName {
  if (typeof v !== 'string' || !(COMMANDS as readonly string[]).includes(v)) {
    throw new HwError('BAD_ARGS', `"cmd" must be one of ${COMMANDS.join(', ')} (fetch from many: one fetch per agent)`);
  }
  return v as CommandName;
}

/** POST /api/jobs, the console's and the CLI's commands to many. */
export function jobRequest(input: object): JobRequest {
  const b = input as Record<string, unknown>;
  const cmd = command(b.cmd);
  const t = timeoutSeconds(b.timeout);
  return { ...selection(b), cmd, args: commandArgs(cmd, b.args), parallel: parallel(b.parallel), ...(t !== undefined ? { timeout: t } : {}) };
}

/** POST /api/silences, `silence <selector> --for 2h`. A bare number is seconds. */
export function silenceRequest(input: object): SilenceRequest {
  const b = input as Record<string, unknown>;
  if (typeof b.selector !== 'string' || !b.selector) throw new HwError('BAD_ARGS', 'a silence needs "selector" (an agent, glob or label=value)');
  if (b.for === undefined || b.for === true || b.for === '') throw new HwError('BAD_ARGS', 'a silence needs --for, e.g. --for 2h');
  const forS = parseDuration(b.for);
  if (!forS.ok) throw new HwError('BAD_ARGS', `--for: ${forS.error}`);
  for (const k of ['rule', 'reason'] as const) {
    if (b[k] !== undefined && typeof b[k] !== 'string') throw new HwError('BAD_ARGS', `"${k}" is a string`);
  }
  if (typeof b.reason === 'string' && b.reason.length > 500) throw new HwError('BAD_ARGS', 'a reason is at most 500 characters');
  return {
    selector: b.selector, forS: forS.value,
    ...(typeof b.rule === 'string' ? { rule: b.rule } : {}), ...(typeof b.reason === 'string' ? { reason: b.reason } : {}),
  };
}

/** GET /api/agents/:agent/fetch?path=, `fetch <agent> <remote> [local]`. */
export function fetchPath(v: unknown): string {
  if (typeof v !== 'string' || !v) throw new HwError('BAD_ARGS', 'fetch needs the remote path (?path=)');
  if (v.length > 4096 || v.includes('\0')) throw new HwError('BAD_ARGS', 'that remote path is not a path (over 4096 bytes, or a NUL in it)');
  return v;
}

/** An agent reference in a path or a command: a name, id or address. */
export function agentRef(v: unknown): string {
  if (typeof v !== 'string' || !v || v.length > 256) throw new HwError('BAD_ARGS', 'name an agent: its name, id or address');
  return v;
}

/** POST /api/pending/reject, `reject <agent> | --address <ip|cidr> | --all`. */
export function rejectSelection(input: object): RejectSelection {
  const b = input as Record<string, unknown>;
  const given = (['agent', 'address', 'all'] as const).filter((k) => b[k] !== undefined);
  if (given.length !== 1) throw new HwError('BAD_ARGS', 'reject needs exactly one of "agent", "address" (an IP or CIDR range) or "all": true');
  if (typeof b.agent === 'string' && b.agent) return { agent: b.agent };
  if (typeof b.address === 'string' && b.address) return { address: b.address };
  if (b.all === true) return { all: true };
  throw new HwError('BAD_ARGS', '"agent" and "address" are non-empty strings, "all" is true');
}

/** A yes/no in a body or a query: true, 1 or "true"; false, 0, "false", empty or absent. */
export function yes(v: unknown, name: string): boolean {
  if (v === undefined || v === null || v === false || v === '' || v === '0' || v === 'false') return false;
  if (v === true || v === '1' || v === 'true') return true;
  throw new HwError('BAD_ARGS', `"${name}" is true or false (1 or 0)`);
}

/** An arrival number in a query (`after`): 0 when absent. */
export function arrival(v: string | null, name: string): number {
  if (v === null || v === '') return 0;
  const n = parseCount(v);
  if (!n.ok) throw new HwError('BAD_ARGS', `${name}: ${n.error}`);
  return n.value;
}

/** GET /api/agents/:agent/services?failed=1, `services <agent> [--failed]`: the command's arguments. */
export function servicesQuery(q: { get(k: string): string | null }): { failed: boolean } {
  return { failed: yes(q.get('failed'), 'failed') };
}

/** The container commands' arguments (the agent checks them again with the same function). */
export function containerRequest(cmd: ContainerCommand, agent: unknown, input: { name?: unknown; lines?: unknown }): { ref: string; args: ContainerArgs } {
  const raw: Record<string, unknown> = {};
  if (input.name !== undefined) raw.name = input.name;
  if (input.lines !== undefined && input.lines !== null) raw.lines = input.lines;
  return { ref: agentRef(agent), args: containerArgs(cmd, raw) };
}

/** `upgrade --to <file> [--batch 10%|5] [--max-failures 1]` and its selection. */
export function upgradeRequest(input: object): UpgradeRequest {
  const b = input as Record<string, unknown>;
  const sel = selection(b);
  if (typeof b.to !== 'string' || !b.to || b.to.length > 4096 || !b.to.startsWith('/') && !/^[A-Za-z]:[\\/]/.test(b.to)) {
    throw new HwError('BAD_ARGS', '"to" must be the absolute path of the signed agent executable on the manager\'s host');
  }
  const bv = b.batch === undefined ? '10%' : String(b.batch);
  const m = /^(\d{1,3})%$/.exec(bv);
  let batch: UpgradeRequest['batch'];
  if (m && Number(m[1]) >= 1 && Number(m[1]) <= 100) batch = { percent: Number(m[1]) };
  else if (/^\d{1,5}$/.test(bv) && Number(bv) >= 1) batch = { count: Number(bv) };
  else throw new HwError('BAD_ARGS', '--batch must be a count of hosts (5) or a percentage (10%)');
  const mf = b.maxFailures === undefined ? 1 : Number(b.maxFailures);
  if (!Number.isInteger(mf) || mf < 1 || mf > 100_000) throw new HwError('BAD_ARGS', '--max-failures must be a whole number from 1');
  return { ...sel, to: b.to, batch, maxFailures: mf };
}

/** GET /api/agents/:agent/containers/history: the span (default the last hour) and one container or all. */
export interface ContainerHistoryQuery {
  from: number;
  to: number;
  container?: string;
}

const CONTAINER_HISTORY_KEYS = ['since', 'from', 'to', 'container'];

/**
 * `since` (a time in ms or ISO 8601, or a duration back from `to`: 30m, 6h, 2d; `from` is the
 * same), `to` (default now), `container` (a name as the engine gives it). Anything else is BAD_ARGS.
 */
export function containerHistoryQuery(q: URLSearchParams, now: number): ContainerHistoryQuery {
  for (const k of q.keys()) if (!CONTAINER_HISTORY_KEYS.includes(k)) throw new HwError('BAD_ARGS', `the container history takes since, to and container, not "${k.slice(0, 40)}"`);
  const get = (k: string) => (q.get(k) === null || q.get(k) === '' ? undefined : q.get(k)!);
  if (get('since') !== undefined && get('from') !== undefined) throw new HwError('BAD_ARGS', 'give since or from, not both');
  const to = get('to') === undefined ? now : timeArg(get('to')!, 'to');
  const s = get('since') ?? get('from');
  let from = to - 3600_000;
  if (s !== undefined) {
    const back = /^\d+$/.test(s) ? undefined : parseDuration(s);
    from = back?.ok ? to - Math.round(back.value * 1000) : timeArg(s, 'since (a time, or a duration: 30m, 6h, 2d)');
  }
  if (from >= to) throw new HwError('BAD_ARGS', `since (${from}) must be before to (${to})`);
  const c = get('container');
  return { from, to, ...(c !== undefined ? { container: checkName(c) } : {}) };
}

/** Rows `top` returns at most (the agent's bound too), and by default. */
export const TOP_N = { default: 20, max: 100 } as const;

/** `top`'s sort and count, from a JSON body, a query string or CLI flags (numbers as text too). */
export function topRequest(a: Record<string, unknown>): { sort: 'cpu' | 'mem' | 'io'; n: number } {
  const extra = Object.keys(a).filter((k) => k !== 'sort' && k !== 'n');
  if (extra.length) throw new HwError('BAD_ARGS', `top takes only "sort" and "n", not "${extra[0]!.slice(0, 50)}"`);
  const sort = a.sort ?? 'cpu';
  if (sort !== 'cpu' && sort !== 'mem' && sort !== 'io') throw new HwError('BAD_ARGS', '--sort must be cpu, mem or io');
  const n = a.n === undefined ? TOP_N.default : Number(a.n);
  if (!Number.isInteger(n) || n < 1 || n > TOP_N.max) throw new HwError('BAD_ARGS', `-n must be a whole number from 1 to ${TOP_N.max}`);
  return { sort, n };
}

/** A time in a query or a flag: ms since the epoch or an ISO 8601 time. */
export function timeArg(v: string, name: string): number {
  const t = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(t) || t < 0 || !/^\d/.test(v)) throw new HwError('BAD_ARGS', `${name} must be a time in ms since the epoch or ISO 8601, not "${v.slice(0, 40)}"`);
  return t;
}

/** GET /api/agents/:agent/processes: `at` (one minute) or `from`/`to` (default: the last hour). */
export type ProcessQuery = { at: number } | { from: number; to: number };

export function processQuery(q: URLSearchParams, now: number): ProcessQuery {
  const get = (k: string) => (q.get(k) === null || q.get(k) === '' ? undefined : q.get(k)!);
  const at = get('at');
  const from = get('from');
  const to = get('to');
  if (at !== undefined) {
    if (from !== undefined || to !== undefined) throw new HwError('BAD_ARGS', 'give either at, or from and to, not both');
    return { at: timeArg(at, 'at') };
  }
  const t = to === undefined ? now : timeArg(to, 'to');
  const f = from === undefined ? t - 3600_000 : timeArg(from, 'from');
  if (f >= t) throw new HwError('BAD_ARGS', `from (${f}) must be before to (${t})`);
  return { from: f, to: t };
}
