// The dashboard's users in <data-dir>/users.json: name, role, scrypt hash of the password. The CLI
// edits the file (`manager user ...`), the serving manager reads it again when it changes, so a
// removed user or a new password ends that user's sessions at their next request.

import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { HwError } from '../errors.ts';
import { writeDurable } from '../fs/durable.ts';

/** scrypt cost for stored passwords (N = 2^15, r = 8: about 32 MiB and 50-100 ms a check). */
const WEB_SCRYPT = { N: 1 << 15, r: 8, p: 1, keylen: 32, maxmem: 64 * 1024 * 1024 } as const;

export const USERS_FILE = 'users.json';
export type Role = 'admin' | 'viewer';
export const ROLES: readonly Role[] = ['admin', 'viewer'];

export interface UserRecord {
  name: string;
  role: Role;
  /** scrypt$N$r$p$salt$hash (base64url) */
  password: string;
  createdAt: string;
  /** changes with every new password, so sessions opened with the old one end */
  stamp: string;
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

export function checkUserName(name: string): string {
  if (!NAME_RE.test(name)) throw new HwError('BAD_ARGS', `user name "${name.slice(0, 80)}": 1-64 letters, digits, . _ @ - (starting with a letter or digit)`);
  if (name === 'console') throw new HwError('BAD_ARGS', 'the name "console" is the one-time link\'s own administrator: choose another');
  return name;
}

export function checkRole(role: unknown): Role {
  if (!ROLES.includes(role as Role)) throw new HwError('BAD_ARGS', `--role must be admin or viewer, not "${String(role)}"`);
  return role as Role;
}

export function checkPassword(pw: string): string {
  if (pw.length < 8) throw new HwError('BAD_ARGS', 'the password needs at least 8 characters');
  if (pw.length > 1024) throw new HwError('BAD_ARGS', 'the password is over 1024 characters');
  return pw;
}

function scryptAsync(pw: string, salt: Buffer, keylen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(pw, salt, keylen, opts, (err, key) => (err ? reject(err) : resolve(key))));
}

export async function hashPassword(pw: string): Promise<string> {
  const salt = randomBytes(16);
  const { N, r, p, keylen, maxmem } = WEB_SCRYPT;
  const key = await scryptAsync(pw, salt, keylen, { N, r, p, maxmem });
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

export async function verifyPassword(pw: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  const salt = Buffer.from(parts[4]!, 'base64url');
  const want = Buffer.from(parts[5]!, 'base64url');
  if (!want.length || !(N > 1 && N <= 1 << 20 && r >= 1 && r <= 32 && p >= 1 && p <= 16)) return false;
  const got = await scryptAsync(pw, salt, want.length, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 });
  return timingSafeEqual(got, want);
}

/** A stand-in hash so that a sign-in as an unknown user costs the same time as a wrong password. */
let dummyHash: Promise<string> | undefined;
export function dummyPasswordHash(): Promise<string> {
  dummyHash ??= hashPassword(randomBytes(12).toString('hex'));
  return dummyHash;
}

export class UserStore {
  readonly path: string;
  private users = new Map<string, UserRecord>();
  private seen = '';

  constructor(dataDir: string) {
    this.path = join(dataDir, USERS_FILE);
    this.reload();
  }

  /** Reads the file again if it changed on disk (size or mtime); cheap enough for every request. */
  reload(): void {
    let st;
    try {
      st = statSync(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      this.users.clear();
      this.seen = '';
      return;
    }
    const key = `${st.size}:${st.mtimeMs}:${st.ino}`;
    if (key === this.seen) return;
    let list: unknown;
    try {
      list = JSON.parse(readFileSync(this.path, 'utf8'));
    } catch (err) {
      throw new HwError('STATE_CORRUPT', `${this.path} is not valid JSON (${(err as Error).message}): fix it or remove it and add the users again`);
    }
    const users = (list as { users?: unknown })?.users;
    if (!Array.isArray(users)) throw new HwError('STATE_CORRUPT', `${this.path} has no "users" list: fix it or remove it and add the users again`);
    const next = new Map<string, UserRecord>();
    for (const u of users as UserRecord[]) {
      if (typeof u?.name !== 'string' || !ROLES.includes(u.role) || typeof u.password !== 'string') {
        throw new HwError('STATE_CORRUPT', `${this.path}: a user entry is malformed: fix it or remove it and add the users again`);
      }
      next.set(u.name, u);
    }
    this.users = next;
    this.seen = key;
  }

  list(): UserRecord[] {
    return [...this.users.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  get(name: string): UserRecord | undefined {
    return this.users.get(name);
  }

  async add(name: string, role: Role, password: string): Promise<UserRecord> {
    checkUserName(name);
    this.reload();
    if (this.users.has(name)) throw new HwError('USER_EXISTS', `user ${name} exists already: \`manager user passwd ${name}\` sets a new password`);
    const u: UserRecord = { name, role, password: await hashPassword(checkPassword(password)), createdAt: new Date().toISOString(), stamp: randomBytes(8).toString('hex') };
    this.users.set(name, u);
    this.save();
    return u;
  }

  async passwd(name: string, password: string): Promise<void> {
    this.reload();
    const u = this.require(name);
    u.password = await hashPassword(checkPassword(password));
    u.stamp = randomBytes(8).toString('hex');
    this.save();
  }

  remove(name: string): void {
    this.reload();
    this.require(name);
    this.users.delete(name);
    this.save();
  }

  private require(name: string): UserRecord {
    const u = this.users.get(name);
    if (!u) throw new HwError('USER_NOT_FOUND', `no user ${name} (see \`manager user list\`)`);
    return u;
  }

  private save(): void {
    writeDurable(this.path, JSON.stringify({ users: this.list() }, null, 2) + '\n', { mode: 0o600 });
    this.seen = ''; // our own write: read back on the next reload
  }
}
