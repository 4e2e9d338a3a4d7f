// Dashboard sessions, in memory: a random id in an HttpOnly cookie, a CSRF token the page sends
// back on every state-changing request, an idle and an absolute expiry. A manager restart signs
// everyone out, which is what an administrator expects of a restart.

import { randomBytes } from 'node:crypto';
import { secretMatches } from '../util/secret.ts';
import type { Role } from './users.ts';

/** A dashboard session ends after this long without a request, and at the latest after WEB_SESSION_MAX_MS. */
const WEB_SESSION_IDLE_MS = 12 * 3600_000;
const WEB_SESSION_MAX_MS = 7 * 24 * 3600_000;
/** Sessions kept at once; past this the oldest is dropped. */
const WEB_MAX_SESSIONS = 1000;

export interface Session {
  id: string;
  user: string;
  role: Role;
  csrf: string;
  /** the user's password stamp when signed in; a new password ends the session */
  stamp: string;
  createdAt: number;
  lastUsed: number;
}

export class Sessions {
  private readonly byId = new Map<string, Session>();
  private readonly now: () => number;
  private readonly idleMs: number;
  private readonly maxMs: number;

  constructor(opts: { now?: () => number; idleMs?: number; maxMs?: number } = {}) {
    this.now = opts.now ?? Date.now;
    this.idleMs = opts.idleMs ?? WEB_SESSION_IDLE_MS;
    this.maxMs = opts.maxMs ?? WEB_SESSION_MAX_MS;
  }

  open(user: string, role: Role, stamp: string): Session {
    const t = this.now();
    if (this.byId.size >= WEB_MAX_SESSIONS) {
      this.prune(t);
      // Map order is insertion order: the first is the oldest.
      if (this.byId.size >= WEB_MAX_SESSIONS) this.byId.delete(this.byId.keys().next().value!);
    }
    const s: Session = { id: randomBytes(32).toString('base64url'), user, role, csrf: randomBytes(24).toString('base64url'), stamp, createdAt: t, lastUsed: t };
    this.byId.set(s.id, s);
    return s;
  }

  /** The live session with this id (its idle clock restarted), or undefined. */
  get(id: string): Session | undefined {
    const s = this.byId.get(id);
    if (!s) return undefined;
    const t = this.now();
    if (this.expired(s, t)) {
      this.byId.delete(id);
      return undefined;
    }
    s.lastUsed = t;
    return s;
  }

  close(id: string): void {
    this.byId.delete(id);
  }

  /** Ends every session of a user (removed, or a new password). */
  closeUser(user: string): void {
    for (const [id, s] of this.byId) if (s.user === user) this.byId.delete(id);
  }

  csrfMatches(s: Pick<Session, 'csrf'>, given: string | undefined): boolean {
    return !!given && secretMatches(given, s.csrf);
  }

  /**
   * Seconds until the session ends at the latest, for the cookie's Max-Age (the idle limit is
   * the server's: a cookie cannot be kept fresh without a Set-Cookie on every answer).
   */
  maxAgeSeconds(s: Session): number {
    return Math.max(0, Math.floor((s.createdAt + this.maxMs - this.now()) / 1000));
  }

  /** Seconds until the session ends if left idle from now. */
  idleSecondsLeft(s: Session): number {
    return Math.max(0, Math.floor((Math.min(s.lastUsed + this.idleMs, s.createdAt + this.maxMs) - this.now()) / 1000));
  }

  get size(): number {
    return this.byId.size;
  }

  private expired(s: Session, t: number): boolean {
    return t - s.lastUsed > this.idleMs || t - s.createdAt > this.maxMs;
  }

  private prune(t: number): void {
    for (const [id, s] of this.byId) if (this.expired(s, t)) this.byId.delete(id);
  }
}
