// How a client command reaches the running manager: its API address (the flag, then
// <data-dir>/manager.json, then the default), its token, the data folder's Unix socket when there
// is one, and the terminal it prints on.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { readToken } from '../manager/token.ts';
import { parseHostPort, type HostPort } from '../net/address.ts';
import { apiSocketPath, localSocketSupported } from '../serve/api-socket.ts';
import { DEFAULT_API, MANAGER_FILE } from '../serve/serve.ts';
import { inert, inertText } from '../util/inert.ts';
import { HttpClient } from './client.ts';
import type { Io } from './io.ts';
import { durationFlag, last } from './run.ts';

export interface ConnectFlags {
  api?: unknown;
  dataDir: string;
  timeout?: unknown;
}

/** The API's address and token, and the client's --timeout. */
export function apiOf(opts: ConnectFlags): { hp: HostPort; token: string; timeoutMs?: number } {
  let api = opts.api === undefined ? undefined : String(last(opts.api));
  const dataDir = String(last(opts.dataDir));
  const info = join(dataDir, MANAGER_FILE);
  if (!api && existsSync(info)) {
    try {
      api = JSON.parse(readFileSync(info, 'utf8')).api;
    } catch {
      // a torn file: fall back to the default
    }
  }
  const hp = parseHostPort(api ?? DEFAULT_API, 5007, '--api');
  const timeoutMs = opts.timeout === undefined ? undefined : durationFlag(last(opts.timeout), '--timeout', 100, 86_400_000);
  return { hp, token: readToken(dataDir), ...(timeoutMs === undefined ? {} : { timeoutMs }) };
}

/** A client of the running manager: the data folder's socket unless --api names one (which may be another manager). */
export function client(opts: ConnectFlags): HttpClient {
  const { hp, token, timeoutMs } = apiOf(opts);
  const socketPath = opts.api === undefined ? apiSocketPath(String(last(opts.dataDir))) : undefined;
  return new HttpClient(hp, token, { ...(timeoutMs === undefined ? {} : { responseTimeoutMs: timeoutMs }), ...(socketPath && localSocketSupported(socketPath) ? { socketPath } : {}) });
}

/** The terminal a client command prints on: agents' names, log lines and paths shown, never obeyed. */
export function terminalIo(): Io {
  const tty = !!process.stderr.isTTY;
  return {
    out: (t) => process.stdout.write(inertText(t) + '\n'),
    err: (t) => process.stderr.write(inertText(t) + '\n'),
    ...(tty ? { progress: (l: string | null) => process.stderr.write(l === null ? '\r\x1b[K' : `\r\x1b[K${inert(l)}`) } : {}),
    ...(process.stdin.isTTY ? {
      confirm: (q: string) => new Promise<boolean>((resolve) => {
        const rl = createInterface({ input: process.stdin, output: process.stderr });
        rl.question(q, (a) => {
          rl.close();
          resolve(/^y(es)?$/i.test(a.trim()));
        });
      }),
    } : {}),
  };
}
