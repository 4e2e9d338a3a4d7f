// Logs a refused address once per period, with the count dropped since, instead of once per packet.

import { REFUSED_LOG_PERIOD_MS } from '../constants.ts';

export class RefusedLog {
  private readonly last = new Map<string, { at: number; dropped: number }>();
  private readonly now: () => number;
  private readonly periodMs: number;

  constructor(opts: { now?: () => number; periodMs?: number } = {}) {
    this.now = opts.now ?? Date.now;
    this.periodMs = opts.periodMs ?? REFUSED_LOG_PERIOD_MS;
  }

  /** Returns the number of refusals to report now (1 + those held back), or 0 to stay quiet. */
  note(key: string): number {
    const t = this.now();
    const e = this.last.get(key);
    if (e && t - e.at < this.periodMs) {
      e.dropped++;
      return 0;
    }
    const count = 1 + (e?.dropped ?? 0);
    this.last.set(key, { at: t, dropped: 0 });
    if (this.last.size > 10_000) this.prune(t);
    return count;
  }

  private prune(t: number): void {
    for (const [k, v] of this.last) if (t - v.at >= this.periodMs) this.last.delete(k);
  }
}
