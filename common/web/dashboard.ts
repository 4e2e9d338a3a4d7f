// The dashboard on the control API's listener: the page's files, sign-in (password or one-time
// link), sessions and their CSRF tokens, the event stream. The control API calls the three hooks
// below; everything else the page shows comes from the same JSON endpoints the CLI uses.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { HwError } from '../errors.ts';
import { LogThrottle } from '../log/throttle.ts';
import type { Manager } from '../manager/manager.ts';
import { asset } from './assets.ts';
import { EventStream } from './event-stream.ts';
import { cookies, isHttps, readJsonBody, securityHeaders, sendJson } from './http.ts';
import { LoginLimit } from './login-limit.ts';
import { LoginLinks } from './login-links.ts';
import { Sessions, type Session } from './sessions.ts';
import { sparklines } from './sparklines.ts';
import { dummyPasswordHash, UserStore, verifyPassword, type Role } from './users.ts';

export interface Caller {
  /** as recorded in events.jsonl: "web alice (127.0.0.1)" or "api 127.0.0.1" */
  who: string;
  session?: Session;
}

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
  private readonly limit: LoginLimit;
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
    this.stream = new EventStream(manager.state);
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

  // ---- hook 1: what needs no sign-in -------------------------------------------------------------

  /** The page's files, sign-in and sign-out, who am I. True when it answered. */
  async publicRoute(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    const method = req.method ?? 'GET';
    const path = url.pathname;
    if (!path.startsWith('/api/') || path.startsWith('/api/web/')) checkHost(req);
    if ((method === 'GET' || method === 'HEAD') && !path.startsWith('/api/') && path !== '/login-link') {
      const a = asset(path);
      if (!a) return false;
      const headers = { ...securityHeaders(), 'content-type': a.type, etag: a.etag, 'cache-control': 'no-cache' };
      if (req.headers['if-none-match'] === a.etag) {
        res.writeHead(304, headers);
        res.end();
      } else {
        res.writeHead(200, { ...headers, 'content-length': a.body.length });
        res.end(method === 'HEAD' ? undefined : a.body);
      }
      return true;
    }
    if (path === '/login-link' && method === 'GET') {
      // Opening the link only looks at it: the page asks for a click that POSTs it, so a chat
      // tool's link preview (a GET, no script) cannot use it up. The token moves to the fragment,
      // which is never sent to a server again.
      const t = url.searchParams.get('t') ?? '';
      const ok = this.links.valid(t);
      if (!ok) this.noteRefusedLink(req);
      res.writeHead(303, { ...securityHeaders(), location: ok ? `/#/sign-in?token=${encodeURIComponent(t)}` : '/#/sign-in?link=used', 'cache-control': 'no-store' });
      res.end();
      return true;
    }
    if (path === '/api/web/sign-in-link' && method === 'POST') {
      await this.signInWithLink(req, res);
      return true;
    }
    if (path === '/api/web/sign-in' && method === 'POST') {
      await this.signIn(req, res);
      return true;
    }
    if (path === '/api/web/sign-out' && method === 'POST') {
      const s = this.sessionOf(req);
      if (s) {
        if (!this.sessions.csrfMatches(s, header(req, 'x-csrf-token'))) throw new HwError('CSRF_REJECTED', 'missing or wrong CSRF token: reload the page');
        this.sessions.close(s.id);
      }
      sendJson(res, 200, { ok: true }, { 'set-cookie': this.cookie(req, undefined) });
      return true;
    }
    if (path === '/api/web/me' && method === 'GET') {
      const s = this.sessionOf(req);
      if (!s) throw new HwError('UNAUTHORIZED', 'not signed in');
      sendJson(res, 200, { user: s.user, role: s.role, csrf: s.csrf, idleSecondsLeft: this.sessions.idleSecondsLeft(s) });
      return true;
    }
    return false;
  }

  // ---- hook 2: a session as the API's credential ------------------------------------------------

  /**
   * The caller of an API request that carries a session cookie, or undefined without one. A
   * state-changing request needs the CSRF token; a viewer may only read (and not download files).
   */
  authorize(req: IncomingMessage, url: URL): Caller | undefined {
    const s = this.sessionOf(req);
    if (!s) return undefined;
    checkHost(req);
    const method = req.method ?? 'GET';
    const reading = method === 'GET' || method === 'HEAD';
    if (!reading && !this.sessions.csrfMatches(s, header(req, 'x-csrf-token'))) {
      throw new HwError('CSRF_REJECTED', 'missing or wrong CSRF token (x-csrf-token): reload the page');
    }
    if (s.role !== 'admin' && (!reading || /\/fetch$/.test(url.pathname))) {
      throw new HwError('FORBIDDEN', `${s.user} is a viewer: viewers see everything and run nothing`);
    }
    return { who: `web ${s.user} (${req.socket.remoteAddress ?? ''})`, session: s };
  }

  // ---- hook 3: dashboard endpoints behind the API's authentication ---------------------------------

  async authedRoute(req: IncomingMessage, res: ServerResponse, url: URL, caller: Caller): Promise<boolean> {
    const method = req.method ?? 'GET';
    if (url.pathname === '/api/web/events' && method === 'GET') {
      this.stream.open(res, caller.session?.user ?? caller.who);
      return true;
    }
    if (url.pathname === '/api/web/stats' && method === 'GET') {
      sendJson(res, 200, { streams: this.stream.stats(), sessions: this.sessions.size, users: this.users.list().length });
      return true;
    }
    if (url.pathname === '/api/sparklines' && method === 'GET') {
      sendJson(res, 200, sparklines(this.manager.state, url, this.now()));
      return true;
    }
    if (url.pathname === '/api/web/login-links' && method === 'POST') {
      // Only with the API token: a link is an administrator's session, made at the console.
      if (caller.session) throw new HwError('FORBIDDEN', 'sign-in links are made with the API token (`manager login-link`)');
      const body = await readJsonBody(req).catch(() => ({} as Record<string, unknown>));
      const user = typeof body.user === 'string' ? body.user : undefined;
      const link = this.loginLink(user);
      this.manager.state.record({ at: this.now(), event: 'web-login-link', user: user ?? 'console', by: caller.who });
      sendJson(res, 200, link);
      return true;
    }
    return false;
  }

  // ---- inside ------------------------------------------------------------------------------------

  private async signIn(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJsonBody(req);
    const name = typeof body.username === 'string' ? body.username.slice(0, 100) : '';
    const password = typeof body.password === 'string' ? body.password.slice(0, 1024) : '';
    const address = req.socket.remoteAddress ?? '';
    const wait = this.limit.retryAfter(address, name);
    if (wait > 0) {
      sendJson(res, 429, { error: { code: 'RATE_LIMITED', message: `too many failed sign-ins: try again in ${wait} s` } }, { 'retry-after': String(wait) });
      return;
    }
    this.users.reload();
    const u = this.users.get(name);
    // An unknown name costs a hash too: the answer's time does not tell which names exist.
    const ok = await verifyPassword(password, u?.password ?? await dummyPasswordHash()) && !!u;
    if (!ok || !u) {
      this.limit.failed(address, name);
      this.manager.state.record({ at: this.now(), event: 'web-sign-in-refused', user: name, address, how: 'password' });
      throw new HwError('BAD_CREDENTIALS', 'wrong user name or password');
    }
    this.limit.succeeded(name);
    this.openSession(req, res, u, 'password');
  }

  /** A new session for `u` (the console's administrator without one): recorded, its cookie set, who it is answered. */
  private openSession(req: IncomingMessage, res: ServerResponse, u: { name: string; role: Role; stamp: string } | undefined, how: 'password' | 'link'): void {
    const s = this.sessions.open(u?.name ?? 'console', u?.role ?? 'admin', u?.stamp ?? '');
    this.manager.state.record({ at: this.now(), event: 'web-sign-in', user: s.user, address: req.socket.remoteAddress, how });
    sendJson(res, 200, { user: s.user, role: s.role, csrf: s.csrf }, { 'set-cookie': this.cookie(req, s) });
  }

  private async signInWithLink(req: IncomingMessage, res: ServerResponse): Promise<void> {
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
  private noteRefusedLink(req: IncomingMessage): void {
    const n = this.refusedLinks.note(req.socket.remoteAddress ?? '');
    if (n) this.manager.state.record({ at: this.now(), event: 'web-sign-in-refused', address: req.socket.remoteAddress, how: 'link', count: n });
  }

  /** The live session of the request's cookie, checked against users.json (removed user, new password: gone). */
  private sessionOf(req: IncomingMessage): Session | undefined {
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

  private cookie(req: IncomingMessage, s: Session | undefined): string {
    const secure = isHttps(req);
    const name = secure ? SECURE_COOKIE : COOKIE;
    const value = s ? s.id : '';
    const age = s ? this.sessions.maxAgeSeconds(s) : 0;
    return `${name}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${age}${secure ? '; Secure' : ''}`;
  }
}

/**
 * On the plain-HTTP loopback listener the page answers only to a loopback name: a web site that
 * points its own name at 127.0.0.1 (DNS rebinding) gets nothing from it. HTTPS (--web) is reached
 * by whatever name its certificate carries.
 */
function checkHost(req: IncomingMessage): void {
  if (isHttps(req)) return;
  const host = (req.headers.host ?? '').toLowerCase();
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '');
  if (name === 'localhost' || name === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name)) return;
  throw new HwError('FORBIDDEN', `the dashboard answers on loopback names only (127.0.0.1, localhost), not "${host.slice(0, 100)}"`);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
