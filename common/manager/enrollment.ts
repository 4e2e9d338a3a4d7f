// Which agent keys the manager trusts, kept in <data-dir>/agents.json. An agent is known by its
// id and the fingerprint of its certificate; a new one is pending until an administrator accepts
// it (or it shows the enroll token, or the manager runs with --auto-accept).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeAtomic } from '../agent/identity.ts';
import { HwError } from '../errors.ts';

/** Bounds what unaccepted keys can make the manager store. */
export const MAX_PENDING = 1000;

export type TrustStatus = 'accepted' | 'pending';

export interface Enrolled {
  id: string;
  name: string;
  fingerprint: string;
  status: TrustStatus;
  since: number;
  address?: string;
}

interface FileShape {
  agents: Enrolled[];
  revoked: { fingerprint: string; id: string; name: string; at: number }[];
}

export class Enrollment {
  private readonly path: string;
  private data: FileShape = { agents: [], revoked: [] };

  constructor(dataDir: string) {
    this.path = join(dataDir, 'agents.json');
    try {
      const v = JSON.parse(readFileSync(this.path, 'utf8')) as FileShape;
      if (Array.isArray(v.agents)) this.data = { agents: v.agents, revoked: Array.isArray(v.revoked) ? v.revoked : [] };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new HwError('BAD_FLAG', `${this.path} is unreadable (${(err as Error).message}): fix or move it away`);
      }
    }
  }

  get(id: string): Enrolled | undefined {
    return this.data.agents.find((a) => a.id === id);
  }

  list(): readonly Enrolled[] {
    return this.data.agents;
  }

  /**
   * Decides what to do with an agent that just said hello. Throws REVOKED, IDENTITY_MISMATCH or
   * NAME_TAKEN to refuse it; returns its status otherwise (recording a new one).
   */
  admit(a: { id: string; name: string; fingerprint: string; address: string }, autoAccept: boolean): TrustStatus {
    if (this.data.revoked.some((r) => r.fingerprint === a.fingerprint)) {
      throw new HwError('REVOKED', `the key of agent "${a.name}" (${a.fingerprint.slice(0, 23)}...) was revoked`);
    }
    const known = this.get(a.id);
    if (known && known.fingerprint !== a.fingerprint) {
      throw new HwError('IDENTITY_MISMATCH', `agent id ${a.id} ("${known.name}") is enrolled with another key: a different host, or a new key (revoke the old one first)`);
    }
    const sameName = this.data.agents.find((x) => x.name === a.name && x.id !== a.id && x.status === 'accepted' && x.fingerprint !== a.fingerprint);
    if (sameName) {
      throw new HwError('NAME_TAKEN', `the name "${a.name}" belongs to an accepted agent with another key; start this agent with another --name`);
    }
    if (known) {
      known.name = a.name;
      known.address = a.address;
      if (known.status === 'pending' && autoAccept) known.status = 'accepted';
      this.save();
      return known.status;
    }
    if (!autoAccept && this.data.agents.filter((x) => x.status === 'pending').length >= MAX_PENDING) {
      throw new HwError('RATE_LIMITED', `${MAX_PENDING} agents are already pending: accept or revoke some first`);
    }
    const status: TrustStatus = autoAccept ? 'accepted' : 'pending';
    this.data.agents.push({ id: a.id, name: a.name, fingerprint: a.fingerprint, status, since: Date.now(), address: a.address });
    this.save();
    return status;
  }

  accept(id: string): Enrolled {
    const e = this.get(id);
    if (!e) throw new HwError('AGENT_NOT_FOUND', `no enrolled agent with id ${id}`);
    e.status = 'accepted';
    e.since = Date.now();
    this.save();
    return e;
  }

  /** Forgets the agent and refuses its key from now on. */
  revoke(id: string): Enrolled {
    const e = this.get(id);
    if (!e) throw new HwError('AGENT_NOT_FOUND', `no enrolled agent with id ${id}`);
    this.data.agents = this.data.agents.filter((x) => x.id !== id);
    this.data.revoked.push({ fingerprint: e.fingerprint, id: e.id, name: e.name, at: Date.now() });
    this.save();
    return e;
  }

  private save(): void {
    writeAtomic(this.path, JSON.stringify(this.data, null, 2) + '\n');
  }
}
