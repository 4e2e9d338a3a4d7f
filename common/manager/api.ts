// The control API: HTTP with JSON on loopback, every request carrying the token. The CLI's
// subcommands use it; so can scripts.
//
//   GET  /api/stats                       counters: reports and alerts ingested, agents online, loop delay
//   GET  /api/agents                      list (agents --json shape)
//   GET  /api/agents/:agent               one agent
//   GET  /api/agents/:agent/history?since=T   samples since T (ms since epoch)
//   POST /api/agents/:agent/:command      status | procs | logs | restart, JSON body = args
//   GET  /api/agents/:agent/fetch?path=P  the file's bytes; trailers x-sha256 or x-error-code
//   GET  /api/pending                     agents waiting to be accepted
//   POST /api/agents/:agent/accept|revoke  trust an agent's key, or forget it and refuse it
//   POST /api/pending/accept-all          accept every pending agent
//   GET  /api/alerts?after=N              alerts after arrival number N
//   GET  /api/alerts/follow?after=N       the same, then each new one, as JSON lines
//   GET  /api/notify                      Alertmanager and webhook destinations: queued, last success, last error
//   POST /api/notify/test                 send a test alert to every destination
//
// Every response is bounded: a JSON answer is written once, a follow stream or a download holds
// at most API_MAX_UNSENT_BYTES / SINK_BUFFER_BYTES unsent (a client that does not read is cut with
// SLOW_PEER, or its transfer waits), and the server has header, request and idle timeouts and a
// cap on connections (TOO_MANY_CONNECTIONS).

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import {
  API_FOLLOW_KEEPALIVE_MS, API_HEADERS_TIMEOUT_MS, API_IDLE_TIMEOUT_MS, API_MAX_BODY, API_MAX_CONNECTIONS, API_MAX_UNSENT_BYTES,
  API_REQUEST_TIMEOUT_MS, API_TIMEOUT_CHECK_MS, SINK_BUFFER_BYTES, VERSION,
} from '../constants.ts';
import { HwError, toWireError, type ErrorCode } from '../errors.ts';
import { drained } from '../wire/drain.ts';
import type { Manager } from './manager.ts';
import { agentJson, alertJson, type AlertRecord } from './state.ts';
import { LogThrottle } from '../log/throttle.ts';
import { tokenMatches } from './token.ts';
import type { Notifier } from '../notify/notifier.ts';
import { notifyRoute } from '../notify/api-route.ts';

const STATUS: Partial<Record<ErrorCode, number>> = {
  UNAUTHORIZED: 401, NOT_FOUND: 404, AGENT_NOT_FOUND: 404, AGENT_AMBIGUOUS: 409, AGENT_OFFLINE: 409,
  BAD_ARGS: 400, BAD_JSON: 400, PENDING: 409, TIMEOUT: 504, DISCONNECTED: 502, RESTART_DISABLED: 403, FILE_NOT_FOUND: 404,
  FILE_NOT_REGULAR: 422, FILE_UNREADABLE: 403, LOGS_UNAVAILABLE: 422, UNKNOWN_COMMAND: 400, TOO_MANY_CONNECTIONS: 503,
  STORAGE_FAILED: 507, CANCELLED: 499,
};

export interface ApiOptions {
  maxConnections?: number;
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  idleTimeoutMs?: number;
  maxUnsentBytes?: number;
  keepaliveMs?: number;
}

/** `notifier`: the Alertmanager and webhook delivery behind /api/notify (and `notify` in /api/stats), when configured. */
export function startApi(manager: Manager, token: string, opts: ApiOptions = {}, notifier?: Notifier): Server {
  const unauthorized = new LogThrottle();
  const slow = new LogThrottle();
  const o = {
    maxUnsent: opts.maxUnsentBytes ?? API_MAX_UNSENT_BYTES, keepaliveMs: opts.keepaliveMs ?? API_FOLLOW_KEEPALIVE_MS,
    onSlow: (req: IncomingMessage, unsent: number) => {
      const address = req.socket.remoteAddress ?? '';
      const n = slow.note(address);
      if (n) manager.state.record({ at: manager.now(), event: 'protocol-error', address, proto: 'api', code: 'SLOW_PEER', message: `API client does not read (${unsent} bytes unsent on ${req.url?.slice(0, 100)})`, count: n });
    },
  };
  // Node checks the header and request timeouts on this period (30 s by default, which would
  // make a 10 s header limit a 40 s one).
  const server = createServer({ connectionsCheckingInterval: API_TIMEOUT_CHECK_MS }, (req, res) => {
    handle(manager, token, unauthorized, o, req, res, notifier).catch((err) => sendError(res, err));
  });
  // Request headers, then the whole request (a body, at most API_MAX_BODY), each within a limit;
  // a response may stream for as long as it needs (follow, fetch): the idle timeout below only
  // cuts a connection on which nothing moves either way (follow sends a blank line now and then).
  server.headersTimeout = opts.headersTimeoutMs ?? API_HEADERS_TIMEOUT_MS;
  server.requestTimeout = opts.requestTimeoutMs ?? API_REQUEST_TIMEOUT_MS;
  server.keepAliveTimeout = 5000;
  const idleMs = opts.idleTimeoutMs ?? API_IDLE_TIMEOUT_MS;
  server.setTimeout(idleMs, (socket: Socket) => socket.destroy());
  const cap = opts.maxConnections ?? API_MAX_CONNECTIONS;
  const open = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    if (open.size >= cap) {
      // Answered, not just dropped: the client learns why, with our usual error shape.
      const body = JSON.stringify({ error: { code: 'TOO_MANY_CONNECTIONS', message: `the control API has ${cap} connections open already; try again shortly` } });
      socket.on('error', () => {});
      socket.end(`HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
      setTimeout(() => socket.destroy(), 1000).unref();
      return;
    }
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  });
  return server;
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

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  let size = 0;
  const parts: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > API_MAX_BODY) throw new HwError('BAD_ARGS', `request body over ${API_MAX_BODY} bytes`);
    parts.push(chunk);
  }
  if (!size) return {};
  let v: unknown;
  try {
    v = JSON.parse(Buffer.concat(parts).toString('utf8'));
  } catch {
    throw new HwError('BAD_JSON', 'request body is not JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new HwError('BAD_ARGS', 'request body must be a JSON object');
  return v as Record<string, unknown>;
}

interface Limits {
  maxUnsent: number;
  keepaliveMs: number;
  onSlow: (req: IncomingMessage, unsent: number) => void;
}

async function handle(manager: Manager, token: string, unauthorized: LogThrottle, limits: Limits, req: IncomingMessage, res: ServerResponse, notifier?: Notifier): Promise<void> {
  const auth = req.headers.authorization ?? '';
  const given = auth.startsWith('Bearer ') ? auth.slice(7) : '';
  if (!tokenMatches(given, token)) {
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

  if (parts[1] === 'version' && parts.length === 2) return sendJson(res, 200, { version: VERSION });
  if (parts[1] === 'stats' && parts.length === 2 && method === 'GET') return sendJson(res, 200, { ...manager.stats(), notify: notifier?.status() ?? null });
  if (parts[1] === 'notify') return sendJson(res, 200, notifyRoute(notifier, parts.slice(2), method));

  if (parts[1] === 'agents') {
    if (parts.length === 2 && method === 'GET') return sendJson(res, 200, manager.state.agents().map(agentJson));
    const ref = parts[2]!;
    if (parts.length === 3 && method === 'GET') return sendJson(res, 200, agentJson(manager.state.find(ref)));
    if (parts.length === 4 && parts[3] === 'history' && method === 'GET') {
      const rec = manager.state.find(ref);
      const since = Number(url.searchParams.get('since') ?? 0) || 0;
      return sendJson(res, 200, { agent: rec.name, agentId: rec.id, interval: rec.interval, points: historyJson(manager, rec.id, since) });
    }
    const cmd = parts[3];
    if (parts.length === 4 && method === 'POST' && cmd === 'accept') return sendJson(res, 200, [agentJson(manager.accept(ref, apiWho(req)))]);
    if (parts.length === 4 && method === 'POST' && cmd === 'revoke') return sendJson(res, 200, agentJson(manager.revoke(ref, apiWho(req))));
    if (parts.length === 4 && cmd === 'fetch' && method === 'GET') return fetchFile(manager, ref, url, req, res);
    if (parts.length === 4 && method === 'POST' && (cmd === 'status' || cmd === 'procs' || cmd === 'logs' || cmd === 'restart')) {
      const args = await readBody(req);
      const result = await manager.command(ref, cmd, args, apiWho(req));
      return sendJson(res, 200, result ?? {});
    }
  }

  if (parts[1] === 'pending') {
    if (parts.length === 2 && method === 'GET') return sendJson(res, 200, manager.state.pending().map(agentJson));
    if (parts.length === 3 && parts[2] === 'accept-all' && method === 'POST') return sendJson(res, 200, manager.acceptAll(apiWho(req)).map(agentJson));
  }

  if (parts[1] === 'alerts' && method === 'GET') {
    const after = Number(url.searchParams.get('after') ?? 0) || 0;
    if (parts.length === 2) return sendJson(res, 200, manager.state.alerts(after).map(alertJson));
    if (parts.length === 3 && parts[2] === 'follow') return followAlerts(manager, after, req, res, limits);
  }
  throw new HwError('NOT_FOUND', `no such endpoint ${method} ${url.pathname}`);
}

export function historyJson(manager: Manager, id: string, since: number): Record<string, unknown>[] {
  return (manager.state.history(id)?.since(since) ?? []).map((p) => ({ ...p, at: new Date(p.at).toISOString() }));
}

function apiWho(req: IncomingMessage): string {
  return `api ${req.socket.remoteAddress ?? ''}`.trim();
}

async function fetchFile(manager: Manager, ref: string, url: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = url.searchParams.get('path');
  if (!path) throw new HwError('BAD_ARGS', 'fetch needs ?path=');
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
      async write(chunk) {
        // Wait only when a few MiB are queued: waiting on every chunk's drain halves the speed.
        res.write(chunk);
        if (res.writableLength > SINK_BUFFER_BYTES && !(await drained(res))) {
          throw new HwError('TRANSFER_ABORTED', 'the API client went away');
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
 * Alerts after `after`, then each new one, as JSON lines. The backlog is written as the client
 * takes it (waiting on drain); a live alert is written at once, and a client whose unsent bytes
 * pass the limit (it stopped reading) is cut with SLOW_PEER rather than queued for.
 */
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
