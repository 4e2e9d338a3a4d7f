// The dashboard's state: users, sessions and their CSRF tokens, one-time sign-in links, the sign-in
// limits and the event stream. Its routes are in routes.ts; everything else the page shows comes
// from the same JSON endpoints the CLI uses.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { HwError } from '../errors.ts';
import { LogThrottle } from '../util/throttle.ts';
import type { Manager } from '../manager/manager.ts';
import { EventStream } from './event-stream.ts';
import { sendJson } from '../http/reply.ts';
import { addressGroup } from '../net/address.ts';
import { cookies, isHttps, readJsonBody } from './http.ts';
import { LoginLimit } from './login-limit.ts';
import { LoginLinks } from './login-links.ts';
import { Sessions, type Session } from './sessions.ts';
import { dummyPasswordHash, UserStore, verifyPassword, type Role } from './users.ts';

const COOKIE = 'hw_session';
/** Over HTTPS the cookie is Secure and bound to this exact host and path (the __Host- prefix). */
const SECURE_COOKIE = '__Host-hw_session';

export interface DashboardOptions {
  /** the address printed for the page, e.g. http://127.0.0.1:5007/ (the base of sign-in links) */
  baseUrl?: string;
  now?: () => number;
}

export class Dashboard {
  readonly users: UserStore;
  readonly sessions: Sessions;
  readonly links: LoginLinks;
  readonly stream: EventStream;
  readonly limit: LoginLimit;
  private readonly refusedLinks = new LogThrottle();
  private readonly manager: Manager;
  private readonly now: () => number;
  baseUrl: string;

  constructor(manager: Manager, dataDir: string, opts: DashboardOptions = {}) {
    this.manager = manager;
    this.now = opts.now ?? Date.now;
    this.users = new UserStore(dataDir);
    this.sessions = new Sessions({ now: this.now });
    this.links = new LoginLinks({ now: this.now });
    this.limit = new LoginLimit({ now: this.now });
    this.stream = new EventStream(manager.state, { rollouts: manager.upgrades });
    this.baseUrl = opts.baseUrl ?? '';
  }

  /** A new one-time sign-in link (for `user`, or the console's administrator when undefined). */
  loginLink(user?: string): { url: string; expiresAt: string } {
    if (user !== undefined) {
      this.users.reload();
      if (!this.users.get(user)) throw new HwError('USER_NOT_FOUND', `no user ${user} (see \`manager user list\`)`);
    }
    const { token, expiresAt } = this.links.create(user);
    return { url: `${this.baseUrl.replace(/\/$/, '')}/login-link?t=${token}`, expiresAt: new Date(expiresAt).toISOString() };
  }

  close(): void {
    this.stream.close();
  }

  get state(): Manager['state'] {
    return this.manager.state;
  }

  /** Writes an event to the record, stamped now. */
  record(e: { event: string } & Record<string, unknown>): void {
    this.manager.state.record({ at: this.now(), ...e } as Parameters<Manager['state']['record']>[0]);
  }

  async signIn(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJsonBody(req);
    const name = typeof body.username === 'string' ? body.username.slice(0, 100) : '';
    const password = typeof body.password === 'string' ? body.password.slice(0, 1024) : '';
    const address = req.socket.remoteAddress ?? '';
    // Counted by /64 for IPv6, as every per-address limit is; before the hash, so that a burst of
    // guesses sent at once is refused past the limit.
    const group = addressGroup(address);
    const wait = this.limit.begin(group, name);
    if (wait > 0) {
      sendJson(res, 429, { error: { code: 'RATE_LIMITED', message: `too many sign-in attempts: try again in ${wait} s` } }, { 'retry-after': String(wait) });
      return;
    }
    let ok = false;
    try {
      this.users.reload();
      const u = this.users.get(name);
      // An unknown name costs a hash too: the answer's time does not tell which names exist.
      ok = await verifyPassword(password, u?.password ?? await dummyPasswordHash()) && !!u;
      if (!ok || !u) {
        this.manager.state.record({ at: this.now(), event: 'web-sign-in-refused', user: name, address, how: 'password' });
        throw new HwError('BAD_CREDENTIALS', 'wrong user name or password');
      }
      this.openSession(req, res, u, 'password');
    } finally {
      this.limit.end(group, name, ok);
    }
  }

  /** A new session for `u` (the console's administrator without one): recorded, its cookie set, who it is answered. */
  private openSession(req: IncomingMessage, res: ServerResponse, u: { name: string; role: Role; stamp: string } | undefined, how: 'password' | 'link'): void {
    const s = this.sessions.open(u?.name ?? 'console', u?.role ?? 'admin', u?.stamp ?? '');
    this.manager.state.record({ at: this.now(), event: 'web-sign-in', user: s.user, address: req.socket.remoteAddress, how });
    sendJson(res, 200, { user: s.user, role: s.role, csrf: s.csrf }, { 'set-cookie': this.cookie(req, s) });
  }

  async signInWithLink(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJsonBody(req);
    const grant = this.links.consume(typeof body.token === 'string' ? body.token.slice(0, 200) : '');
    if (!grant) {
      this.noteRefusedLink(req);
      throw new HwError('BAD_CREDENTIALS', 'that sign-in link was used already or has expired: ask for a new one with `manager login-link`');
    }
    const u = grant.user === undefined ? undefined : (this.users.reload(), this.users.get(grant.user));
    if (grant.user !== undefined && !u) throw new HwError('USER_NOT_FOUND', `user ${grant.user} was removed`);
    this.openSession(req, res, u, 'link');
  }

  /** At most once a minute per address, with a count: a loop of made-up links must not fill the disk. */
  noteRefusedLink(req: IncomingMessage): void {
    const n = this.refusedLinks.note(req.socket.remoteAddress ?? '');
    if (n) this.manager.state.record({ at: this.now(), event: 'web-sign-in-refused', address: req.socket.remoteAddress, how: 'link', count: n });
  }

  /** The live session of the request's cookie, checked against users.json (removed user, new password: gone). */
  sessionOf(req: IncomingMessage): Session | undefined {
    const id = cookies(req).get(isHttps(req) ? SECURE_COOKIE : COOKIE);
    if (!id) return undefined;
    const s = this.sessions.get(id);
    if (!s) return undefined;
    if (s.user === 'console' && s.stamp === '') return s; // a console link's session, not a users.json user
    this.users.reload();
    const u = this.users.get(s.user);
    if (!u || u.stamp !== s.stamp) {
      this.sessions.close(s.id);
      return undefined;
    }
    s.role = u.role as Role;
    return s;
  }

  cookie(req: IncomingMessage, s: Session | undefined): string {
    const secure = isHttps(req);
    const name = secure ? SECURE_COOKIE : COOKIE;
    const value = s ? s.id : '';
    const age = s ? this.sessions.maxAgeSeconds(s) : 0;
    return `${name}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${age}${secure ? '; Secure' : ''}`;
  }
}
