// The control API's token: random, written once to <data-dir>/api-token with mode 0600 (compared
// in constant time by util/secret.ts).

import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HwError } from '../errors.ts';
import { writeDurable } from '../fs/durable.ts';

export const TOKEN_FILE = 'api-token';
export const ENROLL_TOKEN_FILE = 'enroll-token';

export function loadOrCreateToken(dataDir: string, file = TOKEN_FILE): string {
  const path = join(dataDir, file);
  if (existsSync(path)) {
    const t = readFileSync(path, 'utf8').trim();
    if (t.length >= 32) {
      chmodSync(path, 0o600);
      return t;
    }
  }
  // Hex, not base64url: a token that starts with '-' would be read as flags after `--enroll-token`.
  const token = randomBytes(32).toString('hex');
  writeDurable(path, token + '\n', { mode: 0o600 });
  return token;
}

export function readToken(dataDir: string): string {
  const path = join(dataDir, TOKEN_FILE);
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new HwError('UNAUTHORIZED', code === 'EACCES'
      ? `cannot read the API token ${path}: permission denied (run as the manager's user)`
      : `no API token at ${path}: is the manager running with --data-dir ${dataDir}?`);
  }
}
