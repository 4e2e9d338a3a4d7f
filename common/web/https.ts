// The dashboard's own HTTPS listener (--web host:port), for reaching the page from other hosts:
// with the manager's certificate or the administrator's (--web-cert/--web-key). Plain HTTP is only
// ever served on loopback, by the control API's listener.

import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import { HwError } from '../errors.ts';
import { formatHostPort, type HostPort } from '../net/address.ts';

export interface WebListenConfig {
  listen: HostPort;
  /** PEM files; both or neither (then the manager's own identity is used) */
  certFile?: string;
  keyFile?: string;
}

/**
 * `limits` puts the control API's timeouts and connection cap on the listener before it listens;
 * `handshakeTimeoutMs` bounds a TLS handshake, `checkMs` is how often Node checks the timeouts.
 */
export async function startHttps(
  cfg: WebListenConfig, identity: { key: string; cert: string }, handler: (req: IncomingMessage, res: ServerResponse) => void,
  opts: { limits?: (server: Server) => void; handshakeTimeoutMs?: number; checkMs?: number } = {},
): Promise<{ server: Server; port: number }> {
  if (!!cfg.certFile !== !!cfg.keyFile) throw new HwError('BAD_FLAG', '--web-cert and --web-key go together');
  const read = (file: string, flag: string) => {
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      throw new HwError('BAD_FLAG', `${flag} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  const tls = cfg.certFile && cfg.keyFile ? { cert: read(cfg.certFile, '--web-cert'), key: read(cfg.keyFile, '--web-key') } : identity;
  let server: Server;
  try {
    server = createServer({
      ...tls, minVersion: 'TLSv1.2',
      ...(opts.handshakeTimeoutMs ? { handshakeTimeout: opts.handshakeTimeoutMs } : {}),
      ...(opts.checkMs ? { connectionsCheckingInterval: opts.checkMs } : {}),
    }, handler);
  } catch (err) {
    throw new HwError('BAD_FLAG', `--web: the certificate or key is not usable (${(err as Error).message})`);
  }
  if (opts.limits) opts.limits(server);
  else {
    server.headersTimeout = 10_000;
    server.requestTimeout = 0;
  }
  server.listen(cfg.listen.port, cfg.listen.host);
  try {
    await once(server, 'listening');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new HwError('BAD_ADDRESS', `--web ${formatHostPort(cfg.listen)}: ${code === 'EADDRINUSE' ? 'already in use' : (err as Error).message}`);
  }
  return { server, port: (server.address() as { port: number }).port };
}
