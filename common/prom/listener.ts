// The read-only listener of `--metrics`: GET /metrics (every agent, or one with ?agent=<id>) and
// GET /sd (Prometheus HTTP service discovery, one target per agent). Plain HTTP on loopback;
// anywhere else HTTPS with the manager's certificate and a bearer token. Nothing else is served:
// no control API, no agent commands. Bounded like the control API: header, request and idle
// timeouts, and a cap on connections.

import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { HwError } from '../errors.ts';
import { createListener, listen, type HttpLimits } from '../http/server.ts';
import { route, routeTable, type Route } from '../http/route-table.ts';
import { LogThrottle } from '../util/throttle.ts';
import { secretMatches } from '../util/secret.ts';
import { formatHostPort, isLoopback, type HostPort } from '../net/address.ts';
import type { TlsIdentity } from '../security/tls-identity.ts';
import type { AlertRecord } from '../manager/state.ts';
import { FiringSet } from '../notify/alert-names.ts';
import { EXPOSITION_CONTENT_TYPE } from './exposition.ts';
import { agentExposition, fleetExpositionSliced, type MetricsSource } from './fleet-metrics.ts';
import { sdTargets } from './sd.ts';

/** Limits of the listener (tests and tuning): a scraper needs few connections. */
export type MetricsListenerLimits = HttpLimits;

const METRICS_DEFAULTS: HttpLimits = { maxConnections: 64, maxPerAddress: 16 };

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
  const handler = routeTable({
    routes: metricsRoutes(source),
    surfaces: ['metrics'],
    auth: {
      ...(secure ? { metricsToken: (given: string) => secretMatches(given, o.token!) } : {}),
      onUnauthorized: (req: IncomingMessage) => {
        const addr = req.socket.remoteAddress ?? '';
        const n = refused.note(addr);
        if (n) o.onUnauthorized?.(addr, n);
      },
    },
    challenge: 'Bearer realm="hostwatch metrics"',
  });
  const { address: _a, source: _s, tls: _t, token: _k, secure: _x, onUnauthorized: _u, ...limits } = o;
  const server = createListener({
    ...METRICS_DEFAULTS, ...limits, what: 'the metrics listener', loopbackHost: !secure,
    ...(secure ? { tls: { key: o.tls!.key, cert: o.tls!.cert } } : {}),
  }, handler);
  let port: number;
  try {
    port = await listen(server, o.address, { what: 'the metrics listener', flag: '--metrics' });
  } catch (err) {
    o.source.state.off('alert', onAlert);
    throw err;
  }
  return {
    server, port, secure,
    close: async () => {
      o.source.state.off('alert', onAlert);
      server.close();
      server.closeAllConnections();
    },
  };
}

/** GET /metrics (every agent, or one with ?agent=<id>), GET /sd, and a line at / saying so. Read-only. */
export function metricsRoutes(source: MetricsSource): Route<unknown>[] {
  return [
    route({
      method: 'GET', path: '/metrics', access: 'metrics', surface: 'metrics', raw: true, summary: 'every accepted agent\'s metrics (Prometheus text 0.0.4)',
      doc: { query: { agent: 'only this agent (its id)' } },
      handle: async ({ req, res, query }) => {
        const id = query.get('agent');
        if (id === null) return send(req, res, EXPOSITION_CONTENT_TYPE, await fleetExpositionSliced(source));
        const rec = source.state.agent(id);
        if (!rec || rec.trust !== 'accepted') throw new HwError('AGENT_NOT_FOUND', `no accepted agent has the id ${id.slice(0, 100)}`);
        send(req, res, EXPOSITION_CONTENT_TYPE, agentExposition(source, rec));
      },
    }),
    route({
      method: 'GET', path: '/sd', access: 'metrics', surface: 'metrics', raw: true, summary: 'Prometheus HTTP service discovery: one target per agent',
      handle: ({ req, res }) => send(req, res, 'application/json', JSON.stringify(sdTargets(source.state, sdHost(req)))),
    }),
    route({
      method: 'GET', path: '/', access: 'metrics', surface: 'metrics', raw: true, summary: 'what this listener serves',
      handle: ({ req, res }) => send(req, res, 'text/plain; charset=utf-8', 'hostwatch manager metrics: GET /metrics, /metrics?agent=<id>, /sd\n'),
    }),
  ];
}

/** How the caller reached us (its Host header), so the targets point where it can scrape. */
function sdHost(req: IncomingMessage): string {
  const h = req.headers.host;
  if (h && /^[A-Za-z0-9.\-]+(:\d+)?$|^\[[0-9A-Fa-f:.]+\](:\d+)?$/.test(h)) return h;
  return formatHostPort({ host: req.socket.localAddress ?? '127.0.0.1', port: req.socket.localPort ?? 0 });
}

function send(req: IncomingMessage, res: ServerResponse, type: string, body: string): void {
  res.writeHead(200, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(req.method === 'HEAD' ? undefined : body);
}
