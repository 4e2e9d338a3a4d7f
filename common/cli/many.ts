// Agent commands with a selector that can name several hosts ('web-*', role=db, --label, --all):
// each host's result printed as it answers (a block of text, or one JSON object a line), then a
// summary line; success only if every host succeeded. Shared by the CLI and the console.

import { mkdirSync, existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { JobSummary, Selection } from '../api/types.ts';
import { jobRequest, parallel as parallelOf } from '../api/validate.ts';
import { HwError } from '../errors.ts';
import { isMulti } from '../rules/selector.ts';
import type { Client } from './client.ts';
import type { Io } from './io.ts';
import type { Json } from './format.ts';
import { inert } from '../util/inert.ts';

export type { Selection };

export interface ManyOptions {
  json?: boolean;
  parallel?: unknown;
  /** seconds each host has to answer */
  timeout?: unknown;
}

type Summary = JobSummary;

/** The selection a command line gives, or undefined for one agent named exactly (the usual path). */
export function manySelection(ref: string | undefined, o: { label?: unknown; all?: unknown }): Selection | undefined {
  const label = o.label === undefined || o.label === true ? undefined : String(o.label);
  if (o.label === true) throw new HwError('BAD_ARGS', '--label needs name=value, e.g. --label role=db');
  const all = o.all === true;
  const given = [ref !== undefined, label !== undefined, all].filter(Boolean).length;
  if (given > 1) throw new HwError('BAD_ARGS', 'give one of an agent (or glob, label=value), --label or --all');
  if (!given) throw new HwError('BAD_ARGS', 'which agents? give an agent, a glob like \'web-*\', --label role=db or --all');
  if (all) return { all: true };
  if (label !== undefined) return { label };
  return isMulti(ref!) ? { selector: ref! } : undefined;
}

function printResult(io: Io, json: boolean, r: Json, text: (result: Json) => string): void {
  if (json) {
    io.out(JSON.stringify(r.ok ? { agent: r.agent, agentId: r.agentId, ok: true, result: r.result } : { agent: r.agent, agentId: r.agentId, ok: false, error: r.error }));
    return;
  }
  io.out(r.ok ? `== ${inert(r.agent)} ==\n${text(r.result)}` : `== ${inert(r.agent)} ==  ${inert(r.error?.code)}: ${inert(r.error?.message)}`);
}

/** Prints the summary line; throws (a non-zero exit) unless every host succeeded. */
function finish(io: Io, json: boolean, s: Summary): void {
  io.out(json ? JSON.stringify({ summary: s }) : `${s.total} host${s.total === 1 ? '' : 's'}: ${s.ok} ok, ${s.failed} failed, ${s.offline} offline, ${s.timeout} timeout`);
  const bad = s.total - s.ok;
  if (!bad) return;
  const code = s.offline === bad ? 'AGENT_OFFLINE' : s.timeout === bad ? 'TIMEOUT' : 'SOME_FAILED';
  throw new HwError(code, `${bad} of ${s.total} hosts did not succeed`);
}

export async function manyCommand(c: Client, sel: Selection, cmd: 'status' | 'procs' | 'logs' | 'restart' | 'top', args: Json, o: ManyOptions, io: Io, text: (r: Json) => string): Promise<void> {
  // Checked here with the manager's own validator: a mistake is said before anything is sent.
  const job = jobRequest({ ...sel, cmd, args, ...(o.parallel !== undefined ? { parallel: o.parallel } : {}), ...(o.timeout !== undefined ? { timeout: o.timeout } : {}) });
  const summary = await c.job(job, (r) => printResult(io, !!o.json, r, text));
  finish(io, !!o.json, summary as Summary);
}

/** restart to many: lists the hosts first, and goes on only with --yes. */
export async function manyRestart(c: Client, sel: Selection, o: ManyOptions & { yes?: boolean }, io: Io): Promise<void> {
  const targets = await c.select(sel);
  io.out(`restart ${targets.length} host${targets.length === 1 ? '' : 's'}: ${targets.map((a) => `${inert(a.name)}${a.online ? '' : ' (offline)'}`).join(', ')}`);
  if (!o.yes) throw new HwError('BAD_ARGS', `restarting several hosts needs --yes (the ${targets.length} above)`);
  await manyCommand(c, sel, 'restart', {}, o, io, (r) => `restart acknowledged${r.command ? ` (${r.command})` : ''}`);
}

/** fetch from many: `<dest>/<agent>/<file name>` for each, at most `parallel` at a time. */
export async function manyFetch(c: Client, sel: Selection, remote: string, dest: string | undefined, o: ManyOptions & { force?: boolean }, io: Io, signal?: AbortSignal): Promise<void> {
  if (!remote) throw new HwError('BAD_ARGS', 'fetch needs the path of the file on the agents');
  const targets = await c.select(sel);
  const name = basename(remote.replace(/\\/g, '/'));
  if (!name || name === '.' || name === '..') throw new HwError('BAD_ARGS', `fetch needs the path of a file, not "${inert(remote.slice(0, 200))}"`);
  const root = resolve(dest ?? '.');
  const summary: Summary = { total: targets.length, ok: 0, failed: 0, offline: 0, timeout: 0 };
  let next = 0;
  const worker = async () => {
    while (next < targets.length && !signal?.aborted) {
      const a = targets[next++]!;
      let r: Json;
      try {
        const dir = join(root, folderName(a.name));
        const target = join(dir, name);
        if (existsSync(target) && !o.force) throw new HwError('BAD_ARGS', `${target} already exists: add --force to overwrite`);
        mkdirSync(dir, { recursive: true });
        r = { agent: a.name, agentId: a.id, ok: true, result: await c.fetch(`id:${a.id}`, remote, target, undefined, signal) };
      } catch (err) {
        const e = err instanceof HwError ? err.toJSON() : { code: 'INTERNAL', message: (err as Error).message };
        r = { agent: a.name, agentId: a.id, ok: false, error: e };
      }
      const b = r.ok ? 'ok' : r.error.code === 'AGENT_OFFLINE' || r.error.code === 'PENDING' ? 'offline' : r.error.code === 'TIMEOUT' ? 'timeout' : 'failed';
      summary[b]++;
      printResult(io, !!o.json, r, (x) => `${inert(x.path)}: ${x.bytes} bytes, sha256 ${x.sha256}`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallelOf(o.parallel), targets.length) }, worker));
  if (signal?.aborted) throw new HwError('CANCELLED', 'cancelled');
  finish(io, !!o.json, summary);
}

/**
 * A folder name made from an agent's name, which the agent chose: no separator, no control
 * character, never `.` or `..`, so every agent's file lands inside the destination folder.
 */
export function folderName(agentName: string): string {
  const safe = agentName.replace(/[\u0000-\u001f\u007f-\u009f/\\:]/g, '_').trim();
  return !safe || /^\.+$/.test(safe) ? `_${safe}` : safe;
}
