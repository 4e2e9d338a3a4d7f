// One-use enrollment tokens with an expiry, made by `manager install-command` for one new host each,
// kept in <data-dir>/install-tokens.json (only their sha256: the file does not let anyone enroll).
// At hello a token that is one of these enrolls the agent at once, like the manager's enroll token,
// unless it has expired (ENROLL_TOKEN_EXPIRED), was used by another agent (ENROLL_TOKEN_USED) or was
// revoked (then it is unknown, and the agent waits to be accepted like any other).

import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { HwError } from '../errors.ts';
import { readState, writeDurable } from '../fs/durable.ts';
import { secretMatches } from '../util/secret.ts';

export const INSTALL_TOKENS_FILE = 'install-tokens.json';
/** An expired or used token is still refused with its reason for this long, then forgotten. */
const KEEP_AFTER_EXPIRY_MS = 7 * 86400_000;
/** A bound on what the file can grow to: make more and the oldest go first. */
const MAX_TOKENS = 1000;

export interface InstallToken {
  id: string;
  /** sha256 of the token, hex */
  hash: string;
  createdAt: number;
  expiresAt: number;
  by: string;
  /** what the command was made for, shown by --list */
  os: string;
  arch: string;
  labels: string[];
  /** the agent that enrolled with it */
  usedBy?: string;
  usedAt?: number;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export class InstallTokens {
  private readonly path: string;
  private tokens: InstallToken[];

  constructor(dataDir: string) {
    this.path = join(dataDir, INSTALL_TOKENS_FILE);
    this.tokens = readState(this.path, parseTokens, 'move it away: the install commands printed before then stop enrolling (make new ones)') ?? [];
  }

  /** A new token (returned once, never stored in clear) valid for `ttlMs`. */
  create(o: { ttlMs: number; by: string; os: string; arch: string; labels: string[] }, now: number): { token: string; entry: InstallToken } {
    // Hex, as the enroll token: never starts with '-'.
    const token = randomBytes(32).toString('hex');
    const entry: InstallToken = { id: randomBytes(4).toString('hex'), hash: sha256(token), createdAt: now, expiresAt: now + o.ttlMs, by: o.by, os: o.os, arch: o.arch, labels: o.labels };
    this.prune(now);
    this.tokens.push(entry);
    if (this.tokens.length > MAX_TOKENS) this.tokens.splice(0, this.tokens.length - MAX_TOKENS);
    this.save();
    return { token, entry };
  }

  list(now: number): InstallToken[] {
    this.prune(now);
    return this.tokens.map((t) => ({ ...t }));
  }

  revoke(id: string): InstallToken {
    const i = this.tokens.findIndex((t) => t.id === id);
    if (i < 0) throw new HwError('TOKEN_NOT_FOUND', `no install token ${id} (manager install-command --list)`);
    const [gone] = this.tokens.splice(i, 1);
    this.save();
    return gone!;
  }

  /**
   * The entry this token is, if any. Throws ENROLL_TOKEN_EXPIRED past its expiry and
   * ENROLL_TOKEN_USED when another agent enrolled with it.
   */
  check(token: string, agentId: string, now: number): InstallToken | undefined {
    const h = sha256(token);
    const e = this.tokens.find((t) => secretMatches(t.hash, h));
    if (!e) return undefined;
    if (e.usedBy !== undefined && e.usedBy !== agentId) throw new HwError('ENROLL_TOKEN_USED', `install token ${e.id} was used by another agent: make a new one (manager install-command)`);
    if (e.usedBy === undefined && now >= e.expiresAt) throw new HwError('ENROLL_TOKEN_EXPIRED', `install token ${e.id} expired at ${new Date(e.expiresAt).toISOString()}: make a new one (manager install-command)`);
    return e;
  }

  /** The agent enrolled with it: nobody else may. */
  use(e: InstallToken, agentId: string, now: number): void {
    if (e.usedBy !== undefined) return;
    e.usedBy = agentId;
    e.usedAt = now;
    this.save();
  }

  private prune(now: number): void {
    this.tokens = this.tokens.filter((t) => now < Math.max(t.expiresAt, t.usedAt ?? 0) + KEEP_AFTER_EXPIRY_MS);
  }

  private save(): void {
    writeDurable(this.path, JSON.stringify({ tokens: this.tokens }, null, 2) + '\n');
  }
}

function parseTokens(text: string): InstallToken[] {
  const v = JSON.parse(text) as { tokens?: unknown };
  if (!v || !Array.isArray(v.tokens)) throw new Error('"tokens" must be a list');
  for (const [i, t] of v.tokens.entries()) {
    const x = t as Partial<InstallToken>;
    if (!x || typeof x.id !== 'string' || typeof x.hash !== 'string' || typeof x.expiresAt !== 'number') throw new Error(`token ${i} lacks id, hash or expiresAt`);
  }
  return v.tokens as InstallToken[];
}
