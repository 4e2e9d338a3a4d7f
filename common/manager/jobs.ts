// A command to many agents at once: the agents a selector names (a name, id or IP; a glob;
// label=value; --label; --all), the command run on at most `parallel` of them at a time, each
// result passed on as that host answers, then the summary. Offline and pending agents are not
// asked; they are counted as such.

import { JOB_DEFAULT_PARALLEL, JOB_MAX_PARALLEL } from '../constants.ts';
import { HwError, toWireError } from '../errors.ts';
import { isMulti, matches } from '../rules/selector.ts';
import type { CommandName } from '../wire/messages.ts';
import type { Manager } from './manager.ts';
import type { AgentRecord } from './state.ts';

export interface Selection {
  /** a name, id or IP (one agent), or a glob or label=value (any number) */
  selector?: string;
  /** label=value */
  label?: string;
  all?: boolean;
}

export interface JobResult {
  agent: string;
  agentId: string;
  ok: boolean;
  result?: unknown;
  error?: { code: string; message: string };
}

export interface JobSummary {
  total: number;
  ok: number;
  failed: number;
  offline: number;
  timeout: number;
}

/** Checks a selection from the API or the console; BAD_ARGS naming what is wrong. */
export function parseSelection(b: Record<string, unknown>): Selection {
  const sel: Selection = {};
  if (b.selector !== undefined) {
    if (typeof b.selector !== 'string' || !b.selector) throw new HwError('BAD_ARGS', '"selector" must be an agent name, id, IP, glob or label=value');
    sel.selector = b.selector;
  }
  if (b.label !== undefined) {
    if (typeof b.label !== 'string' || !/^[^=]+=.*$/.test(b.label)) throw new HwError('BAD_ARGS', '--label must be name=value, e.g. --label role=db');
    sel.label = b.label;
  }
  if (b.all === true) sel.all = true;
  const n = [sel.selector, sel.label, sel.all].filter((x) => x !== undefined).length;
  if (n !== 1) throw new HwError('BAD_ARGS', n ? 'give one of an agent (or glob, label=value), --label or --all' : 'which agents? give an agent, a glob like \'web-*\', --label role=db or --all');
  return sel;
}

/** Whether a selection may name several agents (and so is answered host by host with a summary). */
export function isMany(sel: Selection): boolean {
  return !!sel.all || sel.label !== undefined || (sel.selector !== undefined && isMulti(sel.selector));
}

/** The agents a selection names, by name; AGENT_NOT_FOUND when none. */
export function select(manager: Manager, sel: Selection): AgentRecord[] {
  if (sel.selector !== undefined && !isMulti(sel.selector)) return [manager.state.find(sel.selector)];
  const pattern = sel.label ?? sel.selector;
  const hits = manager.state.agents().filter((a) => sel.all || matches(pattern!, a));
  if (!hits.length) throw new HwError('AGENT_NOT_FOUND', sel.all ? 'no agents yet' : `"${pattern}" matches no agent (see \`agents\`)`);
  return hits;
}

export function parseParallel(v: unknown): number {
  if (v === undefined) return JOB_DEFAULT_PARALLEL;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > JOB_MAX_PARALLEL) throw new HwError('BAD_ARGS', `--parallel must be a whole number from 1 to ${JOB_MAX_PARALLEL}`);
  return n;
}

/** The outcome's bucket in the summary. */
export function bucket(r: JobResult): keyof Omit<JobSummary, 'total'> {
  if (r.ok) return 'ok';
  if (r.error?.code === 'AGENT_OFFLINE' || r.error?.code === 'PENDING') return 'offline';
  if (r.error?.code === 'TIMEOUT') return 'timeout';
  return 'failed';
}

export async function runJob(o: {
  manager: Manager; targets: AgentRecord[]; cmd: Exclude<CommandName, 'fetch'>; args: Record<string, unknown>;
  parallel: number; timeoutMs?: number; by: string; onResult: (r: JobResult) => void | Promise<void>; signal?: AbortSignal;
}): Promise<JobSummary> {
  const summary: JobSummary = { total: o.targets.length, ok: 0, failed: 0, offline: 0, timeout: 0 };
  let next = 0;
  const worker = async () => {
    while (next < o.targets.length && !o.signal?.aborted) {
      const rec = o.targets[next++]!;
      let r: JobResult;
      try {
        // By exact id: the target is chosen, and a bare id could also be another agent's name.
        const result = await o.manager.command(`id:${rec.id}`, o.cmd, o.args, o.by, o.timeoutMs);
        r = { agent: rec.name, agentId: rec.id, ok: true, result: result ?? {} };
      } catch (err) {
        r = { agent: rec.name, agentId: rec.id, ok: false, error: toWireError(err) };
      }
      summary[bucket(r)]++;
      await o.onResult(r);
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.parallel, o.targets.length) }, worker));
  return summary;
}
