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
//
// Pending keys are what strangers make us store, so nobody may take all of the room: at most
// `maxPending` in all, `maxPendingPerAddress` from one address (an IPv6 /64), one per key (a key
// enrolling again under a new id replaces its own entry), and each expires `pendingTtlMs` after it
// first asked unless an administrator accepted it.

import { join } from 'node:path';
import { STORAGE_RETRY_MS } from './event-log.ts';
import { isHwError } from '../errors.ts';
import { readState, writeDurable } from '../fs/durable.ts';
import { HwError } from '../errors.ts';
import { addressGroup } from '../net/address.ts';

/** agents.json: what agents bring in themselves is saved at most this often. */
const ENROLL_SAVE_DELAY_MS = 1000;

/** Keys that may wait for an administrator at once, in all and from one address (or IPv6 /64). */
export const MAX_PENDING = 1000;
export const MAX_PENDING_PER_ADDRESS = 10;
/** A pending key not accepted within this long is forgotten (it may ask again). */
export const PENDING_TTL_MS = 24 * 3600_000;

export type DropReason = 'replaced' | 'expired';

export interface EnrollmentOptions {
  /** hears when saving fails (with the errno) and when it works again (null) */
  onStorage?: (error: string | null) => void;
  /** hears of a pending entry dropped by the enrollment itself: replaced by its key under a new id, or expired */
  onDropped?: (e: Enrolled, why: DropReason) => void;
  maxPending?: number;
  maxPendingPerAddress?: number;
  pendingTtlMs?: number;
}

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
  /** 'rejected': refused while pending (manager reject); absent: revoked */
  reason?: 'rejected';
}

export class Enrollment {
  private readonly path: string;
  private readonly byId = new Map<string, Enrolled>();
  private readonly revoked: Revoked[] = [];
  private readonly revokedKeys = new Set<string>();
  /** ids of the pending entries (at most maxPending: every pending check walks them) */
  private readonly pendingIds = new Set<string>();
  /** name -> id of the accepted agent that holds it */
  private readonly nameOwner = new Map<string, string>();
  private saveTimer: NodeJS.Timeout | undefined;
  private lastSaveAt = 0;
  private failing: string | null = null;
  private readonly onStorage: ((error: string | null) => void) | undefined;
  private readonly onDropped: ((e: Enrolled, why: DropReason) => void) | undefined;
  readonly maxPending: number;
  readonly maxPendingPerAddress: number;
  readonly pendingTtlMs: number;

  constructor(dataDir: string, opts: EnrollmentOptions = {}) {
    this.path = join(dataDir, 'agents.json');
    this.onStorage = opts.onStorage;
    this.onDropped = opts.onDropped;
    this.maxPending = opts.maxPending ?? MAX_PENDING;
    this.maxPendingPerAddress = opts.maxPendingPerAddress ?? MAX_PENDING_PER_ADDRESS;
    this.pendingTtlMs = opts.pendingTtlMs ?? PENDING_TTL_MS;
    const fix = 'restore it from a backup, or move it away to start with no enrolled agent (each must then be accepted again)';
    const v = readState(this.path, (text) => parseRegistry(text), fix) ?? { agents: [], revoked: [] };
    for (const e of v.agents) {
      this.byId.set(e.id, e);
      if (e.status === 'pending') this.pendingIds.add(e.id);
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

  /** The pending entries, oldest first. */
  pending(): Enrolled[] {
    return [...this.pendingIds].map((id) => this.byId.get(id)!).sort((a, b) => a.since - b.since);
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
    // A name that is another agent's id (or the other way round) would make a reference to either
    // ambiguous: refused for anyone new or renaming. Older entries that already clash are told
    // apart by ManagerState.find (AGENT_AMBIGUOUS).
    if (a.name !== a.id && (!known || known.name !== a.name) && this.byId.has(a.name)) {
      throw new HwError('NAME_TAKEN', `the name "${a.name}" is another agent's id; start this agent with another --name`);
    }
    if (!known && this.nameHolder(a.id) !== undefined) {
      throw new HwError('NAME_TAKEN', `the id ${a.id} is another agent's name`);
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
        this.pendingIds.delete(known.id);
        this.nameOwner.set(known.name, known.id);
        this.saveNew();
        return known.status;
      }
      if (changed) this.saveSoon();
      return known.status;
    }
    // One pending entry per key: the key asking again under a new id (its state folder lost its
    // id but kept its key) replaces its own entry rather than taking another place.
    const ownPending = [...this.pendingIds].map((id) => this.byId.get(id)!).filter((p) => p.fingerprint === a.fingerprint);
    if (!autoAccept) this.checkRoom(a.address, ownPending.length, now);
    for (const p of ownPending) {
      this.drop(p);
      this.onDropped?.(p, 'replaced');
    }
    const status: TrustStatus = autoAccept ? 'accepted' : 'pending';
    const e: Enrolled = { id: a.id, name: a.name, fingerprint: a.fingerprint, status, since: now, address: a.address, lastSeen: now };
    setDetails(e, a);
    this.byId.set(a.id, e);
    if (status === 'pending') this.pendingIds.add(a.id);
    else this.nameOwner.set(a.name, a.id);
    this.saveNew();
    return status;
  }

  /** The id of an accepted or pending agent named `name`, if any. */
  private nameHolder(name: string): string | undefined {
    const owner = this.nameOwner.get(name);
    if (owner) return owner;
    for (const id of this.pendingIds) if (this.byId.get(id)!.name === name) return id;
    return undefined;
  }

  /**
   * Throws RATE_LIMITED when a new pending key from `address` has no room, overall or from its
   * address; `freed` entries (its own, about to be replaced) do not count. Entries whose time
   * ran out are expired here first, not only on the manager's sweep.
   */
  private checkRoom(address: string, freed: number, now: number): void {
    const group = addressGroup(address);
    const count = () => {
      let n = 0;
      for (const id of this.pendingIds) if (addressGroup(this.byId.get(id)!.address ?? '') === group) n++;
      return n;
    };
    let fromHere = count() - freed;
    let total = this.pendingIds.size - freed;
    if (fromHere < this.maxPendingPerAddress && total < this.maxPending) return;
    if (this.expire(now).length) {
      fromHere = count() - freed;
      total = this.pendingIds.size - freed;
    }
    if (fromHere >= this.maxPendingPerAddress) {
      throw new HwError('RATE_LIMITED', `${this.maxPendingPerAddress} agents from ${group} are already pending: accept or reject them first (manager reject --address ${group})`);
    }
    if (total >= this.maxPending) {
      throw new HwError('RATE_LIMITED', `${this.maxPending} agents are already pending: accept or reject some first`);
    }
  }

  /**
   * Forgets the pending entries whose time ran out (their keys may ask again), telling onDropped
   * of each; returns them.
   */
  expire(now: number): Enrolled[] {
    const out: Enrolled[] = [];
    for (const id of this.pendingIds) {
      const e = this.byId.get(id)!;
      if (now - e.since >= this.pendingTtlMs) out.push(e);
    }
    for (const e of out) {
      this.drop(e);
      this.onDropped?.(e, 'expired');
    }
    return out;
  }

  /** Forgets an entry without refusing its key. */
  private drop(e: Enrolled): void {
    this.byId.delete(e.id);
    this.pendingIds.delete(e.id);
    if (this.nameOwner.get(e.name) === e.id) this.nameOwner.delete(e.name);
    this.saveSoon();
  }

  accept(id: string): Enrolled {
    const e = this.byId.get(id);
    if (!e) throw new HwError('AGENT_NOT_FOUND', `no enrolled agent with id ${id}`);
    if (e.status === 'accepted') return e; // nothing changes
    this.pendingIds.delete(id);
    e.status = 'accepted';
    e.since = Date.now();
    this.nameOwner.set(e.name, e.id);
    this.flush();
    return e;
  }

  /**
   * Forgets the agent and refuses its key from now on. `flush` false: the caller refuses several
   * and flushes once.
   */
  revoke(id: string, reason?: 'rejected', flush = true): Enrolled {
    const e = this.byId.get(id);
    if (!e) throw new HwError('AGENT_NOT_FOUND', `no enrolled agent with id ${id}`);
    this.byId.delete(id);
    this.pendingIds.delete(id);
    if (this.nameOwner.get(e.name) === id) this.nameOwner.delete(e.name);
    this.revoked.push({ fingerprint: e.fingerprint, id: e.id, name: e.name, at: Date.now(), ...(reason ? { reason } : {}) });
    this.revokedKeys.add(e.fingerprint);
    if (flush) this.flush();
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
