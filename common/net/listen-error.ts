// The one mapping of a listen error (EADDRINUSE, EACCES, EADDRNOTAVAIL) to a line that says what to
// do, for every listener: the agents' TCP and UDP ports, the control API, the dashboard, /metrics.

import { HwError } from '../errors.ts';
import { formatHostPort, type HostPort } from './address.ts';

export function listenError(err: unknown, where: HostPort | string, o: { what: string; flag?: string }): HwError {
  const code = (err as NodeJS.ErrnoException).code;
  const at = typeof where === 'string' ? where : formatHostPort(where);
  const flag = o.flag ?? 'its flag';
  const why = code === 'EADDRINUSE' ? `already in use (another manager?); choose another with ${flag}`
    : code === 'EACCES' ? `permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE); choose another with ${flag}`
    : code === 'EADDRNOTAVAIL' ? 'no interface of this host has that address; check --host'
    : (err as Error).message;
  return new HwError('BAD_ADDRESS', `${o.what} ${at}: ${why}`);
}
