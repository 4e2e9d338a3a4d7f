// Failed sign-ins counted per address and per user name in a sliding window: past the limit, the
// next attempt is refused with RATE_LIMITED before any password is checked (no scrypt for free).

import { WEB_LOGIN_FAILS_PER_ADDRESS, WEB_LOGIN_FAILS_PER_USER, WEB_LOGIN_WINDOW_MS } from '../constants.ts';

const MAX_KEYS = 50_000;

export class LoginLimit {
  private readonly fails = new Map<string, number[]>();
  private readonly now: () => number;
  private readonly windowMs: number;
  private readonly perAddress: number;
  private readonly perUser: number;

  constructor(opts: { now?: () => number; windowMs?: number; perAddress?: number; perUser?: number } = {}) {
    this.now = opts.now ?? Date.now;
    this.windowMs = opts.windowMs ?? WEB_LOGIN_WINDOW_MS;
    this.perAddress = opts.perAddress ?? WEB_LOGIN_FAILS_PER_ADDRESS;
    this.perUser = opts.perUser ?? WEB_LOGIN_FAILS_PER_USER;
  }

  /** Seconds to wait before trying again, or 0 when an attempt is allowed now. */
  retryAfter(address: string, user: string): number {
    const t = this.now();
    const wait = (key: string, max: number) => {
      const list = this.recent(key, t);
      return list.length >= max ? Math.ceil((list[list.length - max]! + this.windowMs - t) / 1000) : 0;
    };
    return Math.max(wait(`a:${address}`, this.perAddress), wait(`u:${user}`, this.perUser));
  }

  failed(address: string, user: string): void {
    const t = this.now();
    if (this.fails.size >= MAX_KEYS) this.prune(t);
    for (const key of [`a:${address}`, `u:${user}`]) {
      const list = this.recent(key, t);
      list.push(t);
      if (list.length > 100) list.splice(0, list.length - 100);
      this.fails.set(key, list);
    }
  }

  /** A correct password clears the user's count (not the address's: one good account must not launder guesses). */
  succeeded(user: string): void {
    this.fails.delete(`u:${user}`);
  }

  private recent(key: string, t: number): number[] {
    const list = this.fails.get(key) ?? [];
    while (list.length && list[0]! <= t - this.windowMs) list.shift();
    if (!list.length) this.fails.delete(key);
    return list;
  }

  private prune(t: number): void {
    for (const key of [...this.fails.keys()]) this.recent(key, t);
  }
}
