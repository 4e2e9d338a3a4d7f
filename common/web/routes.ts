// The dashboard's routes: its files, sign-in (password or one-time link) and sign-out, who am I,
// the event stream, the sparklines the fleet page draws, and sign-in links for the console. Served
// on the control API's loopback listener and on the dashboard's HTTPS listener, never on the API's
// Unix socket.

import { HwError } from '../errors.ts';
import { pageHeaders, sendJson } from '../http/reply.ts';
import { route, type Route } from '../http/route-table.ts';
import type { Me } from '../api/types.ts';
import { asset, assetPaths } from './assets.ts';
import type { Dashboard } from './dashboard.ts';
import { readJsonBody } from './http.ts';
import { sparklines } from './sparklines.ts';

const page = 'page' as const;

export function dashboardRoutes(dash: Dashboard, now: () => number): Route<unknown>[] {
  const files = assetPaths().map((path) => route({
    method: 'GET', path, access: 'public', surface: page, raw: true, summary: path === '/' ? 'the dashboard' : `the dashboard's ${path.slice(1)}`,
    handle: ({ req, res }) => {
      const a = asset(path)!;
      const headers = { ...pageHeaders(res), 'content-type': a.type, etag: a.etag, 'cache-control': 'no-cache' };
      if (req.headers['if-none-match'] === a.etag) {
        res.writeHead(304, headers);
        res.end();
      } else {
        res.writeHead(200, { ...headers, 'content-length': a.body.length });
        res.end(req.method === 'HEAD' ? undefined : a.body);
      }
    },
  }));
  return [
    ...files,
    route({
      method: 'GET', path: '/login-link', access: 'public', surface: page, raw: true, summary: 'open a one-time sign-in link (the page then asks for a click)',
      doc: { query: { t: 'the link\'s token' } },
      handle: ({ req, res, query }) => {
        // Opening the link only looks at it: the page asks for a click that POSTs it, so a chat
        // tool's link preview (a GET, no script) cannot use it up. The token moves to the fragment,
        // which is never sent to a server again.
        const t = query.get('t') ?? '';
        const ok = dash.links.valid(t);
        if (!ok) dash.noteRefusedLink(req);
        res.writeHead(303, { ...pageHeaders(res), location: ok ? `/#/sign-in?token=${encodeURIComponent(t)}` : '/#/sign-in?link=used', 'cache-control': 'no-store' });
        res.end();
      },
    }),
    route({
      method: 'POST', path: '/api/web/sign-in', access: 'public', surface: page, raw: true, noCsrf: true, summary: 'sign in with a user name and password',
      doc: { body: { username: 'the user', password: 'the password' } },
      handle: ({ req, res }) => dash.signIn(req, res),
    }),
    route({
      method: 'POST', path: '/api/web/sign-in-link', access: 'public', surface: page, raw: true, noCsrf: true, summary: 'sign in with a one-time link\'s token',
      doc: { body: { token: 'the link\'s token' } },
      handle: ({ req, res }) => dash.signInWithLink(req, res),
    }),
    route({
      method: 'POST', path: '/api/web/sign-out', access: 'public', surface: page, raw: true, summary: 'end this session',
      handle: ({ req, res, caller }) => {
        if (caller.session) dash.sessions.close(caller.session.id);
        sendJson(res, 200, { ok: true }, { 'set-cookie': dash.cookie(req, undefined) });
      },
    }),
    route({
      method: 'GET', path: '/api/web/me', access: 'public', surface: page, summary: 'who this page is signed in as, and its CSRF token',
      handle: ({ req }): Me => {
        const s = dash.sessionOf(req);
        if (!s) throw new HwError('UNAUTHORIZED', 'not signed in');
        return { user: s.user, role: s.role, csrf: s.csrf, idleSecondsLeft: dash.sessions.idleSecondsLeft(s) };
      },
    }),
    route({
      method: 'GET', path: '/api/web/events', access: 'viewer', surface: page, raw: true, summary: 'Server-Sent Events: agents, removed, alert, command, upgrade',
      handle: ({ res, caller }) => dash.stream.open(res, caller.session?.user ?? caller.who),
    }),
    route({
      method: 'GET', path: '/api/web/stats', access: 'viewer', surface: page, summary: 'dashboards streaming (and cut for not reading), sessions, users, sign-in hashes run and refused',
      handle: () => ({
        streams: dash.stream.stats(), sessions: dash.sessions.size, users: dash.users.list().length,
        signIns: { hashes: dash.limit.hashes, refused: dash.limit.refused },
      }),
    }),
    route({
      method: 'GET', path: '/api/sparklines', access: 'viewer', surface: page, summary: 'one averaged series per agent (CPU over 1 h by default)',
      doc: { query: { field: 'the metric (default cpuPercent)', minutes: '1 to 1440 (default 60)', points: '2 to 500 (default 60)' } },
      handle: ({ query }) => sparklines(dash.state, query, now()),
    }),
    route({
      method: 'POST', path: '/api/web/login-links', access: 'token', surface: page, summary: 'a one-time dashboard sign-in link (`manager login-link`)',
      doc: { body: { user: 'sign in as this user (default: the console\'s administrator)' } },
      input: async (i) => {
        const b = await readJsonBody(i.req).catch(() => ({} as Record<string, unknown>));
        if (b.user !== undefined && typeof b.user !== 'string') throw new HwError('BAD_ARGS', '"user" is a user name');
        return b.user as string | undefined;
      },
      handle: ({ input, caller }) => {
        const link = dash.loginLink(input);
        dash.record({ event: 'web-login-link', user: input ?? 'console', by: caller.who });
        return link;
      },
    }),
  ];
}
