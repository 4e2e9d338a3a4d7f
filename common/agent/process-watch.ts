// Counts the processes the `metric: process` rules match, only while such a rule exists: at most
// once a report interval and never more than once every 5 s on Linux (a listing of /proc with
// one small read a process), 15 s on Windows (tasklist is a process of its own).
import type { ProcessCounter } from '../collect/process-match.ts';
import type { Rule } from '../rules/rule.ts';
import type { RuleInputs } from './rule-eval.ts';
import { RuleWatch } from './rule-watch.ts';

/** The shortest time between two counts, whatever the interval. */
export const PROCESS_READ_MIN_MS = { linux: 5_000, win32: 15_000 } as const;

export function processReadMinMs(platform: NodeJS.Platform): number {
  return platform === 'win32' ? PROCESS_READ_MIN_MS.win32 : PROCESS_READ_MIN_MS.linux;
}

export function processWatch(o: {
  counter: ProcessCounter; rules: () => Rule[]; feed: (inputs: RuleInputs) => void; everyMs: number; log: (line: string) => void; now?: () => number;
}): RuleWatch<{ rules: Rule[]; counts: (number | null)[] }> {
  const said = new Set<string>();
  return new RuleWatch({
    what: 'the processes for the process rules', everyMs: o.everyMs, log: o.log, feed: o.feed, ...(o.now ? { now: o.now } : {}),
    read: async () => {
      const rules = o.rules().filter((r) => r.metric === 'process');
      const counts = await o.counter.count(rules.map((r) => (r.matchCmdline ? { cmdlines: r.matchCmdline } : { names: r.match ?? [] })));
      for (const [i, r] of rules.entries()) {
        if (counts[i] !== null || said.has(r.name)) continue;
        said.add(r.name);
        o.log(`process rule ${r.name}: ${o.counter.cmdlineUnreadable ?? 'cannot be judged on this host'}`);
      }
      return { rules, counts };
    },
    // A rule that cannot be judged here is left out of the round (not a gap of null each time).
    inputs: ({ rules, counts }, at) => ({ at, processMatches: Object.fromEntries(rules.flatMap((r, i) => (counts[i] === null || counts[i] === undefined ? [] : [[r.name, counts[i]!]]))) }),
  });
}
