// The administrator's commands, shared by the CLI subcommands and the interactive console: each
// takes a Client and prints to `io`. Errors are thrown as HwError for the caller to print.

import { basename, resolve } from 'node:path';
import { existsSync, statSync } from 'node:fs';
import { DEFAULT_LOG_LINES, MAX_LOG_LINES } from '../wire/constants.ts';
import { HISTORY_DEFAULT_POINTS, HISTORY_MAX_POINTS } from '../history/params.ts';
import { HwError } from '../errors.ts';
import { stringify as yamlText } from 'yaml';
import type { Client } from './client.ts';
import type { Io } from './io.ts';
import { durationMs } from '../util/units.ts';
import { manyCommand, manyFetch, manyRestart, manySelection } from './many.ts';
import { agentsTable, alertLine, bytes, type Json, pct, rate, servicesText, statusText, table, topText } from './format.ts';
import { inert, inertText } from '../util/inert.ts';
import { topRequest } from '../api/validate.ts';

export { EXIT, exitCodeFor } from './exit-codes.ts';

const print = (io: Io, json: boolean, value: unknown, text: () => string) => io.out(json ? JSON.stringify(value, null, 2) : text());

export async function agentsCmd(c: Client, o: { json?: boolean }, io: Io): Promise<void> {
  const list = await c.agents();
  if (o.json) return print(io, true, list, () => '');
  const pending = await c.pending();
  const hint = pending.length ? `\n${pending.length} agent(s) waiting to be accepted: see \`pending\`` : '';
  io.out(agentsTable(list) + hint);
}

/** The selection flags every agent command takes (common/cli/many.ts). */
export type Many = { label?: unknown; all?: unknown; parallel?: unknown; timeout?: unknown };

export async function statusCmd(c: Client, ref: string | undefined, o: { json?: boolean } & Many, io: Io): Promise<void> {
  const sel = manySelection(ref, o);
  if (sel) return manyCommand(c, sel, 'status', {}, o, io, statusText);
  const s = await c.command(ref!, 'status');
  print(io, !!o.json, s, () => statusText(s));
}

const procsText = (r: Json) => (r.processCount == null ? `process count unavailable: ${r.reason ?? 'unknown reason'}` : `${r.processCount} processes`);
// A log line keeps its text and tabs; its control characters are shown, not obeyed.
const logsText = (r: Json) => [`# ${inert(r.source)}${r.truncated ? ' (truncated)' : ''}`, ...(r.lines as string[]).map(inertText)].join('\n');

export async function procsCmd(c: Client, ref: string | undefined, o: { json?: boolean } & Many, io: Io): Promise<void> {
  const sel = manySelection(ref, o);
  if (sel) return manyCommand(c, sel, 'procs', {}, o, io, procsText);
  const r = await c.command(ref!, 'procs');
  print(io, !!o.json, r, () => procsText(r));
}

/** `top`: one agent through GET (viewers too, without command lines); a selection as a job (admins). */
export async function topCmd(c: Client, ref: string | undefined, o: { json?: boolean; sort?: unknown; n?: unknown; width?: number } & Many, io: Io): Promise<void> {
  const q = topRequest({ ...(o.sort !== undefined ? { sort: o.sort } : {}), ...(o.n !== undefined ? { n: o.n } : {}) });
  const sel = manySelection(ref, o);
  if (sel) return manyCommand(c, sel, 'top', q, o, io, (r) => topText(r, o.width));
  const r = await c.top(ref!, q);
  print(io, !!o.json, r, () => topText(r, o.width));
}

export function parseLines(v: unknown): number {
  if (v === undefined) return DEFAULT_LOG_LINES;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > MAX_LOG_LINES) throw new HwError('BAD_ARGS', `--lines must be a whole number from 1 to ${MAX_LOG_LINES}`);
  return n;
}

export async function logsCmd(c: Client, ref: string | undefined, o: { json?: boolean; lines?: unknown } & Many, io: Io): Promise<void> {
  const sel = manySelection(ref, o);
  if (sel) return manyCommand(c, sel, 'logs', { lines: parseLines(o.lines) }, o, io, logsText);
  const r = await c.command(ref!, 'logs', { lines: parseLines(o.lines) });
  print(io, !!o.json, r, () => logsText(r));
}

/** `signal` (Ctrl-C) cancels the transfer on every side: the agent closes the file, the .part file is removed. */
export async function fetchCmd(c: Client, ref: string | undefined, remote: string, local: string | undefined, o: { force?: boolean; json?: boolean } & Many, io: Io, signal?: AbortSignal): Promise<void> {
  const sel = manySelection(ref, o);
  if (sel) return manyFetch(c, sel, remote, local, o, io, signal);
  if (!remote) throw new HwError('BAD_ARGS', 'fetch needs the path of the file on the agent');
  let target = resolve(local ?? basename(remote.replace(/\\/g, '/')));
  if (existsSync(target) && statSync(target).isDirectory()) target = resolve(target, basename(remote.replace(/\\/g, '/')));
  if (existsSync(target) && !o.force) throw new HwError('BAD_ARGS', `${target} already exists: choose another local path or add --force`);
  const started = Date.now();
  let lastDraw = 0;
  const r = await c.fetch(ref!, remote, target, io.progress ? (got, size) => {
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
  print(io, !!o.json, r, () => `${inert(r.path)}: ${r.bytes} bytes in ${secs.toFixed(1)} s, sha256 ${r.sha256}`);
}

export async function restartCmd(c: Client, ref: string | undefined, o: { yes?: boolean; json?: boolean } & Many, io: Io): Promise<void> {
  const sel = manySelection(ref, o);
  if (sel) return manyRestart(c, sel, o, io);
  if (!o.yes) {
    if (!io.confirm) throw new HwError('BAD_ARGS', 'restart asks for confirmation: add --yes when no one is at a terminal');
    const ok = await io.confirm(`Restart the host of agent "${ref}" now? [y/N] `);
    if (!ok) {
      io.out('not restarted');
      return;
    }
  }
  const r = await c.command(ref!, 'restart');
  io.out(`restart acknowledged by ${inert(ref)}${r.command ? ` (${inert(r.command)})` : ''}; the manager shows it as restarting until it is back`);
}

export async function alertsCmd(c: Client, o: { json?: boolean; follow?: boolean; active?: boolean }, io: Io, signal?: AbortSignal): Promise<void> {
  if (o.active) {
    if (o.follow) throw new HwError('BAD_ARGS', '--active and --follow do not go together: --active lists what fires now');
    const list = await c.activeAlerts();
    print(io, !!o.json, list, () => (list.length ? list.map(alertLine).join('\n') : 'nothing is firing'));
    return;
  }
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
  io.out(done.length ? done.map((a) => `accepted ${inert(a.name)} (${inert(a.address)}, key ${inert(a.fingerprint)})`).join('\n') : 'no agent was pending');
}

/** `reject <agent>`, `reject --address <ip|cidr>` or `reject --all`: pending agents only. */
export async function rejectCmd(c: Client, ref: string | undefined, o: { address?: unknown; all?: boolean; json?: boolean }, io: Io): Promise<void> {
  const address = o.address === undefined ? undefined : String(o.address);
  if ([ref, address, o.all || undefined].filter((x) => x !== undefined).length !== 1) {
    throw new HwError('BAD_ARGS', 'reject needs one of: a pending agent, --address <ip|cidr>, --all');
  }
  const done = await c.reject(ref !== undefined ? { agent: ref } : address !== undefined ? { address } : { all: true });
  print(io, !!o.json, done, () => (done.length
    ? done.map((a) => `rejected ${inert(a.name)} (${inert(a.address)}, key ${inert(a.fingerprint)}): refused from now on`).join('\n')
    : 'no pending agent matched'));
}

export async function reloadCmd(c: Client, o: { json?: boolean }, io: Io): Promise<void> {
  const r = await c.reload();
  print(io, !!o.json, r, () => [
    `${r.file} reloaded: ${r.applied.length ? `applied ${r.applied.join(', ')}` : 'nothing changed'}`,
    ...(r.restartNeeded.length ? [`changed but kept until the manager restarts: ${r.restartNeeded.join(', ')}`] : []),
  ].join('\n'));
}

export async function configShowCmd(c: Client, o: { json?: boolean }, io: Io): Promise<void> {
  const cfg = await c.config();
  print(io, !!o.json, cfg, () => yamlText(cfg));
}

/** `silence <selector> --for 2h [--rule r] [--reason ...]`, `silence list`, `silence remove <id>`. */
export async function silenceCmd(c: Client, args: string[], o: { for?: unknown; rule?: unknown; reason?: unknown; json?: boolean }, io: Io): Promise<void> {
  const [first, second] = args;
  if (first === undefined) throw new HwError('BAD_ARGS', 'silence <agent|glob|label=value> --for 2h, silence list or silence remove <id>');
  if (first === 'list' && second === undefined) {
    const list = await c.silences();
    print(io, !!o.json, list, () => (list.length
      ? table([['ID', 'AGENTS', 'RULE', 'UNTIL', 'BY', 'REASON'], ...list.map((s) => [s.id, s.selector, s.rule ?? '(all)', s.until, s.by, s.reason ?? ''])])
      : 'no silences in force'));
    return;
  }
  if (first === 'remove') {
    if (second === undefined) throw new HwError('BAD_ARGS', 'silence remove <id> (see silence list)');
    const s = await c.unsilence(second);
    print(io, !!o.json, s, () => `silence ${s.id} removed (${s.selector}${s.rule ? ` rule ${s.rule}` : ''})`);
    return;
  }
  if (second !== undefined) throw new HwError('BAD_ARGS', `one selector per silence, got "${first}" and "${second}"`);
  if (o.for === undefined || o.for === true) throw new HwError('BAD_ARGS', 'a silence needs --for, e.g. --for 2h');
  durationMs(o.for, '--for');
  const s = await c.silence({
    selector: first, for: String(o.for), ...(typeof o.rule === 'string' ? { rule: o.rule } : {}), ...(o.reason !== undefined && o.reason !== true ? { reason: String(o.reason) } : {}),
  });
  print(io, !!o.json, s, () => `silence ${s.id}: ${s.selector}${s.rule ? ` rule ${s.rule}` : ''} until ${s.until} (alerts still recorded, not notified)`);
}

export async function rulesCmd(c: Client, ref: string | undefined, o: { json?: boolean }, io: Io): Promise<void> {
  const list = await c.rules(ref);
  print(io, !!o.json, list, () => list.map(rulesText).join('\n\n') || 'no agents');
}

function ruleLine(r: Json): string {
  const globs = (l: string[] | undefined) => (l ?? []).map((g) => `"${inert(g)}"`).join(', ');
  const tail = `for ${r.for}s (clear for ${r.clearFor}s${r.repeat ? `, repeat every ${r.repeat}s` : ''})`;
  if (r.metric === 'service') return `service ${globs(r.match)} not running ${tail}`;
  if (r.metric === 'process') return `process ${r.matchCmdline ? `command line ${globs(r.matchCmdline)}` : `name ${globs(r.match)}`}: fewer than ${r.threshold} running ${tail}`;
  if (r.metric === 'container') return `container ${r.only ? globs(r.only) : 'any'} not running, unhealthy or restarted ${tail}`;
  const unit = r.metric === 'cpu' || r.metric === 'memory' || r.metric === 'swap' || r.metric === 'disk' ? '%' : r.metric.startsWith('net_') ? ' B/s' : '';
  const per = r.per ? ` per ${r.per}` : '';
  const extra = [r.critical !== undefined ? `critical ${r.critical}${unit}` : '', `clear ${r.clear}${unit} for ${r.clearFor}s`, r.repeat ? `repeat every ${r.repeat}s` : ''].filter(Boolean).join(', ');
  return `${r.metric}${per} ${r.op} ${r.threshold}${unit} for ${r.for}s (${extra})`;
}

function rulesText(a: Json): string {
  const head = `${inert(a.agent)}  ${a.online ? 'online' : 'offline'}  ${a.version === null ? 'no rules from the manager: the agent\'s own --cpu-threshold/--cpu-for apply'
    : a.running === null ? 'agent too old to run rules' : a.inSync ? `rules ${a.version}` : `rules ${a.version} (agent runs ${a.running || 'its own flags'}: not yet applied)`}`;
  const firingText = (f: Json[]) => (f.length ? f.map((x) => `FIRING ${x.severity}${labelList(x.labels)}`).join('; ') : 'ok');
  const rows = (a.rules ?? []).map((r: Json) => [r.name, ruleLine(r), firingText(r.firing)]);
  rows.push(['agent_down', `silent for ${a.agentDown.after} intervals (judged by the manager)`, firingText(a.agentDown.firing)]);
  for (const o of a.other ?? []) rows.push([o.rule, '(not in the current rules)', firingText([o])]);
  for (const n of a.notSent ?? []) rows.push([n.rule, `not sent: the agent is too old (it does not name ${n.feature}): upgrade it`, '-']);
  return `${head}\n${table(rows.map((r: string[]) => ['  ' + r[0], r[1], r[2]]))}`;
}

function labelList(l: Json | undefined): string {
  const parts = Object.entries(l ?? {}).map(([k, v]) => `${k}=${String(v)}`);
  return parts.length ? ` ${parts.join(' ')}` : '';
}

export async function revokeCmd(c: Client, ref: string, io: Io): Promise<void> {
  const a = await c.revoke(ref);
  io.out(`revoked ${inert(a.name)}: its key ${inert(a.fingerprint)} is refused from now on`);
}

/** `--points`: how many points at most. */
export function parsePoints(v: unknown): number {
  if (v === undefined) return HISTORY_DEFAULT_POINTS;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > HISTORY_MAX_POINTS) throw new HwError('BAD_ARGS', `--points must be a whole number from 1 to ${HISTORY_MAX_POINTS}`);
  return n;
}

export async function historyCmd(c: Client, ref: string, o: { since?: unknown; points?: unknown; json?: boolean; detail?: boolean }, io: Io, now = Date.now()): Promise<void> {
  const since = now - durationMs(o.since ?? '10m', '--since');
  const h = await c.history(ref, { from: since, to: now, points: parsePoints(o.points), ...(o.detail ? { detail: true } : {}) });
  const pts = h.points as Json[];
  print(io, !!o.json, h, () => {
    if (!pts.length) return `no samples from ${inert(h.agent)} since ${new Date(since).toISOString()}`;
    // A roll-up point shows the average, and the peak CPU of its span beside it.
    const rolled = pts.some((p) => p.max);
    const rows = [['TIME', 'CPU', ...(rolled ? ['CPU MAX'] : []), 'MEM', 'DISK', 'NET IN', 'NET OUT', 'PROCS', '']];
    for (const p of pts) {
      rows.push([String(p.at).replace('T', ' ').replace(/\.\d+Z$/, 'Z'), pct(p.cpuPercent), ...(rolled ? [pct((p.max as Json | undefined)?.cpuPercent)] : []),
        pct(p.memPercent), pct(p.diskPercent), rate(p.netRxRate), rate(p.netTxRate), p.processCount == null ? '-' : String(Math.round(Number(p.processCount))),
        p.backfill ? 'backfill' : '']);
    }
    const step = Number(h.step);
    const head = `${inert(h.agent)}: ${pts.length} points, tier ${String(h.tier)}, one every ${step >= 60_000 ? `${Math.round(step / 60_000)} min` : `${step / 1000} s`}`;
    return `${head}\n${table(rows)}`;
  });
}

/** `services <agent|selector> [--failed]`: a viewer's read (GET), so a selector is asked agent by agent. */
export async function servicesCmd(c: Client, ref: string | undefined, o: { json?: boolean; failed?: boolean } & Many, io: Io): Promise<void> {
  const failed = !!o.failed;
  const sel = manySelection(ref, o);
  if (!sel) {
    const r = await c.services(ref!, failed);
    print(io, !!o.json, r, () => servicesText(r, failed));
    return;
  }
  const targets = await c.select(sel);
  let bad = 0;
  for (const a of targets) {
    try {
      const r = await c.services(a.id, failed);
      io.out(o.json ? JSON.stringify({ agent: a.name, agentId: a.id, ok: true, result: r }) : `== ${inert(a.name)} ==\n${servicesText(r, failed)}`);
    } catch (err) {
      bad++;
      const e = err as HwError;
      io.out(o.json ? JSON.stringify({ agent: a.name, agentId: a.id, ok: false, error: { code: e.code ?? 'INTERNAL', message: e.message } }) : `== ${inert(a.name)} ==  ${inert(e.code)}: ${inert(e.message)}`);
    }
  }
  if (bad) throw new HwError('SOME_FAILED', `${bad} of ${targets.length} hosts did not answer`);
}
