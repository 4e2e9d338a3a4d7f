// One-time sign-in links: a random token valid for ten minutes that opens one session and is then
// gone. The console prints one at start; `manager login-link` asks the running manager for another.

import { createHash, randomBytes } from 'node:crypto';

/** A one-time sign-in link is valid this long, and once. */
const WEB_LOGIN_LINK_MS = 10 * 60_000;

export interface LinkGrant {
  /** a user of users.json, or undefined for the console's own administrator session */
  user: string | undefined;
  expiresAt: number;
}

const MAX_LINKS = 100;

export class LoginLinks {
  // Kept by hash: a memory dump or a debug print of this map gives no usable link.
  private readonly links = new Map<string, LinkGrant>();
  private readonly now: () => number;
  private readonly ttlMs: number;

  constructor(opts: { now?: () => number; ttlMs?: number } = {}) {
    this.now = opts.now ?? Date.now;
    this.ttlMs = opts.ttlMs ?? WEB_LOGIN_LINK_MS;
  }

  create(user?: string): { token: string; expiresAt: number } {
    const t = this.now();
    for (const [k, g] of this.links) if (g.expiresAt <= t) this.links.delete(k);
    if (this.links.size >= MAX_LINKS) this.links.delete(this.links.keys().next().value!);
    const token = randomBytes(32).toString('base64url');
    const expiresAt = t + this.ttlMs;
    this.links.set(hash(token), { user, expiresAt });
    return { token, expiresAt };
  }

  /** Whether a link is valid and unused, without using it up (a GET of the link only looks). */
  valid(token: string): boolean {
    const g = this.links.get(hash(token));
    return !!g && g.expiresAt > this.now();
  }

  /** The grant of a valid, unused link, which is used up by this call; undefined otherwise. */
  consume(token: string): LinkGrant | undefined {
    const k = hash(token);
    const g = this.links.get(k);
    if (!g) return undefined;
    this.links.delete(k);
    return g.expiresAt > this.now() ? g : undefined;
  }
}

function hash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
