// Reads the host's services for `metric: service` rules, only while such a rule exists: at most
// once a report interval and never more than once every 10 s (systemctl costs a process and a
// D-Bus round trip, PowerShell far more).
import type { ServiceRow } from '../api/types.ts';
import type { RuleInputs } from './rule-eval.ts';
import { RuleWatch } from './rule-watch.ts';

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

export class ServiceWatch extends RuleWatch<{ rows: ServiceRow[] }> {
  constructor(o: ServiceWatchOptions) {
    super({ ...o, what: 'the services for the service rules', inputs: ({ rows }, at) => ({ at, services: rows.map((r) => ({ name: r.name, running: r.running })) }) });
  }
}
