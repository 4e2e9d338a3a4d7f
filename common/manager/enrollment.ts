// Which agent keys the manager trusts, kept in <data-dir>/agents.json. An agent is known by its
// id and the fingerprint of its certificate; a new one is pending until an administrator accepts
// it (or it shows the enroll token, or the manager runs with --auto-accept).
//
// Indexed in memory (a thousand agents connecting at once must not cost a thousand scans), and
// written to disk at once for an administrator's decision (accept, revoke) but at most once a
// second for what agents bring in themselves (a new key, a new address): those are learned again
// from the agent if a crash loses the last second.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeDurable } from '../fs/durable.ts';
import { HwError } from '../errors.ts';

/** Bounds what unaccepted keys can make the manager store. */
export const MAX_PENDING = 1000;
const SAVE_DELAY_MS = 1000;

export type TrustStatus = 'accepted' | 'pending';

export interface Enrolled {
  id: string;
  name: string;
  fingerprint: string;
  status: TrustStatus;
  since: number;
  address?: string;
}

interface Revoked {
  fingerprint: string;
  id: string;
  name: string;
  at: number;
}

export class Enrollment {
  private readonly path: string;
  private readonly byId = new Map<string, Enrolled>();
  private readonly revoked: Revoked[] = [];
  private readonly revokedKeys = new Set<string>();
  private pendingCount = 0;
  /** name -> id of the accepted agent that holds it */
  private readonly nameOwner = new Map<string, string>();
  private saveTimer: NodeJS.Timeout | undefined;

  constructor(dataDir: string) {
    this.path = join(dataDir, 'agents.json');
    let v: { agents?: Enrolled[]; revoked?: Revoked[] } = {};
    try {
      v = JSON.parse(readFileSync(this.path, 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new HwError('BAD_FLAG', `${this.path} is unreadable (${(err as Error).message}): fix or move it away`);
      }
    }
    for (const e of Array.isArray(v.agents) ? v.agents : []) {
      this.byId.set(e.id, e);
      if (e.status === 'pending') this.pendingCount++;
      else this.nameOwner.set(e.name, e.id);
    }
    for (const r of Array.isArray(v.revoked) ? v.revoked : []) {
      this.revoked.push(r);
      this.revokedKeys.add(r.fingerprint);
    }
  }

  get(id: string): Enrolled | undefined {
    return this.byId.get(id);
  }

  /**
   * Decides what to do with an agent that just said hello. Throws REVOKED, IDENTITY_MISMATCH,
   * NAME_TAKEN or RATE_LIMITED to refuse it; returns its status otherwise (recording a new one).
   */
  admit(a: { id: string; name: string; fingerprint: string; address: string }, autoAccept: boolean): TrustStatus {
    if (this.revokedKeys.has(a.fingerprint)) {
      throw new HwError('REVOKED', `the key of agent "${a.name}" (${a.fingerprint.slice(0, 23)}...) was revoked`);
    }
    const known = this.byId.get(a.id);
    if (known && known.fingerprint !== a.fingerprint) {
      throw new HwError('IDENTITY_MISMATCH', `agent id ${a.id} ("${known.name}") is enrolled with another key: a different host, or a new key (revoke the old one first)`);
    }
    const owner = this.nameOwner.get(a.name);
    const other = owner && owner !== a.id ? this.byId.get(owner) : undefined;
    if (other && other.status === 'accepted' && other.fingerprint !== a.fingerprint) {
      throw new HwError('NAME_TAKEN', `the name "${a.name}" belongs to an accepted agent with another key; start this agent with another --name`);
    }
    if (known) {
      let changed = known.name !== a.name || known.address !== a.address;
      if (known.status === 'accepted' && known.name !== a.name) this.rename(known, a.name);
      known.name = a.name;
      known.address = a.address;
      if (known.status === 'pending' && autoAccept) {
        known.status = 'accepted';
        this.pendingCount--;
        this.nameOwner.set(known.name, known.id);
        changed = true;
      }
      if (changed) this.saveSoon();
      return known.status;
    }
    if (!autoAccept && this.pendingCount >= MAX_PENDING) {
      throw new HwError('RATE_LIMITED', `${MAX_PENDING} agents are already pending: accept or revoke some first`);
    }
    const status: TrustStatus = autoAccept ? 'accepted' : 'pending';
    this.byId.set(a.id, { id: a.id, name: a.name, fingerprint: a.fingerprint, status, since: Date.now(), address: a.address });
    if (status === 'pending') this.pendingCount++;
    else this.nameOwner.set(a.name, a.id);
    this.saveSoon();
    return status;
  }

  accept(id: string): Enrolled {
    const e = this.byId.get(id);
    if (!e) throw new HwError('AGENT_NOT_FOUND', `no enrolled agent with id ${id}`);
    if (e.status === 'pending') this.pendingCount--;
    e.status = 'accepted';
    e.since = Date.now();
    this.nameOwner.set(e.name, e.id);
    this.flush();
    return e;
  }

  /** Forgets the agent and refuses its key from now on. */
  revoke(id: string): Enrolled {
    const e = this.byId.get(id);
    if (!e) throw new HwError('AGENT_NOT_FOUND', `no enrolled agent with id ${id}`);
    this.byId.delete(id);
    if (e.status === 'pending') this.pendingCount--;
    if (this.nameOwner.get(e.name) === id) this.nameOwner.delete(e.name);
    this.revoked.push({ fingerprint: e.fingerprint, id: e.id, name: e.name, at: Date.now() });
    this.revokedKeys.add(e.fingerprint);
    this.flush();
    return e;
  }

  /** Writes what is pending now (on an administrator's decision, and when the manager stops). */
  flush(): void {
    clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    writeDurable(this.path, JSON.stringify({ agents: [...this.byId.values()], revoked: this.revoked }, null, 2) + '\n');
  }

  private rename(e: Enrolled, name: string): void {
    if (this.nameOwner.get(e.name) === e.id) this.nameOwner.delete(e.name);
    this.nameOwner.set(name, e.id);
  }

  private saveSoon(): void {
    if (this.saveTimer) return;
    this.saveTimer = setTimeout(() => this.flush(), SAVE_DELAY_MS);
    this.saveTimer.unref();
  }
}
