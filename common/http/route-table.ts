// One route table for every HTTP endpoint: method, path pattern, who may call it, the validator of
// its input and its handler. A request is matched on its raw path, segment by segment: literal
// segments must be spelled exactly (no percent-escapes, no other case, no empty or dot segments),
// only parameters are decoded. So a route has one spelling, and access is decided on the route
// that was matched, never by looking at the URL a second time. The API reference is generated
// from the same entries (openapi.ts).

import type { IncomingMessage, ServerResponse } from 'node:http';
import { HwError } from '../errors.ts';
import { readJsonObject } from '../net/json-body.ts';
import { sendError, sendJson } from './reply.ts';

/**
 * Who may call a route:
 * - public: anyone who reaches the listener (the page's files, sign-in)
 * - viewer: a signed-in viewer or admin, or the API token
 * - admin: a signed-in admin, or the API token
 * - token: the API token only (what makes sessions, not something a session may do)
 * - metrics: the metrics token where the listener asks for one (off loopback), else anyone
 */
export type Access = 'public' | 'viewer' | 'admin' | 'token' | 'metrics';

/** Which listeners serve a route: the control API, the dashboard's pages, the metrics listener. */
export type Surface = 'api' | 'page' | 'metrics';

export type Method = 'GET' | 'POST' | 'DELETE';

export interface Caller {
  kind: 'token' | 'session' | 'metrics' | 'anonymous';
  role: 'admin' | 'viewer' | 'none';
  /** as recorded in events.jsonl: "web alice (127.0.0.1)" or "api 127.0.0.1" */
  who: string;
  /** the dashboard session (kind 'session') */
  session?: { id: string; user: string; role: string; csrf: string };
}

export interface RouteInput {
  params: Record<string, string>;
  query: URLSearchParams;
  /** the request's JSON object body (bounded); `{}` when empty */
  body(): Promise<Record<string, unknown>>;
  req: IncomingMessage;
}

export interface RouteContext<I> {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
  input: I;
  caller: Caller;
}

export interface Route<I = unknown> {
  method: Method;
  /** e.g. /api/agents/:agent/fetch */
  path: string;
  access: Access;
  surface: Surface;
  /** one line for the API reference */
  summary: string;
  /** what the reference says of the input (query, body) and the answer */
  doc?: { query?: Record<string, string>; body?: Record<string, string>; answer?: string };
  /** the validator: the only place this route's input is read and checked */
  input?: (i: RouteInput) => I | Promise<I>;
  /**
   * JSON routes return the answer's body (sent 200); raw routes (streams, downloads, pages) write
   * the response themselves and return nothing.
   */
  raw?: boolean;
  /** a POST that needs no CSRF token (sign-in: there is no session yet) */
  noCsrf?: boolean;
  handle(ctx: RouteContext<I>): unknown;
}

/** Declares a route with its input's type inferred from its validator. */
export function route<I = undefined>(r: Route<I>): Route<unknown> {
  return r as Route<unknown>;
}

/** How a listener tells who is calling; each part absent where that listener does not take it. */
export interface Authenticator {
  /** the API token, when this listener takes it (not the dashboard's HTTPS listener) */
  token?: (given: string) => boolean;
  /** the dashboard's sessions, when this listener serves the dashboard */
  session?: (req: IncomingMessage) => Caller['session'] | undefined;
  csrfMatches?: (session: NonNullable<Caller['session']>, given: string | undefined) => boolean;
  /** the metrics token, when this listener asks for one */
  metricsToken?: (given: string) => boolean;
  /** told once the caller is refused for lack of credentials (throttled by the caller) */
  onUnauthorized?: (req: IncomingMessage) => void;
}

export interface TableOptions {
  routes: Route<unknown>[];
  surfaces: Surface[];
  auth: Authenticator;
  maxBody?: number;
  /** the WWW-Authenticate challenge sent with a 401 */
  challenge?: string;
}

interface Compiled {
  route: Route<unknown>;
  segments: { literal?: string; param?: string }[];
}

/** The request handler of one listener: the routes of its surfaces, its way of authenticating. */
export function routeTable(o: TableOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const maxBody = o.maxBody ?? 64 * 1024;
  const compiled: Compiled[] = o.routes.filter((r) => o.surfaces.includes(r.surface)).map((r) => ({
    route: r,
    segments: r.path === '/' ? [] : r.path.slice(1).split('/').map((s) => (s.startsWith(':') ? { param: s.slice(1) } : { literal: s })),
  }));
  return (req, res) => {
    dispatch(o, compiled, maxBody, req, res).catch((err) => {
      if (res.headersSent) {
        if (!res.writableEnded) res.destroy();
        return;
      }
      const code = err instanceof HwError ? err.code : 'INTERNAL';
      sendError(res, err, code === 'METHOD_NOT_ALLOWED' ? { allow: (err as HwError & { allow?: string }).allow ?? '' }
        : code === 'UNAUTHORIZED' && o.challenge ? { 'www-authenticate': o.challenge } : {});
    });
  };
}

async function dispatch(o: TableOptions, compiled: Compiled[], maxBody: number, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const raw = req.url ?? '/';
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
  const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
  const found = match(compiled, path);
  if (!found.length) throw new HwError('NOT_FOUND', `no such endpoint ${path.slice(0, 200)}`);
  const hit = found.find((f) => f.route.method === method && !(req.method === 'HEAD' && f.route.raw && f.route.surface !== 'page'));
  if (!hit) {
    const e = new HwError('METHOD_NOT_ALLOWED', `${path.slice(0, 200)} answers ${[...new Set(found.map((f) => f.route.method))].join(', ')}, not ${req.method}`);
    (e as HwError & { allow?: string }).allow = [...new Set(found.map((f) => f.route.method))].join(', ');
    throw e;
  }
  const r = hit.route;
  const caller = authenticate(o.auth, req, r);
  if (caller.kind === 'session' && method !== 'GET' && !r.noCsrf) {
    if (!o.auth.csrfMatches?.(caller.session!, header(req, 'x-csrf-token'))) {
      throw new HwError('CSRF_REJECTED', 'missing or wrong CSRF token (x-csrf-token): reload the page');
    }
  }
  let bodyRead: Promise<Record<string, unknown>> | undefined;
  const input = r.input ? await r.input({ params: hit.params, query, req, body: () => (bodyRead ??= readJsonObject(req, maxBody)) }) : undefined;
  const ctx: RouteContext<unknown> = { req, res, params: hit.params, query, input, caller };
  const answer = await r.handle(ctx);
  // null is an answer ("none": GET /api/upgrade before any rollout); a handler that returns nothing answers {}.
  if (!r.raw) sendJson(res, 200, answer === undefined ? {} : answer);
}

/** The routes whose pattern the path fits, with its parameters decoded. */
function match(compiled: Compiled[], path: string): { route: Route<unknown>; params: Record<string, string> }[] {
  if (!path.startsWith('/')) return [];
  const parts = path === '/' ? [] : path.slice(1).split('/');
  const out: { route: Route<unknown>; params: Record<string, string> }[] = [];
  for (const c of compiled) {
    if (c.segments.length !== parts.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < parts.length && ok; i++) {
      const seg = c.segments[i]!;
      const part = parts[i]!;
      if (seg.literal !== undefined) ok = part === seg.literal;
      else {
        const v = decodeParam(part);
        ok = v !== undefined && v !== '' && v !== '.' && v !== '..';
        if (ok) params[seg.param!] = v!;
      }
    }
    if (ok) out.push({ route: c.route, params });
  }
  return out;
}

function decodeParam(part: string): string | undefined {
  try {
    return decodeURIComponent(part);
  } catch {
    return undefined;
  }
}

/** Who is calling, decided for the route that was matched; throws when that caller may not call it. */
export function authenticate(a: Authenticator, req: IncomingMessage, r: Route<unknown>): Caller {
  const address = req.socket.remoteAddress ?? '';
  const anonymous: Caller = { kind: 'anonymous', role: 'none', who: `anonymous ${address}`.trim() };
  if (r.access === 'public') return callerOf(a, req) ?? anonymous;
  if (r.access === 'metrics') {
    if (!a.metricsToken) return anonymous;
    const auth = req.headers.authorization ?? '';
    // Prometheus 2.42 sends the bare credentials for an `authorization` block without `type`.
    const given = /^bearer /i.test(auth) ? auth.slice(7).trim() : auth.trim();
    if (a.metricsToken(given)) return { kind: 'metrics', role: 'viewer', who: `metrics ${address}`.trim() };
    a.onUnauthorized?.(req);
    throw new HwError('UNAUTHORIZED', 'missing or wrong bearer token (the contents of <data-dir>/metrics-token)');
  }
  const caller = callerOf(a, req);
  if (!caller) {
    a.onUnauthorized?.(req);
    throw new HwError('UNAUTHORIZED', a.token ? 'missing or wrong API token' : 'not signed in');
  }
  if (r.access === 'token' && caller.kind !== 'token') {
    throw new HwError('FORBIDDEN', `${r.method} ${r.path} takes the API token only (the CLI: \`manager ...\`), not a dashboard session`);
  }
  if (r.access === 'admin' && caller.role !== 'admin') {
    throw new HwError('FORBIDDEN', `${caller.session?.user ?? caller.who} is a viewer: viewers see everything and run nothing`);
  }
  return caller;
}

function callerOf(a: Authenticator, req: IncomingMessage): Caller | undefined {
  const address = req.socket.remoteAddress ?? '';
  const auth = req.headers.authorization ?? '';
  if (a.token && auth.startsWith('Bearer ') && a.token(auth.slice(7))) return { kind: 'token', role: 'admin', who: `api ${address}`.trim() };
  const s = a.session?.(req);
  if (s) return { kind: 'session', role: s.role === 'admin' ? 'admin' : 'viewer', who: `web ${s.user} (${address})`, session: s };
  return undefined;
}

export function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
