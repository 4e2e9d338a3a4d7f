// The one way this product makes an HTTP listener (the control API on TCP and on its Unix socket,
// the dashboard's HTTPS listener, the /metrics listener): header, request and idle timeouts, a cap
// on connections in all and per address, the Host check on loopback, and one mapping of listen
// errors. Routing and access are the route table's (route-table.ts).

import { once } from 'node:events';
import { createServer as createHttp, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttps } from 'node:https';
import { isIPv4, type Socket } from 'node:net';
import { HwError } from '../errors.ts';
import { addressGroup, type HostPort } from '../net/address.ts';
import { listenError } from '../net/listen-error.ts';
import { sendError } from './reply.ts';

export interface HttpLimits {
  /** connections open at once; past it a new one is answered 503 TOO_MANY_CONNECTIONS */
  maxConnections?: number;
  /** connections open at once from one address (an IPv6 one by its /64; TLS handshakes included), so a few hosts cannot take every slot */
  maxPerAddress?: number;
  headersTimeoutMs?: number;
  /** the whole request, body included; a response may stream for as long as it needs */
  requestTimeoutMs?: number;
  /** a connection on which nothing moves either way for this long is cut */
  idleTimeoutMs?: number;
}

export const HTTP_DEFAULTS: Required<HttpLimits> = {
  maxConnections: 128, maxPerAddress: 32, headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, idleTimeoutMs: 60_000,
};

/** How often Node checks the header and request timeouts (30 s by default, which would make a 10 s limit a 40 s one). */
const TIMEOUT_CHECK_MS = 1000;

export interface ListenerOptions extends HttpLimits {
  /** for messages: "the control API", "the dashboard", "the metrics listener" */
  what: string;
  /** HTTPS with this key and certificate */
  tls?: { key: string; cert: string };
  /**
   * Answer only requests whose Host is a loopback name (127.x, localhost, ::1): a web site that points
   * its own name at 127.0.0.1 (DNS rebinding) gets nothing. Plain HTTP on a loopback address sets it.
   */
  loopbackHost?: boolean;
}

export function createListener(o: ListenerOptions, handler: (req: IncomingMessage, res: ServerResponse) => void): Server {
  const l = { ...HTTP_DEFAULTS, ...stripUndefined(o) };
  const guarded = (req: IncomingMessage, res: ServerResponse) => {
    // No Host at all is not a browser (HTTP/1.0 from a script): only a name can be rebound.
    if (o.loopbackHost && req.headers.host !== undefined && !loopbackHostHeader(req.headers.host)) {
      return sendError(res, new HwError('FORBIDDEN', `${o.what} answers to loopback names only (127.0.0.1, localhost), not "${(req.headers.host ?? '').slice(0, 100)}"`));
    }
    handler(req, res);
  };
  let server: Server;
  try {
    server = o.tls
      ? createHttps({ key: o.tls.key, cert: o.tls.cert, minVersion: 'TLSv1.2', handshakeTimeout: l.headersTimeoutMs, connectionsCheckingInterval: TIMEOUT_CHECK_MS }, guarded)
      : createHttp({ connectionsCheckingInterval: TIMEOUT_CHECK_MS }, guarded);
  } catch (err) {
    throw new HwError('BAD_FLAG', `${o.what}: the certificate or key is not usable (${(err as Error).message})`);
  }
  server.headersTimeout = l.headersTimeoutMs;
  server.requestTimeout = l.requestTimeoutMs;
  server.keepAliveTimeout = 5000;
  server.setTimeout(l.idleTimeoutMs, (socket: Socket) => socket.destroy());
  capConnections(server, l, o.what, !!o.tls);
  return server;
}

/**
 * Every connection counts, a dashboard's event stream too (its own limit sits below the cap, so that
 * open dashboards alone never lock the CLI out). Per address from the first byte, so that handshakes
 * count too; in all once the connection can be answered (after TLS), with our usual error shape.
 */
function capConnections(server: Server, l: Required<HttpLimits>, what: string, tls: boolean): void {
  const open = new Set<Socket>();
  const perAddress = new Map<string, number>();
  const refuse = (socket: Socket, message: string) => {
    socket.on('error', () => {});
    const body = JSON.stringify({ error: { code: 'TOO_MANY_CONNECTIONS', message } });
    socket.end(`HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncache-control: no-store\r\nx-content-type-options: nosniff\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    setTimeout(() => socket.destroy(), 1000).unref();
  };
  server.on('connection', (socket: Socket) => {
    // A Unix socket has no address: the file's mode keeps others out, and every client is "local".
    if (socket.remoteAddress === undefined) return;
    // An IPv6 host is commonly given a whole /64: counted by its /64, as every per-address limit is.
    const address = addressGroup(socket.remoteAddress);
    const n = perAddress.get(address) ?? 0;
    if (n >= l.maxPerAddress) {
      if (tls) socket.destroy(); // before TLS there is no way to say why
      else refuse(socket, `${what} has ${l.maxPerAddress} connections open from ${address} already; close some and try again`);
      return;
    }
    perAddress.set(address, n + 1);
    socket.once('close', () => {
      const left = (perAddress.get(address) ?? 1) - 1;
      if (left > 0) perAddress.set(address, left);
      else perAddress.delete(address);
    });
  });
  server.on(tls ? 'secureConnection' : 'connection', (socket: Socket) => {
    if (socket.destroyed || socket.writableEnded) return;
    if (open.size >= l.maxConnections) return refuse(socket, `${what} has ${l.maxConnections} connections open already; try again shortly`);
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  });
  if (tls) server.on('tlsClientError', (_err: Error, socket: Socket) => socket.destroy());
}

/** Listens on a host and port (or a Unix socket path), with listen errors said once, the same way for every listener. */
export async function listen(server: Server, where: HostPort | string, o: { what: string; flag?: string }): Promise<number> {
  if (typeof where === 'string') server.listen(where);
  else server.listen(where.port, where.host);
  try {
    await once(server, 'listening');
  } catch (err) {
    throw listenError(err, where, o);
  }
  const a = server.address();
  return typeof a === 'object' && a ? a.port : 0;
}

/** Is the Host header a loopback name? */
export function loopbackHostHeader(host: string | undefined): boolean {
  const h = (host ?? '').toLowerCase();
  const name = h.startsWith('[') ? h.slice(1, h.indexOf(']')) : h.replace(/:\d+$/, '');
  // Strictly an address: "127.example.com" is a name anyone can point anywhere.
  return name === 'localhost' || name === '::1' || (isIPv4(name) && name.startsWith('127.'));
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
