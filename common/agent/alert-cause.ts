// What an alert names as its cause: the top 3 processes when a cpu, memory or processes rule fires
// (by CPU for cpu and processes, by memory for memory). Read at once, where that needs no child
// process (Linux); a read that fails leaves the alert without `top`, never late or lost.
//
// CPU % is a delta since the sampler's previous reading, so that reading is taken when the CPU
// first goes above the lowest cpu rule's threshold: when the rule fires (after its `for`), the
// figures cover the time it was high rather than hours of quiet before. Not when a reading is
// younger than PRE_READING_MIN_MS (the history of who reads every minute): a host whose CPU hovers
// at the threshold crosses it every few seconds, and each reading lists every process (on a loaded
// host it was most of the agent's CPU).
import type { ProcessSort, TopProcesses } from '../collect/types.ts';
import { ALERT_TOP_MAX, type AlertTop } from '../wire/messages.ts';
import type { RuleEvaluator } from './rule-eval.ts';

const SORT_OF: Record<string, ProcessSort> = { cpu: 'cpu', memory: 'mem', processes: 'cpu' };
/** A reading younger than this stands for the one taken as the CPU goes high. */
export const PRE_READING_MIN_MS = 60_000;

export interface AlertCause {
  /** the processes to name in an alert of this rule as it fires, or undefined */
  cause?: (rule: string) => AlertTop[] | undefined;
  /** each CPU reading of the alert sampler */
  watchCpu?: (cpu: number | null) => void;
}

export function alertCause(deps: { topProcessesNow?(o: { n: number; sort: ProcessSort; maxAgeMs?: number }): TopProcesses }, evaluator: RuleEvaluator): AlertCause {
  const now = deps.topProcessesNow?.bind(deps);
  if (!now) return {};
  let above = false;
  return {
    cause: (rule) => {
      const r = evaluator.rules.find((x) => x.name === rule);
      const sort = r ? SORT_OF[r.metric] : undefined;
      if (!sort) return undefined;
      try {
        return now({ n: ALERT_TOP_MAX, sort }).processes.map((p) => ({ pid: p.pid, name: p.name, cpuPercent: p.cpuPercent, memBytes: p.memBytes }));
      } catch {
        return undefined;
      }
    },
    watchCpu: (cpu) => {
      const lowest = Math.min(...evaluator.rules.filter((r) => r.metric === 'cpu' && r.op === 'above').map((r) => r.threshold));
      const high = cpu !== null && cpu >= lowest;
      if (high && !above) {
        try {
          now({ n: 1, sort: 'cpu', maxAgeMs: PRE_READING_MIN_MS });
        } catch {
          // the alert will say nothing of processes
        }
      }
      above = high;
    },
  };
}
