// Which agent keys the manager trusts, kept in <data-dir>/agents.json. An agent is known by its
// id and the fingerprint of its certificate; a new one is pending until an administrator accepts
// it (or it shows the enroll token, or the manager runs with --auto-accept).
//
// Indexed in memory (a thousand agents connecting at once must not cost a thousand scans), and
// written to disk at once for an administrator's decision (accept, revoke). A new agent (or one the
// enroll token or --auto-accept just accepted) is written at once too, unless a write happened in
// the last second: then it goes with the next write, at most a second later, so that a thousand
// agents enrolling together cost a write a second, not a thousand (each rewrote the whole file).
// What agents bring in otherwise (a new address, host details) waits for that next write: it is
// learned again from the agent if a crash loses it.
//
// This file is the manager's registry: every agent in it is listed after a restart, whatever
// became of events.jsonl. A corrupt file fails closed (the manager refuses to start: trusting
// nobody, or everybody, is not a guess to make silently). A full or failing disk is survived:
// the change stays in memory and the write is retried until the disk takes it.

import { join } from 'node:path';
import { ENROLL_SAVE_DELAY_MS, MAX_PENDING, STORAGE_RETRY_MS } from '../constants.ts';
import { isHwError } from '../errors.ts';
import { readState, writeDurable } from '../fs/durable.ts';
import { HwError } from '../errors.ts';

export { MAX_PENDING };

export type TrustStatus = 'accepted' | 'pending';

export interface Enrolled {
  id: string;
  name: string;
  fingerprint: string;
  status: TrustStatus;
  since: number;
  address?: string;
  /** what the agent said in its last hello, so it is listed with it while offline */
  hostname?: string;
  platform?: string;
  arch?: string;
  version?: string;
  interval?: number;
  /** last connection (ms since epoch) */
  lastSeen?: number;
}

/** What an agent says about itself in its hello. */
export interface AgentDetails {
  hostname?: string;
  platform?: string;
  arch?: string;
  version?: string;
  interval?: number;
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
  private lastSaveAt = 0;
  private failing: string | null = null;
  private readonly onStorage: ((error: string | null) => void) | undefined;

  /** `onStorage` hears when saving fails (with the errno) and when it works again (null). */
  constructor(dataDir: string, opts: { onStorage?: (error: string | null) => void } = {}) {
    this.path = join(dataDir, 'agents.json');
    this.onStorage = opts.onStorage;
    const fix = 'restore it from a backup, or move it away to start with no enrolled agent (each must then be accepted again)';
    const v = readState(this.path, (text) => parseRegistry(text), fix) ?? { agents: [], revoked: [] };
    for (const e of v.agents) {
      this.byId.set(e.id, e);
      if (e.status === 'pending') this.pendingCount++;
      else this.nameOwner.set(e.name, e.id);
    }
    for (const r of v.revoked) {
      this.revoked.push(r);
      this.revokedKeys.add(r.fingerprint);
    }
  }

  get(id: string): Enrolled | undefined {
    return this.byId.get(id);
  }

  /** Every enrolled agent (accepted and pending). */
  all(): IterableIterator<Enrolled> {
    return this.byId.values();
  }

  /** The errno of the last failed save while saving fails, else null. */
  storageError(): string | null {
    return this.failing;
  }

  /**
   * Decides what to do with an agent that just said hello. Throws REVOKED, IDENTITY_MISMATCH,
   * NAME_TAKEN or RATE_LIMITED to refuse it; returns its status otherwise (recording a new one).
   */
  admit(a: { id: string; name: string; fingerprint: string; address: string } & AgentDetails, autoAccept: boolean, now = Date.now()): TrustStatus {
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
      let changed = known.name !== a.name || known.address !== a.address || detailsChanged(known, a);
      if (known.status === 'accepted' && known.name !== a.name) this.rename(known, a.name);
      known.name = a.name;
      known.address = a.address;
      setDetails(known, a);
      // lastSeen alone does not force a write: it is saved with the next change or at stop.
      known.lastSeen = now;
      if (known.status === 'pending' && autoAccept) {
        known.status = 'accepted';
        this.pendingCount--;
        this.nameOwner.set(known.name, known.id);
        this.saveNew();
        return known.status;
      }
      if (changed) this.saveSoon();
      return known.status;
    }
    if (!autoAccept && this.pendingCount >= MAX_PENDING) {
      throw new HwError('RATE_LIMITED', `${MAX_PENDING} agents are already pending: accept or revoke some first`);
    }
    const status: TrustStatus = autoAccept ? 'accepted' : 'pending';
    const e: Enrolled = { id: a.id, name: a.name, fingerprint: a.fingerprint, status, since: now, address: a.address, lastSeen: now };
    setDetails(e, a);
    this.byId.set(a.id, e);
    if (status === 'pending') this.pendingCount++;
    else this.nameOwner.set(a.name, a.id);
    this.saveNew();
    return status;
  }

  accept(id: string): Enrolled {
    const e = this.byId.get(id);
    if (!e) throw new HwError('AGENT_NOT_FOUND', `no enrolled agent with id ${id}`);
    if (e.status === 'accepted') return e; // nothing changes
    this.pendingCount--;
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

  /**
   * Writes what is pending now (on an administrator's decision, and when the manager stops).
   * Returns false when the disk refused: the change is kept in memory and the write retried.
   */
  flush(): boolean {
    clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    this.lastSaveAt = Date.now();
    try {
      writeDurable(this.path, JSON.stringify({ agents: [...this.byId.values()], revoked: this.revoked }, null, 2) + '\n');
    } catch (err) {
      if (!isHwError(err) || err.code !== 'STORAGE_FAILED') throw err;
      const code = ((err.cause as NodeJS.ErrnoException | undefined)?.code) ?? 'EIO';
      if (this.failing === null) this.onStorage?.(code);
      this.failing = code;
      this.saveTimer = setTimeout(() => this.flush(), STORAGE_RETRY_MS);
      this.saveTimer.unref();
      return false;
    }
    if (this.failing !== null) {
      this.failing = null;
      this.onStorage?.(null);
    }
    return true;
  }

  /** Stops the timers (the manager stops); what is unsaved is written by a last flush(). */
  close(): boolean {
    const ok = this.flush();
    clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    return ok;
  }

  private rename(e: Enrolled, name: string): void {
    if (this.nameOwner.get(e.name) === e.id) this.nameOwner.delete(e.name);
    this.nameOwner.set(name, e.id);
  }

  /**
   * A new enrollment: written before the agent is welcomed, so a crash right after cannot forget
   * it, unless a write happened within the last ENROLL_SAVE_DELAY_MS (a burst of enrollments):
   * then with the next one, at most that much later.
   */
  private saveNew(): void {
    const now = Date.now();
    if (!this.saveTimer && (now - this.lastSaveAt >= ENROLL_SAVE_DELAY_MS || now < this.lastSaveAt)) this.flush();
    else this.saveSoon();
  }

  private saveSoon(): void {
    if (this.saveTimer) return;
    this.saveTimer = setTimeout(() => this.flush(), ENROLL_SAVE_DELAY_MS);
    this.saveTimer.unref();
  }
}

const DETAIL_KEYS = ['hostname', 'platform', 'arch', 'version'] as const;

function detailsChanged(e: Enrolled, d: AgentDetails): boolean {
  return DETAIL_KEYS.some((k) => d[k] !== undefined && e[k] !== d[k]) || (d.interval !== undefined && e.interval !== d.interval);
}

function setDetails(e: Enrolled, d: AgentDetails): void {
  for (const k of DETAIL_KEYS) if (typeof d[k] === 'string') e[k] = d[k];
  if (typeof d.interval === 'number') e.interval = d.interval;
}

/** agents.json, checked entry by entry: a file that does not have this shape is corrupt. */
function parseRegistry(text: string): { agents: Enrolled[]; revoked: Revoked[] } {
  const v = JSON.parse(text) as unknown;
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not a JSON object');
  const o = v as { agents?: unknown; revoked?: unknown };
  if (!Array.isArray(o.agents) || !Array.isArray(o.revoked)) throw new Error('"agents" and "revoked" must be lists');
  for (const [i, e] of o.agents.entries()) {
    const a = e as Partial<Enrolled>;
    if (!a || typeof a.id !== 'string' || typeof a.name !== 'string' || typeof a.fingerprint !== 'string' || (a.status !== 'accepted' && a.status !== 'pending')) {
      throw new Error(`agent entry ${i} lacks id, name, fingerprint or status`);
    }
  }
  for (const [i, r] of o.revoked.entries()) {
    const x = r as Partial<Revoked>;
    if (!x || typeof x.fingerprint !== 'string' || typeof x.id !== 'string') throw new Error(`revoked entry ${i} lacks fingerprint or id`);
  }
  return { agents: o.agents as Enrolled[], revoked: o.revoked as Revoked[] };
}
