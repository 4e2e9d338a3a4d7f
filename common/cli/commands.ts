// The administrator's commands, shared by the CLI subcommands and the interactive console: each
// takes a Client and prints to `io`. Errors are thrown as HwError for the caller to print.

import { basename, resolve } from 'node:path';
import { existsSync, statSync } from 'node:fs';
import { DEFAULT_LOG_LINES, HISTORY_DEFAULT_POINTS, HISTORY_MAX_POINTS, MAX_LOG_LINES } from '../constants.ts';
import { HwError, type ErrorCode } from '../errors.ts';
import type { Client } from './client.ts';
import { agentsTable, alertLine, bytes, pct, rate, statusText, table, type Json } from './format.ts';

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  /** a terminal to draw progress on, if any */
  progress?: (line: string | null) => void;
  /** asks a yes/no question; absent when nobody can answer */
  confirm?: (question: string) => Promise<boolean>;
}

export const EXIT: Partial<Record<ErrorCode, number>> & { default: number } = {
  default: 1, BAD_FLAG: 2, BAD_ARGS: 2, BAD_ALLOW: 2, BAD_ADDRESS: 2, AGENT_NOT_FOUND: 3, AGENT_AMBIGUOUS: 3,
  AGENT_OFFLINE: 4, PENDING: 4, API_UNREACHABLE: 5, UNAUTHORIZED: 5, TIMEOUT: 6, CANCELLED: 130,
};

export function exitCodeFor(code: string): number {
  return (EXIT as Record<string, number>)[code] ?? EXIT.default;
}

const print = (io: Io, json: boolean, value: unknown, text: () => string) => io.out(json ? JSON.stringify(value, null, 2) : text());

export async function agentsCmd(c: Client, o: { json?: boolean }, io: Io): Promise<void> {
  const list = await c.agents();
  if (o.json) return print(io, true, list, () => '');
  const pending = await c.pending();
  const hint = pending.length ? `\n${pending.length} agent(s) waiting to be accepted: see \`pending\`` : '';
  io.out(agentsTable(list) + hint);
}

export async function statusCmd(c: Client, ref: string, o: { json?: boolean }, io: Io): Promise<void> {
  const s = await c.command(ref, 'status');
  print(io, !!o.json, s, () => statusText(s));
}

export async function procsCmd(c: Client, ref: string, o: { json?: boolean }, io: Io): Promise<void> {
  const r = await c.command(ref, 'procs');
  print(io, !!o.json, r, () => (r.processCount == null ? `process count unavailable: ${r.reason ?? 'unknown reason'}` : `${r.processCount} processes`));
}

export function parseLines(v: unknown): number {
  if (v === undefined) return DEFAULT_LOG_LINES;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > MAX_LOG_LINES) throw new HwError('BAD_ARGS', `--lines must be a whole number from 1 to ${MAX_LOG_LINES}`);
  return n;
}

export async function logsCmd(c: Client, ref: string, o: { json?: boolean; lines?: unknown }, io: Io): Promise<void> {
  const r = await c.command(ref, 'logs', { lines: parseLines(o.lines) });
  print(io, !!o.json, r, () => [`# ${r.source}${r.truncated ? ' (truncated)' : ''}`, ...(r.lines as string[])].join('\n'));
}

/** `signal` (Ctrl-C) cancels the transfer on every side: the agent closes the file, the .part file is removed. */
export async function fetchCmd(c: Client, ref: string, remote: string, local: string | undefined, o: { force?: boolean; json?: boolean }, io: Io, signal?: AbortSignal): Promise<void> {
  if (!remote) throw new HwError('BAD_ARGS', 'fetch needs the path of the file on the agent');
  let target = resolve(local ?? basename(remote.replace(/\\/g, '/')));
  if (existsSync(target) && statSync(target).isDirectory()) target = resolve(target, basename(remote.replace(/\\/g, '/')));
  if (existsSync(target) && !o.force) throw new HwError('BAD_ARGS', `${target} already exists: choose another local path or add --force`);
  const started = Date.now();
  let lastDraw = 0;
  const r = await c.fetch(ref, remote, target, io.progress ? (got, size) => {
    const t = Date.now();
    if (t - lastDraw < 100 && got !== size) return;
    lastDraw = t;
    const secs = Math.max(0.001, (t - started) / 1000);
    const share = size > 0 ? got / size : 1;
    const bar = '#'.repeat(Math.round(share * 30)).padEnd(30, '.');
    io.progress!(`[${bar}] ${(share * 100).toFixed(0).padStart(3)}%  ${bytes(got)} of ${bytes(size)}  ${bytes(Math.round(got / secs))}/s`);
  } : undefined, signal);
  io.progress?.(null);
  const secs = (Date.now() - started) / 1000;
  print(io, !!o.json, r, () => `${r.path}: ${r.bytes} bytes in ${secs.toFixed(1)} s, sha256 ${r.sha256}`);
}

export async function restartCmd(c: Client, ref: string, o: { yes?: boolean }, io: Io): Promise<void> {
  if (!o.yes) {
    if (!io.confirm) throw new HwError('BAD_ARGS', 'restart asks for confirmation: add --yes when no one is at a terminal');
    const ok = await io.confirm(`Restart the host of agent "${ref}" now? [y/N] `);
    if (!ok) {
      io.out('not restarted');
      return;
    }
  }
  const r = await c.command(ref, 'restart');
  io.out(`restart acknowledged by ${ref}${r.command ? ` (${r.command})` : ''}; the manager shows it as restarting until it is back`);
}

export async function alertsCmd(c: Client, o: { json?: boolean; follow?: boolean }, io: Io, signal?: AbortSignal): Promise<void> {
  if (!o.follow) {
    const list = await c.alerts();
    print(io, !!o.json, list, () => (list.length ? list.map(alertLine).join('\n') : 'no alerts'));
    return;
  }
  if (!signal) throw new HwError('BAD_ARGS', '--follow needs a way to stop');
  await c.follow(0, (a) => io.out(o.json ? JSON.stringify(a) : alertLine(a)), signal);
}

export async function pendingCmd(c: Client, o: { json?: boolean }, io: Io): Promise<void> {
  const list = await c.pending();
  print(io, !!o.json, list, () => (list.length
    ? table([['NAME', 'ADDRESS', 'STATE', 'ID', 'FINGERPRINT (SHA-256)'], ...list.map((a) => [a.name, a.address, a.online ? 'online' : 'offline', String(a.id).slice(0, 8), a.fingerprint])])
    : 'no agent is waiting to be accepted'));
}

export async function acceptCmd(c: Client, ref: string | undefined, o: { all?: boolean }, io: Io): Promise<void> {
  if (!ref && !o.all) throw new HwError('BAD_ARGS', 'accept needs an agent, or --all');
  if (ref && o.all) throw new HwError('BAD_ARGS', 'give an agent or --all, not both');
  const done = await c.accept(o.all ? undefined : ref);
  io.out(done.length ? done.map((a) => `accepted ${a.name} (${a.address}, key ${a.fingerprint})`).join('\n') : 'no agent was pending');
}

export async function revokeCmd(c: Client, ref: string, io: Io): Promise<void> {
  const a = await c.revoke(ref);
  io.out(`revoked ${a.name}: its key ${a.fingerprint} is refused from now on`);
}

/** "10m", "2h", "30s", "1d" (or plain seconds) to milliseconds. */
export function parseDuration(v: unknown, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(s|m|h|d)?$/.exec(String(v).trim());
  if (!m) throw new HwError('BAD_ARGS', `${flag}: "${String(v)}" is not a duration like 30s, 10m, 2h or 1d`);
  const unit = { s: 1, m: 60, h: 3600, d: 86400 }[(m[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit * 1000;
}

export function parsePoints(v: unknown): number {
  if (v === undefined) return HISTORY_DEFAULT_POINTS;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > HISTORY_MAX_POINTS) throw new HwError('BAD_ARGS', `--points must be a whole number from 1 to ${HISTORY_MAX_POINTS}`);
  return n;
}

export async function historyCmd(c: Client, ref: string, o: { since?: unknown; points?: unknown; json?: boolean; detail?: boolean }, io: Io, now = Date.now()): Promise<void> {
  const since = now - parseDuration(o.since ?? '10m', '--since');
  const h = await c.history(ref, { from: since, to: now, points: parsePoints(o.points), ...(o.detail ? { detail: true } : {}) });
  const pts = h.points as Json[];
  print(io, !!o.json, h, () => {
    if (!pts.length) return `no samples from ${h.agent} since ${new Date(since).toISOString()}`;
    // A roll-up point shows the average, and the peak CPU of its span beside it.
    const rolled = pts.some((p) => p.max);
    const rows = [['TIME', 'CPU', ...(rolled ? ['CPU MAX'] : []), 'MEM', 'DISK', 'NET IN', 'NET OUT', 'PROCS', '']];
    for (const p of pts) {
      rows.push([String(p.at).replace('T', ' ').replace(/\.\d+Z$/, 'Z'), pct(p.cpuPercent), ...(rolled ? [pct((p.max as Json | undefined)?.cpuPercent)] : []),
        pct(p.memPercent), pct(p.diskPercent), rate(p.netRxRate), rate(p.netTxRate), p.processCount == null ? '-' : String(Math.round(Number(p.processCount))),
        p.backfill ? 'backfill' : '']);
    }
    const step = Number(h.step);
    const head = `${h.agent}: ${pts.length} points, tier ${String(h.tier)}, one every ${step >= 60_000 ? `${Math.round(step / 60_000)} min` : `${step / 1000} s`}`;
    return `${head}\n${table(rows)}`;
  });
}
