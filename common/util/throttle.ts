// Lets a repeated log line through once per period per key, with the count held back since:
// refused addresses, dropped datagrams, protocol errors, wrong API tokens, odd manager messages.

/** A repeated log line (refused address, dropped datagram...) at most once per this period, with a count. */
export const LOG_THROTTLE_PERIOD_MS = 60_000;

const MAX_KEYS = 10_000;
/**
 * Keys evicted at once past the cap. A Map keeps a deleted entry's slot until it rehashes, and a
 * new keys() iterator walks past every such slot from the front: evicting one key per note made
 * each note walk thousands of them (3 us a note at 20,000 keys against 0.1 us below the cap,
 * `npm run bench -- --only log-throttle`). One walk for a tenth of the table spreads that cost.
 */
const EVICT_BATCH = MAX_KEYS / 10;

export class LogThrottle {
  private readonly last = new Map<string, { at: number; dropped: number }>();
  private readonly now: () => number;
  private readonly periodMs: number;

  constructor(opts: { now?: () => number; periodMs?: number } = {}) {
    this.now = opts.now ?? Date.now;
    this.periodMs = opts.periodMs ?? LOG_THROTTLE_PERIOD_MS;
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
    // Re-insert so the map's order is the order of last logging: the oldest come first.
    this.last.delete(key);
    this.last.set(key, { at: t, dropped: 0 });
    // Bounded: past the cap the oldest entries go (a flood of spoofed sources then merely logs more).
    if (this.last.size > MAX_KEYS) {
      let n = this.last.size - MAX_KEYS + EVICT_BATCH;
      for (const k of this.last.keys()) {
        this.last.delete(k);
        if (--n === 0) break;
      }
    }
    return count;
  }
}
