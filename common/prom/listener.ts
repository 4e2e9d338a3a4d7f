// The read-only listener of `--metrics`: GET /metrics (every agent, or one with ?agent=<id>) and
// GET /sd (Prometheus HTTP service discovery, one target per agent). Plain HTTP on loopback;
// anywhere else HTTPS with the manager's certificate and a bearer token. Nothing else is served:
// no control API, no agent commands. Bounded like the control API: header, request and idle
// timeouts, and a cap on connections.

import { createServer as createHttp, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttps } from 'node:https';
import { once } from 'node:events';
import type { Socket } from 'node:net';
import {
  API_TIMEOUT_CHECK_MS, METRICS_HEADERS_TIMEOUT_MS, METRICS_IDLE_TIMEOUT_MS, METRICS_MAX_CONNECTIONS, METRICS_REQUEST_TIMEOUT_MS,
} from '../constants.ts';
import { HwError } from '../errors.ts';
import { LogThrottle } from '../log/throttle.ts';
import { tokenMatches } from '../manager/token.ts';
import { formatHostPort, isLoopback, type HostPort } from '../net/address.ts';
import type { TlsIdentity } from '../security/tls-identity.ts';
import type { AlertRecord } from '../manager/state.ts';
import { FiringSet } from '../notify/alert-names.ts';
import { EXPOSITION_CONTENT_TYPE } from './exposition.ts';
import { agentExposition, fleetExpositionSliced, type MetricsSource } from './fleet-metrics.ts';
import { sdTargets } from './sd.ts';

/** Limits of the listener (tests and tuning; the defaults are in constants.ts). */
export interface MetricsListenerLimits {
  maxConnections?: number;
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  idleTimeoutMs?: number;
}

export interface MetricsListenerOptions extends MetricsListenerLimits {
  address: HostPort;
  source: Omit<MetricsSource, 'firing'>;
  /** required off loopback: HTTPS with this identity and the bearer token */
  tls?: TlsIdentity;
  token?: string;
  /** HTTPS and the token even on loopback (tests; by default only off loopback) */
  secure?: boolean;
  /** told about refused requests (at most once a minute per address) */
  onUnauthorized?: (address: string, count: number) => void;
}

export interface MetricsListener {
  server: Server;
  port: number;
  secure: boolean;
  close(): Promise<void>;
}

export async function startMetricsListener(o: MetricsListenerOptions): Promise<MetricsListener> {
  const secure = o.secure ?? !isLoopback(o.address.host);
  if (secure && (!o.tls || !o.token)) throw new HwError('BAD_FLAG', `--metrics ${formatHostPort(o.address)} is not on loopback: it needs the manager's certificate and a token`);
  const refused = new LogThrottle();
  const firing = new FiringSet(o.source.state.alerts());
  const onAlert = (a: AlertRecord) => firing.apply(a);
  o.source.state.on('alert', onAlert);
  const source: MetricsSource = { ...o.source, firing };
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    handle(o, source, secure, refused, req, res).catch((err) => {
      if (res.headersSent) return void res.destroy();
      const e = err instanceof HwError ? err : new HwError('INTERNAL', (err as Error).message);
      const status = e.code === 'UNAUTHORIZED' ? 401 : e.code === 'NOT_FOUND' || e.code === 'AGENT_NOT_FOUND' ? 404 : e.code === 'BAD_ARGS' ? 400 : 500;
      const body = `${e.code}: ${e.message}\n`;
      res.writeHead(status, {
        'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body),
        ...(status === 401 ? { 'www-authenticate': 'Bearer realm="hostwatch metrics"' } : {}),
      });
      res.end(body);
    });
  };
  // Node checks the header and request timeouts on this period (30 s by default).
  const httpOpts = { connectionsCheckingInterval: API_TIMEOUT_CHECK_MS };
  const headersMs = o.headersTimeoutMs ?? METRICS_HEADERS_TIMEOUT_MS;
  const server = secure
    ? createHttps({ ...httpOpts, key: o.tls!.key, cert: o.tls!.cert, handshakeTimeout: headersMs }, handler)
    : createHttp(httpOpts, handler);
  server.headersTimeout = headersMs;
  server.requestTimeout = o.requestTimeoutMs ?? METRICS_REQUEST_TIMEOUT_MS;
  server.keepAliveTimeout = 5000;
  // A scraper that stops reading a large answer, or never sends anything, is cut here.
  server.setTimeout(o.idleTimeoutMs ?? METRICS_IDLE_TIMEOUT_MS, (socket: Socket) => socket.destroy());
  const cap = o.maxConnections ?? METRICS_MAX_CONNECTIONS;
  const openSockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    if (openSockets.size >= cap) {
      socket.on('error', () => {});
      if (secure) {
        // Before TLS there is no way to say why: closed.
        socket.destroy();
        return;
      }
      const body = `TOO_MANY_CONNECTIONS: the metrics listener has ${cap} connections open already; try again shortly\n`;
      socket.end(`HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
      setTimeout(() => socket.destroy(), 1000).unref();
      return;
    }
    openSockets.add(socket);
    socket.once('close', () => openSockets.delete(socket));
  });
  server.on('tlsClientError', (_err, socket) => socket.destroy());
  server.listen(o.address.port, o.address.host);
  try {
    await once(server, 'listening');
  } catch (err) {
    o.source.state.off('alert', onAlert);
    const code = (err as NodeJS.ErrnoException).code;
    throw new HwError('BAD_ADDRESS', `--metrics ${formatHostPort(o.address)}: ${code === 'EADDRINUSE' ? 'already in use; choose another port' : (err as Error).message}`);
  }
  const port = (server.address() as { port: number }).port;
  return {
    server, port, secure,
    close: async () => {
      o.source.state.off('alert', onAlert);
      server.close();
      server.closeAllConnections();
    },
  };
}

async function handle(o: MetricsListenerOptions, source: MetricsSource, secure: boolean, refused: LogThrottle, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (secure) {
    const auth = req.headers.authorization ?? '';
    // Prometheus 2.42 sends the bare credentials for an `authorization` block without `type`.
    const given = /^bearer /i.test(auth) ? auth.slice(7).trim() : auth.trim();
    if (!tokenMatches(given, o.token!)) {
      const addr = req.socket.remoteAddress ?? '';
      const n = refused.note(addr);
      if (n) o.onUnauthorized?.(addr, n);
      throw new HwError('UNAUTHORIZED', 'missing or wrong bearer token (the contents of <data-dir>/metrics-token)');
    }
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') throw new HwError('NOT_FOUND', 'read-only: GET /metrics and GET /sd only');
  const url = new URL(req.url ?? '/', 'http://x');
  if (url.pathname === '/metrics') {
    const id = url.searchParams.get('agent');
    let body: string;
    if (id !== null) {
      const rec = source.state.agent(id);
      if (!rec || rec.trust !== 'accepted') throw new HwError('AGENT_NOT_FOUND', `no accepted agent has the id ${id.slice(0, 100)}`);
      body = agentExposition(source, rec);
    } else {
      body = await fleetExpositionSliced(source);
    }
    return send(req, res, EXPOSITION_CONTENT_TYPE, body);
  }
  if (url.pathname === '/sd') {
    return send(req, res, 'application/json', JSON.stringify(sdTargets(source.state, sdHost(req))));
  }
  if (url.pathname === '/') return send(req, res, 'text/plain; charset=utf-8', 'hostwatch manager metrics: GET /metrics, /metrics?agent=<id>, /sd\n');
  throw new HwError('NOT_FOUND', `no such path ${url.pathname.slice(0, 200)}: GET /metrics or /sd`);
}

/** How the caller reached us (its Host header), so the targets point where it can scrape. */
function sdHost(req: IncomingMessage): string {
  const h = req.headers.host;
  if (h && /^[A-Za-z0-9.\-]+(:\d+)?$|^\[[0-9A-Fa-f:.]+\](:\d+)?$/.test(h)) return h;
  return formatHostPort({ host: req.socket.localAddress ?? '127.0.0.1', port: req.socket.localPort ?? 0 });
}

function send(req: IncomingMessage, res: ServerResponse, type: string, body: string): void {
  res.writeHead(200, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : body);
}
