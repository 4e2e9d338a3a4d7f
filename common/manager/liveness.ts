// Which agents are down: an agent silent for three intervals (never less than MIN_SILENCE_MS).
// After a manager start, known agents have a grace period to come back first, which ends for
// each agent as soon as it has reconnected. Pure logic on an injected clock: the manager runs
// sweep() on a timer and acts on what it returns.

import { BACKOFF_CAP_MS } from '../util/backoff.ts';

/** Liveness: an agent is down after this many silent intervals, never after less than MIN_SILENCE_MS. */
export const SILENT_INTERVALS = 3;
export const MIN_SILENCE_MS = 3000;
/** How often the liveness sweep runs; a sweep later than this plus LIVENESS_LATE_MS judges nobody. */
const LIVENESS_SWEEP_MS = 500;
const LIVENESS_LATE_MS = 1500;

export interface LivenessRecord {
  id: string;
  trust: 'accepted' | 'pending';
  down: boolean;
  /** seconds between reports (0: unknown, the default interval is assumed) */
  interval: number;
  /** last report or answer (ms since epoch); from before the start for an agent not back yet */
  lastSeen: number | null;
}

export interface LivenessOptions {
  now: () => number;
  /** after a start, how long known agents have to come back (default: the agents' backoff cap) */
  startGraceMs?: number;
  sweepMs?: number;
  lateMs?: number;
  defaultIntervalS?: number;
}

export class Liveness {
  readonly sweepMs: number;
  private readonly now: () => number;
  private readonly graceMs: number;
  private readonly lateMs: number;
  private readonly defaultIntervalS: number;
  /** intervals of silence before an agent is down (agent_down's `after`) */
  silentIntervals = SILENT_INTERVALS;
  private startedAt = 0;
  private lastSweep = 0;
  private skipped = false;

  constructor(o: LivenessOptions) {
    this.now = o.now;
    this.graceMs = o.startGraceMs ?? BACKOFF_CAP_MS;
    this.sweepMs = o.sweepMs ?? LIVENESS_SWEEP_MS;
    this.lateMs = o.lateMs ?? LIVENESS_LATE_MS;
    this.defaultIntervalS = o.defaultIntervalS ?? 5;
  }

  start(at = this.now()): void {
    this.startedAt = at;
    this.lastSweep = at;
  }

  /** How long `rec` may stay silent. */
  limitMs(rec: LivenessRecord): number {
    return Math.max((rec.interval || this.defaultIntervalS) * 1000 * this.silentIntervals, MIN_SILENCE_MS);
  }

  /** The time at which `rec` counts as down if nothing more is heard from it. */
  deadline(rec: LivenessRecord): number {
    const heard = rec.lastSeen ?? 0;
    // Heard from since this start: it is back, its own silence is what counts. Not yet: the
    // grace period first (its last report before the restart says nothing about it now).
    const since = heard >= this.startedAt ? heard : this.startedAt + this.graceMs;
    return since + this.limitMs(rec);
  }

  /** Seconds of silence to report for `rec` at time `t`. */
  silentSeconds(rec: LivenessRecord, t = this.now()): number {
    return Math.round((t - (rec.lastSeen || this.startedAt)) / 1000);
  }

  /**
   * The accepted agents, not already down, whose deadline has passed. A sweep that runs late
   * means this process was stalled, not that agents were silent (their messages wait unread):
   * it judges nobody, and the next one does (even if late too: a loaded machine must still see
   * its agents go down).
   */
  sweep<R extends LivenessRecord>(records: Iterable<R>): R[] {
    const t = this.now();
    const late = t - this.lastSweep > this.sweepMs + this.lateMs;
    this.lastSweep = t;
    if (late && !this.skipped) {
      this.skipped = true;
      return [];
    }
    this.skipped = false;
    const down: R[] = [];
    for (const rec of records) {
      if (rec.down || rec.trust !== 'accepted') continue;
      if (t > this.deadline(rec)) down.push(rec);
    }
    return down;
  }
}
