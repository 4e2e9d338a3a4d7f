// Reads the host's services for `metric: service` rules, only while such a rule exists: at most
// once a report interval and never more than once every 10 s (systemctl costs a process and a
// D-Bus round trip, PowerShell far more). The read runs beside the reports, not inside them, and
// its result is judged by the rules as a round of its own.
import type { ServiceRow } from '../api/types.ts';
import type { RuleInputs } from './rule-eval.ts';

/** The shortest time between two reads of the services, whatever the interval. */
export const SERVICE_READ_MIN_MS = 10_000;

export interface ServiceWatchOptions {
  read: () => Promise<{ rows: ServiceRow[] }>;
  feed: (inputs: RuleInputs) => void;
  /** time between reads: the report interval, at least SERVICE_READ_MIN_MS */
  everyMs: number;
  log: (line: string) => void;
  now?: () => number;
}

export class ServiceWatch {
  private readonly o: ServiceWatchOptions;
  private lastStart = -Infinity;
  private inFlight = false;
  private lastError = '';

  constructor(o: ServiceWatchOptions) {
    this.o = o;
  }

  /** Called each report: starts a read when one is due and none is running. */
  tick(): void {
    const now = (this.o.now ?? Date.now)();
    if (this.inFlight || now - this.lastStart < this.o.everyMs) return;
    this.lastStart = now;
    this.inFlight = true;
    this.o.read().then(
      ({ rows }) => {
        this.inFlight = false;
        if (this.lastError) this.o.log('services can be read again for the rules');
        this.lastError = '';
        this.o.feed({ at: (this.o.now ?? Date.now)(), services: rows.map((r) => ({ name: r.name, running: r.running })) });
      },
      (err: Error & { code?: string }) => {
        this.inFlight = false;
        // Said once per reason: a host without systemd would otherwise log it every 10 s.
        const why = `${err.code ? `${err.code}: ` : ''}${err.message}`;
        if (why !== this.lastError) this.o.log(`cannot read the services for the service rules (not judged until they can be read): ${why}`);
        this.lastError = why;
      },
    );
  }
}
