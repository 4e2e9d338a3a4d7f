// Sign-in attempts counted per address and per user name in a sliding window, and counted when
// they start, before any password is hashed: a burst of guesses sent at once is refused past the
// limit instead of each costing a 32 MiB scrypt. Hashes in flight are capped too, per address, per
// user and in all, so a few addresses cannot keep every core (and the memory) busy. A correct
// password takes its attempt back.

const MAX_KEYS = 50_000;

export interface LoginLimitOptions {
  now?: () => number;
  windowMs?: number;
  /** failed attempts per address within the window (a success gives back only its own: one good account must not launder guesses) */
  perAddress?: number;
  /** failed attempts per user name within the window, from any address */
  perUser?: number;
  /** password checks running at once from one address, for one user, and in all */
  inFlightPerAddress?: number;
  inFlightPerUser?: number;
  inFlightTotal?: number;
}

export class LoginLimit {
  private readonly attempts = new Map<string, number[]>();
  private readonly running = new Map<string, number>();
  private total = 0;
  private readonly now: () => number;
  private readonly o: Required<Omit<LoginLimitOptions, 'now'>>;
  /** password hashes computed (for /api/web/stats: a flood shows here) */
  hashes = 0;
  /** attempts refused before hashing */
  refused = 0;

  constructor(opts: LoginLimitOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.o = {
      windowMs: opts.windowMs ?? 15 * 60_000, perAddress: opts.perAddress ?? 20, perUser: opts.perUser ?? 5,
      inFlightPerAddress: opts.inFlightPerAddress ?? 2, inFlightPerUser: opts.inFlightPerUser ?? 2, inFlightTotal: opts.inFlightTotal ?? 4,
    };
  }

  /** Seconds to wait before trying again, or 0 when an attempt is allowed now. */
  retryAfter(address: string, user: string): number {
    const t = this.now();
    const wait = (key: string, max: number) => {
      const list = this.recent(key, t);
      return list.length >= max ? Math.max(1, Math.ceil((list[list.length - max]! + this.o.windowMs - t) / 1000)) : 0;
    };
    const busy = (this.running.get(`a:${address}`) ?? 0) >= this.o.inFlightPerAddress
      || (this.running.get(`u:${user}`) ?? 0) >= this.o.inFlightPerUser || this.total >= this.o.inFlightTotal;
    return Math.max(wait(`a:${address}`, this.o.perAddress), wait(`u:${user}`, this.o.perUser), busy ? 1 : 0);
  }

  /**
   * Starts an attempt: counted now, before the hash. Returns the seconds to wait when it is refused
   * (nothing counted then), else 0; an allowed attempt must be ended with `end`.
   */
  begin(address: string, user: string): number {
    const wait = this.retryAfter(address, user);
    if (wait > 0) {
      this.refused++;
      return wait;
    }
    this.failed(address, user);
    for (const k of [`a:${address}`, `u:${user}`]) this.running.set(k, (this.running.get(k) ?? 0) + 1);
    this.total++;
    this.hashes++;
    return 0;
  }

  /** Ends an attempt begun; a correct password takes its own attempt back and clears the user's count. */
  end(address: string, user: string, ok: boolean): void {
    for (const k of [`a:${address}`, `u:${user}`]) {
      const n = (this.running.get(k) ?? 1) - 1;
      if (n > 0) this.running.set(k, n);
      else this.running.delete(k);
    }
    this.total = Math.max(0, this.total - 1);
    if (!ok) return;
    // Only this attempt: the address's other failures stay counted.
    const list = this.attempts.get(`a:${address}`);
    list?.pop();
    if (list && !list.length) this.attempts.delete(`a:${address}`);
    this.succeeded(user);
  }

  /** Counts a failed attempt (a refused sign-in link, a wrong password). */
  failed(address: string, user: string): void {
    const t = this.now();
    if (this.attempts.size >= MAX_KEYS) this.prune(t);
    for (const key of [`a:${address}`, `u:${user}`]) {
      const list = this.recent(key, t);
      list.push(t);
      if (list.length > 100) list.splice(0, list.length - 100);
      this.attempts.set(key, list);
    }
  }

  /** A correct password clears the user's count (not the address's). */
  succeeded(user: string): void {
    this.attempts.delete(`u:${user}`);
  }

  private recent(key: string, t: number): number[] {
    const list = this.attempts.get(key) ?? [];
    while (list.length && list[0]! <= t - this.o.windowMs) list.shift();
    if (!list.length) this.attempts.delete(key);
    return list;
  }

  private prune(t: number): void {
    for (const key of [...this.attempts.keys()]) this.recent(key, t);
  }
}
