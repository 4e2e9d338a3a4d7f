// A read for the rules that runs beside the reports, not inside them (services, processes): started
// by a report's tick when one is due, never two at once, at most once every `everyMs`; its result is
// judged by the rules as a round of its own. A read that fails is said once per reason, and the
// rule is not judged until it can be read again.
import type { RuleInputs } from './rule-eval.ts';

export interface RuleWatchOptions<T> {
  read: () => Promise<T>;
  /** the round the rules judge, from what was read */
  inputs: (v: T, at: number) => RuleInputs;
  feed: (inputs: RuleInputs) => void;
  /** time between two reads' starts */
  everyMs: number;
  log: (line: string) => void;
  /** in the log lines: "the services for the service rules" */
  what: string;
  now?: () => number;
}

export class RuleWatch<T> {
  private readonly o: RuleWatchOptions<T>;
  private lastStart = -Infinity;
  private inFlight = false;
  private lastError = '';

  constructor(o: RuleWatchOptions<T>) {
    this.o = o;
  }

  /** Called each report: starts a read when one is due and none is running. */
  tick(): void {
    const now = (this.o.now ?? Date.now)();
    if (this.inFlight || now - this.lastStart < this.o.everyMs) return;
    this.lastStart = now;
    this.inFlight = true;
    this.o.read().then(
      (v) => {
        this.inFlight = false;
        if (this.lastError) this.o.log(`${this.o.what} can be read again`);
        this.lastError = '';
        this.o.feed(this.o.inputs(v, (this.o.now ?? Date.now)()));
      },
      (err: Error & { code?: string }) => {
        this.inFlight = false;
        // Said once per reason: a host without systemd would otherwise log it at every read.
        const why = `${err.code ? `${err.code}: ` : ''}${err.message}`;
        if (why !== this.lastError) this.o.log(`cannot read ${this.o.what} (not judged until they can be read): ${why}`);
        this.lastError = why;
      },
    );
  }
}
