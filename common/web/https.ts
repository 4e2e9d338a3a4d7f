// The dashboard's own HTTPS listener (--web host:port), for reaching the page from other hosts:
// with the manager's certificate or the administrator's (--web-cert/--web-key). Plain HTTP is only
// ever served on loopback, by the control API's listener.

import { readFileSync } from 'node:fs';
import { HwError } from '../errors.ts';
import type { HostPort } from '../net/address.ts';

export interface WebListenConfig {
  listen: HostPort;
  /** PEM files; both or neither (then the manager's own identity is used) */
  certFile?: string;
  keyFile?: string;
}

/** The key and certificate the listener serves: the administrator's files, or the manager's own identity. */
export function webIdentity(cfg: WebListenConfig, identity: { key: string; cert: string }): { key: string; cert: string } {
  if (!!cfg.certFile !== !!cfg.keyFile) throw new HwError('BAD_FLAG', '--web-cert and --web-key go together');
  const read = (file: string, flag: string) => {
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      throw new HwError('BAD_FLAG', `${flag} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  return cfg.certFile && cfg.keyFile ? { cert: read(cfg.certFile, '--web-cert'), key: read(cfg.keyFile, '--web-key') } : identity;
}
