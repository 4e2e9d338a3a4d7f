// Reconnect delay: min(base * 2^n, cap) with full jitter (a uniform draw below it), so that
// agents of a restarted manager do not all come back in the same second.

/** Reconnect backoff: min(base * 2^n, cap) with full jitter. */
export const BACKOFF_BASE_MS = 500;
export const BACKOFF_CAP_MS = 30_000;

export class Backoff {
  private attempt = 0;
  private readonly base: number;
  private readonly cap: number;
  private readonly random: () => number;

  constructor(opts: { baseMs?: number; capMs?: number; random?: () => number } = {}) {
    this.base = opts.baseMs ?? BACKOFF_BASE_MS;
    this.cap = opts.capMs ?? BACKOFF_CAP_MS;
    this.random = opts.random ?? Math.random;
  }

  /** The ceiling of the next delay, before jitter. */
  get ceiling(): number {
    return Math.min(this.base * 2 ** Math.min(this.attempt, 30), this.cap);
  }

  next(): number {
    const ceiling = this.ceiling;
    this.attempt++;
    return Math.floor(this.random() * ceiling);
  }

  reset(): void {
    this.attempt = 0;
  }
}
