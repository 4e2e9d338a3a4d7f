// The control API: HTTP with JSON on loopback, every request carrying the token. The CLI's
// subcommands use it; so can scripts.
//
//   GET  /api/stats                       counters: reports and alerts ingested, agents online, loop delay
//   GET  /api/agents                      list (agents --json shape)
//   GET  /api/agents/:agent               one agent
//   GET  /api/agents/:agent/history?from=T&to=T&points=N[&series=all]   samples (since=T as before)
//   GET  /api/history?metric=M&from=T&to=T&points=N   one metric for every agent, on one time grid
//   POST /api/agents/:agent/:command      status | procs | logs | restart, JSON body = args
//   GET  /api/agents/:agent/fetch?path=P  the file's bytes; trailers x-sha256 or x-error-code
//   GET  /api/pending                     agents waiting to be accepted
//   POST /api/agents/:agent/accept|revoke  trust an agent's key, or forget it and refuse it
//   POST /api/pending/accept-all          accept every pending agent
//   POST /api/pending/reject {agent|address|all}  refuse pending agents' keys: one, by IP/CIDR, or all
//   GET  /api/alerts?after=N              alerts after arrival number N
//   GET  /api/alerts/follow?after=N       the same, then each new one, as JSON lines
//   GET  /api/sparklines?field&minutes&points  one averaged series per agent (CPU over 1 h by default)
//   GET  /api/web/events                  Server-Sent Events: agents, removed, alert, command
//   GET  /api/web/stats                   dashboards streaming (and cut for not reading), sessions, users
//   POST /api/web/login-links {user?}     a one-time dashboard sign-in link (API token only)
//   GET  /api/notify                      Alertmanager and webhook destinations: queued, last success, last error
//   POST /api/notify/test                 send a test alert to every destination
//
// The dashboard (common/web/) is served on the same listener: GET / and its files, GET
// /login-link?t=, POST /api/web/sign-in {username,password}, POST /api/web/sign-out, GET /api/web/me.
// A signed-in page calls every endpoint above with its session cookie instead of the token; its
// POSTs carry the x-csrf-token header, and a viewer's POSTs (and fetch) are FORBIDDEN.

//
// Every response is bounded: a JSON answer is written once, a follow stream or a download holds
// at most API_MAX_UNSENT_BYTES / SINK_BUFFER_BYTES unsent (a client that does not read is cut with
// SLOW_PEER, or its transfer waits), and the server has header, request and idle timeouts and a
// cap on connections (TOO_MANY_CONNECTIONS).

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import {
  API_FOLLOW_KEEPALIVE_MS, API_HEADERS_TIMEOUT_MS, API_IDLE_TIMEOUT_MS, API_MAX_BODY, API_MAX_CONNECTIONS, API_MAX_UNSENT_BYTES,
  API_REQUEST_TIMEOUT_MS, API_TIMEOUT_CHECK_MS, SINK_BUFFER_BYTES, VERSION,
} from '../constants.ts';
import { HwError, toWireError, type ErrorCode } from '../errors.ts';
import { drained } from '../wire/drain.ts';
import { rulesJson } from './rules-view.ts';
import { parseRejectSelection } from './admission.ts';
import { parseParallel, parseSelection, runJob, select } from './jobs.ts';
import { parseDuration } from '../rules/units.ts';
import type { Silence } from './silences.ts';
import type { Manager } from './manager.ts';
import { agentJson, alertJson, type AgentRecord, type AlertRecord } from './state.ts';
import { parseRange } from '../history/params.ts';
import { agentHistory, checkMetric, fleetHistory, type Range } from '../history/query.ts';
import { LogThrottle } from '../log/throttle.ts';
import { tokenMatches } from './token.ts';
import type { Dashboard } from '../web/dashboard.ts';
import type { Notifier } from '../notify/notifier.ts';
import { readJsonObject } from '../net/json-body.ts';
import { notifyRoute } from '../notify/api-route.ts';

const STATUS: Partial<Record<ErrorCode, number>> = {
  UNAUTHORIZED: 401, NOT_FOUND: 404, AGENT_NOT_FOUND: 404, AGENT_AMBIGUOUS: 409, AGENT_OFFLINE: 409,
  BAD_ARGS: 400, BAD_JSON: 400, PENDING: 409, TIMEOUT: 504, DISCONNECTED: 502, RESTART_DISABLED: 403, FILE_NOT_FOUND: 404,
  FILE_NOT_REGULAR: 422, FILE_UNREADABLE: 403, LOGS_UNAVAILABLE: 422, UNKNOWN_COMMAND: 400, TOO_MANY_CONNECTIONS: 503,
  STORAGE_FAILED: 507, CANCELLED: 499, BAD_CONFIG: 422, NO_CONFIG: 409,
  FORBIDDEN: 403, CSRF_REJECTED: 403, BAD_CREDENTIALS: 401, RATE_LIMITED: 429, USER_NOT_FOUND: 404,
};

export interface ApiWeb {
  dashboard: Dashboard;
  /** false on the dashboard's own HTTPS listener (--web): there only a signed-in page gets in */
  bearer?: boolean;
}

export interface ApiOptions {
  maxConnections?: number;
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  idleTimeoutMs?: number;
  maxUnsentBytes?: number;
  keepaliveMs?: number;
}

/** `opts.notifier`: the Alertmanager and webhook delivery behind /api/notify (and `notify` in /api/stats), when configured. */
export function startApi(manager: Manager, token: string, opts: ApiOptions & { web?: ApiWeb; notifier?: Notifier } = {}): Server {
  // Node checks the header and request timeouts on this period (30 s by default, which would
  // make a 10 s header limit a 40 s one).
  const server = createServer({ connectionsCheckingInterval: API_TIMEOUT_CHECK_MS }, apiHandler(manager, token, opts.web, opts));
  limitServer(server, opts, 'the control API');
  return server;
}

/**
 * The request handler, for the API's listener and the dashboard's HTTPS one. Both serve long
 * responses (follow, fetch, the dashboard's event stream and downloads): those are GETs, whose
 * request is complete once its headers are in, so the request timeout never applies to them.
 */
export function apiHandler(manager: Manager, token: string, web?: ApiWeb, opts: ApiOptions & { notifier?: Notifier } = {}): (req: IncomingMessage, res: ServerResponse) => void {
  const unauthorized = new LogThrottle();
  const slow = new LogThrottle();
  const limits: Limits = {
    maxUnsent: opts.maxUnsentBytes ?? API_MAX_UNSENT_BYTES, keepaliveMs: opts.keepaliveMs ?? API_FOLLOW_KEEPALIVE_MS,
    onSlow: (req: IncomingMessage, unsent: number) => {
      const address = req.socket.remoteAddress ?? '';
      const n = slow.note(address);
      if (n) manager.state.record({ at: manager.now(), event: 'protocol-error', address, proto: 'api', code: 'SLOW_PEER', message: `API client does not read (${unsent} bytes unsent on ${req.url?.slice(0, 100)})`, count: n });
    },
  };
  return (req, res) => {
    handle(manager, token, unauthorized, limits, req, res, web, opts.notifier).catch((err) => sendError(res, err));
  };
}

/**
 * Header, request and idle timeouts and the connection cap, on the API's listener and the
 * dashboard's HTTPS one alike (each has its own cap). Every connection counts, a dashboard's
 * event stream too: the stream limit (WEB_MAX_STREAMS) is below the cap so that open dashboards
 * alone never lock the CLI out.
 */
export function limitServer(server: Server | HttpsServer, opts: ApiOptions, what: string): void {
  // Request headers, then the whole request (a body, at most API_MAX_BODY), each within a limit;
  // a response may stream for as long as it needs (follow, fetch, the event stream): the idle
  // timeout below only cuts a connection on which nothing moves either way (follow sends a blank
  // line now and then, the event stream a comment).
  server.headersTimeout = opts.headersTimeoutMs ?? API_HEADERS_TIMEOUT_MS;
  server.requestTimeout = opts.requestTimeoutMs ?? API_REQUEST_TIMEOUT_MS;
  server.keepAliveTimeout = 5000;
  const idleMs = opts.idleTimeoutMs ?? API_IDLE_TIMEOUT_MS;
  server.setTimeout(idleMs, (socket: Socket) => socket.destroy());
  const cap = opts.maxConnections ?? API_MAX_CONNECTIONS;
  const open = new Set<Socket>();
  // On HTTPS the answer can only be written once the handshake is done: count there (a
  // handshake itself is bounded by the listener's handshakeTimeout).
  const tls = 'setSecureContext' in server;
  server.on(tls ? 'secureConnection' : 'connection', (socket: Socket) => {
    if (open.size >= cap) {
      // Answered, not just dropped: the client learns why, with our usual error shape.
      const body = JSON.stringify({ error: { code: 'TOO_MANY_CONNECTIONS', message: `${what} has ${cap} connections open already; try again shortly` } });
      socket.on('error', () => {});
      socket.end(`HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
      setTimeout(() => socket.destroy(), 1000).unref();
      return;
    }
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: ServerResponse, err: unknown): void {
  const e = toWireError(err);
  sendJson(res, STATUS[e.code] ?? (e.code === 'INTERNAL' ? 500 : 422), { error: e });
}

interface Limits {
  maxUnsent: number;
  keepaliveMs: number;
  onSlow: (req: IncomingMessage, unsent: number) => void;
}

async function handle(manager: Manager, token: string, unauthorized: LogThrottle, limits: Limits, req: IncomingMessage, res: ServerResponse, web?: ApiWeb, notifier?: Notifier): Promise<void> {
  const early = new URL(req.url ?? '/', 'http://x');
  if (web && await web.dashboard.publicRoute(req, res, early)) return;
  const auth = req.headers.authorization ?? '';
  const given = auth.startsWith('Bearer ') ? auth.slice(7) : '';
  const caller = given && web?.bearer !== false && tokenMatches(given, token) ? { who: apiWho(req) } : web?.dashboard.authorize(req, early);
  if (caller) callers.set(req, caller.who);
  if (!caller) {
    // Logged once a minute per address at most, with a count: a loop of guesses must not fill the disk.
    const n = unauthorized.note(req.socket.remoteAddress ?? '');
    if (n) manager.state.record({ at: manager.now(), event: 'api-unauthorized', address: req.socket.remoteAddress, path: req.url?.slice(0, 200), count: n });
    throw new HwError('UNAUTHORIZED', 'missing or wrong API token');
  }
  const url = new URL(req.url ?? '/', 'http://x');
  let parts: string[];
  try {
    parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    throw new HwError('BAD_ARGS', `malformed escape in ${url.pathname.slice(0, 200)}`);
  }
  const method = req.method ?? 'GET';
  if (parts[0] !== 'api') throw new HwError('NOT_FOUND', `no such endpoint ${url.pathname}`);
  if (web && caller && await web.dashboard.authedRoute(req, res, url, caller)) return;

  if (parts[1] === 'version' && parts.length === 2) return sendJson(res, 200, { version: VERSION });
  if (parts[1] === 'stats' && parts.length === 2 && method === 'GET') return sendJson(res, 200, { ...manager.stats(), notify: notifier?.status() ?? null });
  if (parts[1] === 'notify') return sendJson(res, 200, notifyRoute(notifier, parts.slice(2), method));

  if (parts[1] === 'agents') {
    if (parts.length === 2 && method === 'GET') return sendJson(res, 200, manager.state.agents().map(agentJson));
    const ref = parts[2]!;
    if (parts.length === 3 && method === 'GET') {
      const rec = manager.state.find(ref, true);
      return sendJson(res, 200, { ...agentJson(rec), interfaces: rec.interfaces });
    }
    if (parts.length === 4 && parts[3] === 'history' && method === 'GET') {
      return sendJson(res, 200, historyJson(manager, manager.state.find(ref), parseRange(url.searchParams, manager.now())));
    }
    const cmd = parts[3];
    if (parts.length === 4 && method === 'POST' && cmd === 'accept') return sendJson(res, 200, [agentJson(manager.accept(ref, apiWho(req)))]);
    if (parts.length === 4 && method === 'POST' && cmd === 'revoke') return sendJson(res, 200, agentJson(manager.revoke(ref, apiWho(req))));
    if (parts.length === 4 && cmd === 'fetch' && method === 'GET') return fetchFile(manager, ref, url, req, res);
    if (parts.length === 4 && method === 'POST' && (cmd === 'status' || cmd === 'procs' || cmd === 'logs' || cmd === 'restart')) {
      const args = await readJsonObject(req, API_MAX_BODY);
      const result = await manager.command(ref, cmd, args, apiWho(req));
      return sendJson(res, 200, result ?? {});
    }
  }

  if (parts[1] === 'select' && parts.length === 2 && method === 'GET') {
    const q = url.searchParams;
    const sel = parseSelection({ ...(q.has('selector') ? { selector: q.get('selector') } : {}), ...(q.has('label') ? { label: q.get('label') } : {}), ...(q.get('all') ? { all: true } : {}) });
    return sendJson(res, 200, select(manager, sel).map(agentJson));
  }
  if (parts[1] === 'jobs' && parts.length === 2 && method === 'POST') return jobStream(manager, await readJsonObject(req, API_MAX_BODY), req, res, limits);
  if (parts[1] === 'silences') {
    if (parts.length === 2 && method === 'GET') return sendJson(res, 200, manager.silences.active().map(silenceJson));
    if (parts.length === 2 && method === 'POST') {
      const b = await readJsonObject(req, API_MAX_BODY);
      const forS = parseDuration(b.for ?? '');
      if (typeof b.selector !== 'string') throw new HwError('BAD_ARGS', 'a silence needs "selector" (an agent, glob or label=value)');
      if (!forS.ok) throw new HwError('BAD_ARGS', `for: ${forS.error}`);
      if ((b.rule !== undefined && typeof b.rule !== 'string') || (b.reason !== undefined && typeof b.reason !== 'string')) throw new HwError('BAD_ARGS', '"rule" and "reason" are strings');
      const s = manager.silence({
        selector: b.selector, forS: forS.value, ...(b.rule !== undefined ? { rule: b.rule as string } : {}), ...(b.reason !== undefined ? { reason: b.reason as string } : {}),
      }, apiWho(req));
      return sendJson(res, 200, silenceJson(s));
    }
    if (parts.length === 3 && method === 'DELETE') return sendJson(res, 200, silenceJson(manager.unsilence(parts[2]!, apiWho(req))));
  }
  if (parts[1] === 'rules' && parts.length <= 3 && method === 'GET') return sendJson(res, 200, rulesJson(manager, parts[2]));
  if (parts[1] === 'reload' && parts.length === 2 && method === 'POST') return sendJson(res, 200, manager.reloadConfig(apiWho(req)));
  if (parts[1] === 'config' && parts.length === 2 && method === 'GET') return sendJson(res, 200, manager.config());
  if (parts[1] === 'history' && parts.length === 2 && method === 'GET') {
    const metric = checkMetric(url.searchParams.get('metric') ?? '');
    const range = parseRange(url.searchParams, manager.now());
    const list = manager.state.agents().map((a) => ({ id: a.id, name: a.name }));
    return sendJson(res, 200, fleetHistory(manager.history, list, metric, range));
  }

  if (parts[1] === 'pending') {
    if (parts.length === 2 && method === 'GET') return sendJson(res, 200, manager.state.pending().map(agentJson));
    if (parts.length === 3 && parts[2] === 'accept-all' && method === 'POST') return sendJson(res, 200, manager.acceptAll(apiWho(req)).map(agentJson));
    if (parts.length === 3 && parts[2] === 'reject' && method === 'POST') {
      return sendJson(res, 200, manager.rejectPending(parseRejectSelection(await readJsonObject(req, API_MAX_BODY)), apiWho(req)).map(agentJson));
    }
  }

  if (parts[1] === 'alerts' && method === 'GET') {
    const after = Number(url.searchParams.get('after') ?? 0) || 0;
    if (parts.length === 2 && url.searchParams.get('active')) return sendJson(res, 200, manager.state.activeAlerts().map(alertJson));
    if (parts.length === 2) return sendJson(res, 200, manager.state.alerts(after).map(alertJson));
    if (parts.length === 3 && parts[2] === 'follow') return followAlerts(manager, after, req, res, limits);
  }
  throw new HwError('NOT_FOUND', `no such endpoint ${method} ${url.pathname}`);
}

export function silenceJson(s: Silence): Record<string, unknown> {
  return { ...s, createdAt: new Date(s.createdAt).toISOString(), until: new Date(s.until).toISOString() };
}

/** The `history --json` shape: the agent, the range, the tier that answered and its points. */
export function historyJson(manager: Manager, rec: AgentRecord, r: Range & { detail?: boolean }): Record<string, unknown> {
  const h = agentHistory(manager.history, rec.id, r, !!r.detail);
  return { agent: rec.name, agentId: rec.id, interval: rec.interval, from: new Date(r.from).toISOString(), to: new Date(r.to).toISOString(), ...h };
}

/** Who made a request, for the record: set once it is authenticated (a dashboard user or the token). */
const callers = new WeakMap<IncomingMessage, string>();

function apiWho(req: IncomingMessage): string {
  return callers.get(req) ?? `api ${req.socket.remoteAddress ?? ''}`.trim();
}

async function fetchFile(manager: Manager, ref: string, url: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = url.searchParams.get('path');
  if (!path) throw new HwError('BAD_ARGS', 'fetch needs ?path=');
  // The sha256 (or the error) comes as a trailer, which needs chunked encoding: HTTP/1.1.
  if (req.httpVersionMajor < 1 || (req.httpVersionMajor === 1 && req.httpVersionMinor < 1)) {
    throw new HwError('BAD_ARGS', `fetch needs HTTP/1.1 (the file's sha256 comes as a trailer); this request is HTTP/${req.httpVersion}`);
  }
  const ac = new AbortController();
  res.on('close', () => { if (!res.writableFinished) ac.abort(); });
  try {
    const r = await manager.fetch(ref, path, {
      start(size, remotePath) {
        res.writeHead(200, {
          'content-type': 'application/octet-stream', 'x-file-size': String(size), 'x-file-path': encodeURIComponent(remotePath),
          trailer: 'x-sha256, x-bytes, x-error-code, x-error-message',
        });
        res.flushHeaders();
      },
      async write(parts, bytes) {
        // Wait only when a few MiB are queued: waiting on every chunk's drain halves the speed.
        const out = writeChunk(res, parts, bytes);
        if (out.writableLength > SINK_BUFFER_BYTES && !(await drained(out))) {
          // The client closed its end (Ctrl-C): the receiver cancelled, as the abort says too
          // (the socket's close may be seen here before the response's).
          throw new HwError('CANCELLED', 'the transfer was cancelled by the receiver (the API client went away)');
        }
      },
    }, ac.signal, apiWho(req));
    res.addTrailers({ 'x-sha256': r.sha256, 'x-bytes': String(r.bytes) });
    res.end();
  } catch (err) {
    if (!res.headersSent) throw err;
    const e = toWireError(err);
    res.addTrailers({ 'x-error-code': e.code, 'x-error-message': encodeURIComponent(e.message) });
    res.end();
  }
}

/**
 * Writes a data frame's slices as one HTTP chunk. res.write would frame each slice (16 KiB, a TLS
 * record) as a chunk of its own, and parsing four times as many chunk headers was a tenth of the
 * CLI's CPU; joining the slices would copy every byte. So on a chunked response the frame goes to
 * the socket with one chunk header, corked into one writev; Node's own end() then writes the last
 * chunk and the trailers after it, in order on the same socket. Anything else (an HTTP/1.0 client,
 * no chunking) gets res.write. Returns what to wait on for drain.
 */
function writeChunk(res: ServerResponse, parts: Buffer[], bytes: number): ServerResponse | Socket {
  const socket = res.socket;
  // Only while nothing of this response waits in Node's own queue and the socket is this
  // response's (not a pipelined one's): then a byte written to the socket is in order.
  const r = res as unknown as { chunkedEncoding?: boolean; outputSize?: number };
  const direct = r.chunkedEncoding === true && res.headersSent && r.outputSize === 0 && bytes > 0
    && !!socket && !socket.destroyed && (socket as unknown as { _httpMessage?: unknown })._httpMessage === res;
  if (!direct) {
    for (const p of parts) res.write(p);
    return res;
  }
  socket.cork();
  socket.write(`${bytes.toString(16)}\r\n`, 'latin1');
  for (const p of parts) socket.write(p);
  socket.write('\r\n', 'latin1');
  socket.uncork();
  return socket;
}

/**
 * Alerts after `after`, then each new one, as JSON lines. The backlog is written as the client
 * takes it (waiting on drain); a live alert is written at once, and a client whose unsent bytes
 * pass the limit (it stopped reading) is cut with SLOW_PEER rather than queued for.
 */
const JOB_COMMANDS = ['status', 'procs', 'logs', 'restart'] as const;

/**
 * POST /api/jobs: one JSON line per host as it answers, `{ agent, agentId, ok, result | error }`,
 * then `{ summary: { total, ok, failed, offline, timeout } }`. Bounded like the alert stream: a
 * client that stops reading is waited for, then cut; one that goes away stops the job.
 */
async function jobStream(manager: Manager, b: Record<string, unknown>, req: IncomingMessage, res: ServerResponse, limits: Limits): Promise<void> {
  const sel = parseSelection(b);
  if (typeof b.cmd !== 'string' || !(JOB_COMMANDS as readonly string[]).includes(b.cmd)) throw new HwError('BAD_ARGS', `"cmd" must be one of ${JOB_COMMANDS.join(', ')} (fetch from many: one fetch per agent)`);
  const cmd = b.cmd as (typeof JOB_COMMANDS)[number];
  const args = b.args === undefined ? {} : b.args;
  if (typeof args !== 'object' || args === null || Array.isArray(args)) throw new HwError('BAD_ARGS', '"args" must be an object');
  const parallel = parseParallel(b.parallel);
  let timeoutMs: number | undefined;
  if (b.timeout !== undefined) {
    const t = Number(b.timeout);
    if (!(t >= 0.1 && t <= 3600)) throw new HwError('BAD_ARGS', '"timeout" must be seconds from 0.1 to 3600');
    timeoutMs = t * 1000;
  }
  const targets = select(manager, sel);
  res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
  res.flushHeaders();
  const ac = new AbortController();
  res.on('close', () => ac.abort());
  // Every second: a client's --timeout may be as short as the hosts' own.
  const keepalive = setInterval(() => res.write('\n'), Math.min(limits.keepaliveMs, 1000));
  const line = async (v: unknown) => {
    if (ac.signal.aborted) return;
    if (!res.write(JSON.stringify(v) + '\n') && res.writableLength > SINK_BUFFER_BYTES) {
      if (res.writableLength > limits.maxUnsent) {
        limits.onSlow(req, res.writableLength);
        res.destroy();
        return;
      }
      await drained(res);
    }
  };
  try {
    const summary = await runJob({ manager, targets, cmd, args: args as Record<string, unknown>, parallel, ...(timeoutMs ? { timeoutMs } : {}), by: apiWho(req), onResult: line, signal: ac.signal });
    await line({ summary });
  } finally {
    clearInterval(keepalive);
    res.end();
  }
}

function followAlerts(manager: Manager, after: number, req: IncomingMessage, res: ServerResponse, limits: Limits): void {
  res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
  // Headers now: with no alert to send yet, the client would otherwise wait for the first one.
  res.flushHeaders();
  let last = after;
  let live = false;
  let closed = false;
  const cut = () => {
    limits.onSlow(req, res.writableLength);
    closed = true;
    res.destroy();
  };
  const write = (a: AlertRecord) => {
    if (closed || !live || a.n <= last) return;
    last = a.n;
    res.write(JSON.stringify(alertJson(a)) + '\n');
    if (res.writableLength > limits.maxUnsent) cut();
  };
  manager.state.on('alert', write);
  // A blank line now and then lets the client notice a dead manager and the server a dead client.
  const keepalive = setInterval(() => {
    res.write('\n');
    if (res.writableLength > limits.maxUnsent) cut();
  }, limits.keepaliveMs);
  res.on('close', () => {
    closed = true;
    clearInterval(keepalive);
    manager.state.off('alert', write);
  });
  void (async () => {
    for (const a of manager.state.alerts(after)) {
      if (closed) return;
      last = a.n;
      if (!res.write(JSON.stringify(alertJson(a)) + '\n') && res.writableLength > SINK_BUFFER_BYTES && !(await drained(res))) return;
    }
    // Alerts that arrived while the backlog was written.
    live = true;
    for (const a of manager.state.alerts(last)) write(a);
  })();
}
