// The manager's enroll token for this agent, from --enroll-token-file, the HOSTWATCH_ENROLL_TOKEN
// environment variable or --enroll-token (in that order of preference: a flag's value is visible
// to every user in `ps`, a file's or the environment's is not).

import { readFileSync, statSync } from 'node:fs';
import { HwError } from '../errors.ts';

export const ENROLL_TOKEN_ENV = 'HOSTWATCH_ENROLL_TOKEN';
/** As long as the hello may carry. */
const TOKEN_MAX = 256;

export interface EnrollTokenSources {
  flag?: string;
  file?: string;
  env?: string;
}

/**
 * The token, or undefined when none is given; `warn` hears about a file other users may read.
 * Throws BAD_FLAG when both flags are given, BAD_ENROLL_TOKEN for a file that cannot be read or
 * a token that is empty or malformed.
 */
export function resolveEnrollToken(src: EnrollTokenSources, warn: (line: string) => void = () => {}, platform = process.platform): string | undefined {
  if (src.flag !== undefined && src.file !== undefined) throw new HwError('BAD_FLAG', 'give one of --enroll-token-file and --enroll-token, not both');
  if (src.file !== undefined) {
    const path = src.file;
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EISDIR' ? 'a folder, not a file' : code;
      throw new HwError('BAD_ENROLL_TOKEN', `--enroll-token-file ${path}: cannot read it (${why}); put the manager's enroll token there, readable by the agent's user only (chmod 600)`);
    }
    if (platform !== 'win32' && (statSync(path).mode & 0o077) !== 0) warn(`--enroll-token-file ${path} can be read by other users: chmod 600 ${path}`);
    return checked(text, `--enroll-token-file ${path}`);
  }
  if (src.env !== undefined && src.env !== '') return checked(src.env, ENROLL_TOKEN_ENV);
  if (src.flag !== undefined) return checked(src.flag, '--enroll-token');
  return undefined;
}

function checked(raw: string, where: string): string {
  const t = raw.trim();
  if (!t) throw new HwError('BAD_ENROLL_TOKEN', `${where} is empty: it must hold the manager's enroll token (its data folder's enroll-token file)`);
  if (t.length > TOKEN_MAX || /\s/.test(t)) throw new HwError('BAD_ENROLL_TOKEN', `${where} does not hold an enroll token (one word of at most ${TOKEN_MAX} characters)`);
  return t;
}
