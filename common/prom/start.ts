// Starts the `--metrics` listener for a serving manager: loopback plain, elsewhere HTTPS with the
// manager's certificate and the token of <data-dir>/metrics-token.

import type { Manager } from '../manager/manager.ts';
import { loadOrCreateToken } from '../manager/token.ts';
import { isLoopback, type HostPort } from '../net/address.ts';
import type { TlsIdentity } from '../security/tls-identity.ts';
import type { Notifier } from '../notify/notifier.ts';
import { startMetricsListener, type MetricsListener, type MetricsListenerLimits } from './listener.ts';

/** The bearer token of `/metrics` and `/sd` outside loopback, in the data folder. */
export const METRICS_TOKEN_FILE = 'metrics-token';

export async function startMetrics(
  manager: Manager, address: HostPort, dataDir: string, tls: TlsIdentity, notifier: Notifier | undefined, limits: MetricsListenerLimits = {},
): Promise<MetricsListener> {
  const secure = !isLoopback(address.host);
  return startMetricsListener({
    ...limits,
    address,
    source: {
      state: manager.state, figures: () => manager.figures(),
      // /metrics is read-only, for whoever holds the scrape token: the viewers' view of the destinations.
      ...(notifier ? { destinations: () => notifier.redactedStatus().destinations } : {}),
    },
    ...(secure ? { tls, token: loadOrCreateToken(dataDir, METRICS_TOKEN_FILE) } : {}),
    onUnauthorized: (addr, count) => manager.state.record({ at: Date.now(), event: 'metrics-unauthorized', address: addr, count }),
  });
}
