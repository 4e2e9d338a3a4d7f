// The control API's request handler for each listener it is served on: the loopback TCP listener
// (API and dashboard, token or session), the Unix socket (API only, token only), the dashboard's
// HTTPS listener (API and dashboard, sessions only: there the token is not taken).

import type { IncomingMessage, ServerResponse } from 'node:http';
import { apiRoutes } from '../api/routes.ts';
import { STREAM_DEFAULTS } from '../api/streams.ts';
import type { HttpLimits } from '../http/server.ts';
import { openapi } from '../http/openapi.ts';
import { routeTable, type Route, type Surface } from '../http/route-table.ts';
import { LogThrottle } from '../util/throttle.ts';
import type { ConfigControl } from '../config/control.ts';
import type { Manager } from '../manager/manager.ts';
import { secretMatches } from '../util/secret.ts';
import type { Notifier } from '../notify/notifier.ts';
import type { Dashboard } from '../web/dashboard.ts';
import { dashboardRoutes } from '../web/routes.ts';
import { distRoutes } from '../install/dist.ts';
import { installRoutes, type InstallSite } from '../install/routes.ts';

export interface ApiOptions extends HttpLimits {
  /** unsent bytes past which a stream's client that does not read is cut (SLOW_PEER) */
  maxUnsentBytes?: number;
  /** a blank line on a quiet stream after this long */
  keepaliveMs?: number;
}

export interface ControlDeps {
  manager: Manager;
  config: ConfigControl;
  token: string;
  notifier?: Notifier | undefined;
  dashboard?: Dashboard | undefined;
  tuning?: ApiOptions | undefined;
  /** --agent-dist and the dashboard's address: the install command and the agent downloads */
  install?: InstallSite | undefined;
}

/** Every route of the control API and the dashboard, for a listener or for the reference. */
export function controlRoutes(d: ControlDeps, onSlow: (req: IncomingMessage, unsent: number) => void = () => {}): Route<unknown>[] {
  const streams = { maxUnsent: d.tuning?.maxUnsentBytes ?? STREAM_DEFAULTS.maxUnsent, keepaliveMs: d.tuning?.keepaliveMs ?? STREAM_DEFAULTS.keepaliveMs, onSlow };
  const deps: Parameters<typeof apiRoutes>[0] = { manager: d.manager, config: d.config, notifier: d.notifier, streams };
  const routes = [...apiRoutes(deps), ...(d.dashboard ? dashboardRoutes(d.dashboard, () => d.manager.now()) : []),
    ...(d.install ? [...installRoutes(d.manager, d.install), ...distRoutes(d.install.dist)] : [])];
  deps.openapi = () => openapi(routes);
  return routes;
}

export function controlHandler(d: ControlDeps, o: { surfaces: Surface[]; takesToken: boolean }): (req: IncomingMessage, res: ServerResponse) => void {
  const m = d.manager;
  const unauthorized = new LogThrottle();
  const slow = new LogThrottle();
  const onSlow = (req: IncomingMessage, unsent: number) => {
    const address = req.socket.remoteAddress ?? '';
    const n = slow.note(address);
    if (n) m.state.record({ at: m.now(), event: 'protocol-error', address, proto: 'api', code: 'SLOW_PEER', message: `API client does not read (${unsent} bytes unsent on ${req.url?.slice(0, 100)})`, count: n });
  };
  const dash = d.dashboard;
  return routeTable({
    routes: controlRoutes(d, onSlow),
    surfaces: o.surfaces,
    auth: {
      ...(o.takesToken ? { token: (given: string) => secretMatches(given, d.token) } : {}),
      ...(dash ? {
        session: (req: IncomingMessage) => dash.sessionOf(req),
        csrfMatches: (s: { csrf: string }, given: string | undefined) => dash.sessions.csrfMatches(s, given),
      } : {}),
      onUnauthorized: (req) => {
        // Once a minute per address at most, with a count: a loop of guesses must not fill the disk.
        const n = unauthorized.note(req.socket.remoteAddress ?? '');
        if (n) m.state.record({ at: m.now(), event: 'api-unauthorized', address: req.socket.remoteAddress, path: req.url?.slice(0, 200), count: n });
      },
    },
  });
}
