// A command to many agents at once: the agents a selector names (a name, id or IP; a glob;
// label=value; --label; --all), the command run on at most `parallel` of them at a time, each
// result passed on as that host answers, then the summary. Offline and pending agents are not
// asked; they are counted as such.

import type { JobResult, JobSummary, Selection } from './types.ts';
import { HwError, toWireError } from '../errors.ts';
import { isMulti, matches } from '../rules/selector.ts';
import type { CommandName } from '../wire/messages.ts';
import type { Manager } from '../manager/manager.ts';
import type { AgentRecord } from '../manager/state.ts';

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
