// The control API also on a Unix socket in the data folder (api.sock, mode 0600), for the CLI on
// the same host: it skips the TCP stack, which on a download was a good part of the manager's and
// the CLI's CPU. Same handler, same token, same limits as the TCP listener; no dashboard (a browser
// never comes this way). The CLI prefers it when it finds it and falls back to TCP otherwise.
//
// Not on Windows: a named pipe there has no file mode to keep other users out, and loopback TCP
// with the token is what the CLI uses instead. Not when the path is too long for a socket address
// (the CLI then uses TCP too).

import { chmodSync, lstatSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { createListener } from '../http/server.ts';
import { controlHandler, type ControlDeps } from './control.ts';

/** The socket's name in the data folder; the CLI looks for it there. */
export const API_SOCKET_FILE = 'api.sock';

/** sun_path holds 108 bytes on Linux, 104 on the BSDs and macOS; the terminating NUL included. */
const MAX_SOCKET_PATH = 103;

/** Where the data folder's API socket is (the CLI looks there). */
export function apiSocketPath(dataDir: string): string {
  return join(dataDir, API_SOCKET_FILE);
}

/** Whether a socket is usable at all for `path` on this platform. */
export function localSocketSupported(path: string, platform: NodeJS.Platform = process.platform): boolean {
  return platform !== 'win32' && Buffer.byteLength(path) <= MAX_SOCKET_PATH;
}

export interface LocalApi {
  server?: Server;
  path: string;
  /** why there is no socket, for the start-up output (no server then) */
  skipped?: string;
  close(): void;
}

/** Does something answer on that socket (another manager on the same data folder)? */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

/**
 * Listens on `<dataDir>/api.sock`. A socket left by a manager that died is replaced; one a live
 * manager answers on is left alone (this manager then has none: the CLI uses TCP).
 */
/** The same API as on TCP (the notifier's endpoints included), without the dashboard. */
export async function startLocalApi(deps: ControlDeps, dataDir: string): Promise<LocalApi> {
  const path = apiSocketPath(dataDir);
  const none = (skipped: string): LocalApi => ({ path, skipped, close() {} });
  if (!localSocketSupported(path)) return none(process.platform === 'win32' ? 'not on Windows (the CLI uses TCP)' : `the path is too long for a socket (${Buffer.byteLength(path)} bytes)`);
  let existing;
  try {
    existing = lstatSync(path);
  } catch {
    existing = undefined;
  }
  if (existing) {
    if (!existing.isSocket()) return none(`${path} exists and is not a socket`);
    if (await answers(path)) return none(`another manager answers on ${path}`);
    rmSync(path, { force: true });
  }
  const server = createListener({ ...deps.tuning, what: 'the control API socket' }, controlHandler({ ...deps, dashboard: undefined }, { surfaces: ['api'], takesToken: true }));
  // Created 0600 from the start (umask), not made so a moment later; the token still guards it.
  // listen() binds a path synchronously, so the umask is put back before anything else runs.
  const umask = process.umask(0o177);
  try {
    server.listen(path);
  } finally {
    process.umask(umask);
  }
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.once('listening', () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    return none(`cannot listen on ${path}: ${(err as Error).message}`);
  }
  chmodSync(path, 0o600);
  const ino = lstatSync(path).ino;
  return {
    server, path,
    close() {
      server.close();
      server.closeAllConnections();
      // Only ours: a later manager may have replaced it already.
      try {
        if (lstatSync(path).ino === ino) rmSync(path, { force: true });
      } catch {
        // gone already
      }
    },
  };
}
