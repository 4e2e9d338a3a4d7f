// The manager's history: one round-robin file per agent under <data-dir>/history/, samples held in
// memory for at most HISTORY_FLUSH_MS and then written in place, roll-ups (1 min, 5 min, 1 h)
// recomputed from the finer tier whenever a minute closes or a late (backfilled) sample lands. A
// file is opened only when its agent reports or is asked about, so start-up reads nothing. A
// failing disk is counted and retried, never thrown from the timer. Samples older than the raw
// ring (a long outage's backfill) go straight into the coarser tiers that still reach back to
// them; an agent that numbers its samples (seq) hears which are on disk, and is refused rather
// than losing samples when too many wait.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { LOG_THROTTLE_PERIOD_MS } from '../util/throttle.ts';
import { isStorageError } from '../fs/durable.ts';
import type { InterfaceCounters, Metrics, MountUsage } from '../collect/types.ts';
import { AgentFile, type Wanted } from './agent-file.ts';
import { FLAG_BACKFILL, recordAt, recordState, writeRaw, writeRollup, type Tier, type TierSpec } from './format.ts';
import { foldedRecord, tierFor } from './old-samples.ts';
import { aggregate } from './rollup.ts';
import { valuesOf } from './series.ts';
import { fileNameOf } from '../fs/file-name.ts';

/** How long each tier keeps its samples. */
const HISTORY_RAW_RETENTION_MS = 24 * 3600_000;
const HISTORY_MINUTE_RETENTION_MS = 14 * 86400_000;
const HISTORY_HOUR_RETENTION_MS = 366 * 86400_000;
/** Samples wait in memory at most this long: a kill -9 loses at most this much. */
export const HISTORY_FLUSH_MS = 5000;
/** Series a file has room for: 14 headline ones, the rest for mounts and interfaces (2 each). */
const HISTORY_MAX_SERIES = 40;
/** Agents' files kept open at once (the others are opened when needed). */
const HISTORY_OPEN_FILES = 2048;
/**
 * Samples waiting for the disk per agent (a failing disk, a big backfill): past it an agent that
 * resends (its samples carry a seq) is refused the sample, an older one loses its oldest.
 */
const HISTORY_MAX_PENDING = 600;

/** The flush timer writes the agents in this many slices, one each tenth of HISTORY_FLUSH_MS. */
export const FLUSH_SLICES = 10;
/**
 * Written rows kept for reuse. A sample waits up to HISTORY_FLUSH_MS, long enough for V8 to move
 * it to the old generation, where 10,000 agents' worth of dead rows a second grew the heap by a
 * hundred MiB between collections; reused rows allocate nothing. About a flush slice's worth.
 */
const ROW_POOL = 8192;

export interface Retention {
  rawMs: number;
  minuteMs: number;
  hourMs: number;
}

export const DEFAULT_RETENTION: Retention = { rawMs: HISTORY_RAW_RETENTION_MS, minuteMs: HISTORY_MINUTE_RETENTION_MS, hourMs: HISTORY_HOUR_RETENTION_MS };

export interface HistoryStoreOptions {
  dir: string;
  now?: () => number;
  retention?: Partial<Retention>;
  maxSeries?: number;
  flushMs?: number;
  openFiles?: number;
  /** human-readable notices: repairs, a failing disk (at most once a minute per kind) */
  notice?: (line: string) => void;
  /** false: no flush timer (tests drive flush() themselves) */
  timer?: boolean;
  /** samples waiting per agent before new ones are refused (with a seq) or the oldest dropped */
  maxPending?: number;
  /**
   * An agent's samples are on disk (or can never be kept: older than every tier): the seqs of
   * those that carried one, once per successful flush of that agent; `folded`, those of them summarised
   * into a roll-up (older than the raw ring): folding one again would count it twice there, while a
   * raw sample written again only lands in its own slot.
   */
  onWritten?: (id: string, seqs: number[], folded: number[]) => void;
  /** Samples lost for good (an agent without seqs over the bound, or older than every tier): at most once a flush per agent and reason. */
  onDropped?: (id: string, count: number, reason: DropReason) => void;
}

/**
 * 'taken': written at the next flush; 'refused': not taken now (the agent's samples waiting are at
 * the bound, or its file cannot be opened or grown: a failing disk), the agent resends it;
 * 'ignored': a time no file can hold (it is acknowledged all the same: resending it cannot help).
 */
export type AddResult = 'taken' | 'refused' | 'ignored';
export type DropReason = 'pending-full' | 'too-old';

/** The tiers of a file for an agent reporting every `intervalMs`. */
export function tierSpecs(intervalMs: number, r: Retention): TierSpec[] {
  const step = Math.max(100, Math.round(intervalMs));
  return [
    { name: 'raw', step, slots: Math.max(2, Math.ceil(r.rawMs / step)) },
    { name: '1m', step: 60_000, slots: Math.max(2, Math.ceil(r.minuteMs / 60_000)) },
    { name: '5m', step: 300_000, slots: Math.max(2, Math.ceil(r.minuteMs / 300_000)) },
    { name: '1h', step: 3_600_000, slots: Math.max(2, Math.ceil(r.hourMs / 3_600_000)) },
  ];
}

interface Row {
  at: number;
  flags: number;
  values: Float32Array;
  /** the agent's sequence number, -1 for none */
  seq: number;
  /** on disk (a flush that failed half way keeps only the others) */
  done: boolean;
}

class AgentHistory {
  file: AgentFile | null = null;
  /** the interval the file was opened for; null when opened only to read */
  intervalMs: number | null = null;
  pending: Row[] = [];
  /** minutes with samples not yet rolled up */
  dirty = new Set<number>();
  /** the newest raw slot written this session and its sample's time */
  lastIdx = NaN;
  lastAt = -Infinity;
  latestAt = -Infinity;
  fullNoted = false;
  /** seqs written since the last onWritten (kept over a flush that failed half way); made when needed */
  written: number[] | null = null;
  /** of those, the ones folded into a roll-up */
  folded: number[] | null = null;
  /** samples lost since the last flush, by reason */
  droppedFull = 0;
  droppedOld = 0;
  constructor(readonly id: string, readonly slice: number) {}
}

export class HistoryStore {
  readonly dir: string;
  readonly retention: Retention;
  readonly maxSeries: number;
  private readonly now: () => number;
  private readonly openFiles: number;
  private readonly noticeFn: (line: string) => void;
  private readonly maxPending: number;
  private readonly onWritten: (id: string, seqs: number[], folded: number[]) => void;
  private readonly onDropped: (id: string, count: number, reason: DropReason) => void;
  private readonly agents = new Map<string, AgentHistory>();
  /** agents whose file is open, least recently used first */
  private readonly open = new Map<string, AgentHistory>();
  private readonly noted = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private readonly freeRows: Row[] = [];
  /** for /api/stats and the benchmark */
  readonly counters = { samples: 0, written: 0, failedWrites: 0, dropped: 0, refused: 0, damaged: 0, tooOld: 0, flushes: 0, flushMs: 0, addMs: 0, overwritten: 0 };
  lastError: string | null = null;

  constructor(opts: HistoryStoreOptions) {
    this.dir = opts.dir;
    this.now = opts.now ?? Date.now;
    this.retention = { ...DEFAULT_RETENTION, ...opts.retention };
    this.maxSeries = opts.maxSeries ?? HISTORY_MAX_SERIES;
    this.openFiles = opts.openFiles ?? HISTORY_OPEN_FILES;
    this.noticeFn = opts.notice ?? (() => {});
    this.maxPending = Math.max(1, opts.maxPending ?? HISTORY_MAX_PENDING);
    this.onWritten = opts.onWritten ?? (() => {});
    this.onDropped = opts.onDropped ?? (() => {});
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    if (opts.timer !== false) {
      // A tenth of the agents every tenth of the period: each is written every period, and the
      // event loop is never held by the whole fleet's writes at once.
      let tick = 0;
      this.timer = setInterval(() => this.flushSlice(tick++ % FLUSH_SLICES), (opts.flushMs ?? HISTORY_FLUSH_MS) / FLUSH_SLICES);
      this.timer.unref();
    }
  }

  pathOf(id: string): string {
    const safe = fileNameOf(id);
    return join(this.dir, `${safe}.hws`);
  }

  nowMs(): number {
    return this.now();
  }

  /** Samples waiting in memory, all agents (the benchmark's "no growing queue"). */
  pendingSamples(): number {
    let n = 0;
    for (const a of this.agents.values()) n += a.pending.length;
    return n;
  }

  /**
   * Takes one report, written at the next flush. With `seq` (an agent that resends what is not
   * acknowledged) a sample over the agent's bound is refused rather than dropped; onWritten later
   * tells the seqs that are on disk.
   */
  add(id: string, intervalS: number, at: number, m: Metrics, interfaces?: InterfaceCounters[], mounts?: MountUsage[], backfill = false, seq?: number): AddResult {
    if (!Number.isFinite(at) || at <= 0) return 'ignored';
    const t0 = performance.now();
    try {
      return this.take(id, intervalS, at, m, interfaces, mounts, backfill, seq);
    } finally {
      this.counters.addMs += performance.now() - t0;
    }
  }

  private take(id: string, intervalS: number, at: number, m: Metrics, interfaces: InterfaceCounters[] | undefined, mounts: MountUsage[] | undefined, backfill: boolean, seq: number | undefined): AddResult {
    const intervalMs = intervalS > 0 && Number.isFinite(intervalS) ? intervalS * 1000 : 5000;
    const a = this.writable(id, intervalMs);
    if (!a?.file) {
      this.counters.refused++;
      return 'refused';
    }
    const resends = seq !== undefined && Number.isFinite(seq) && seq >= 0;
    if (resends && a.pending.length >= this.maxPending) {
      this.counters.refused++;
      return 'refused';
    }
    this.counters.samples++;
    const row = this.freeRows.pop() ?? { at: 0, flags: 0, values: new Float32Array(this.maxSeries), seq: -1, done: false };
    row.at = at;
    row.flags = backfill ? FLAG_BACKFILL : 0;
    row.seq = resends ? seq : -1;
    row.done = false;
    row.values.fill(NaN);
    const values = valuesOf(m, interfaces, mounts);
    let fresh: string[] | undefined;
    for (const name of values.keys()) if (a.file.column(name) === undefined) (fresh ??= []).push(name);
    if (fresh) {
      try {
        const left = a.file.addColumns(fresh);
        if (left.length && !a.fullNoted) {
          a.fullNoted = true;
          this.notice(`full:${id}`, `history: agent ${id} has more than ${this.maxSeries} series; "${left[0]}" and later ones are not kept`);
        }
      } catch (err) {
        this.failed(a, err);
        if (!a.file) {
          this.release(row);
          this.counters.refused++;
          return 'refused';
        }
      }
    }
    for (const [name, v] of values) {
      const col = a.file.column(name);
      if (col !== undefined) row.values[col] = v;
    }
    a.pending.push(row);
    if (a.pending.length > this.maxPending) {
      // Only a sample without a seq gets here (the others were refused above): its agent cannot
      // resend, so the oldest goes, reported at the next flush.
      this.release(a.pending.shift()!);
      this.counters.dropped++;
      a.droppedFull++;
    }
    if (at > a.latestAt) a.latestAt = at;
    return 'taken';
  }

  /** Writes every agent's waiting samples and the roll-ups they complete. */
  flush(): void {
    for (let k = 0; k < FLUSH_SLICES; k++) this.flushSlice(k);
  }

  /** The same for one slice of the agents (0 .. FLUSH_SLICES - 1), as the timer does. */
  flushSlice(k: number): void {
    const t0 = performance.now();
    for (const a of this.agents.values()) {
      if (a.slice === k && (a.pending.length || a.dirty.size)) this.flushAgent(a);
    }
    this.counters.flushes++;
    this.counters.flushMs += performance.now() - t0;
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.flush();
    // A clean stop rolls up the minute still open too, so nothing waits for the next start.
    for (const a of this.agents.values()) {
      if (a.dirty.size) this.rollUp(a, true);
      a.file?.release();
    }
    this.open.clear();
  }

  /** Forgets an agent's history (revoked): its file stays on disk. */
  forget(id: string): void {
    const a = this.agents.get(id);
    if (!a) return;
    this.flushAgent(a);
    a.file?.release();
    this.open.delete(id);
    this.agents.delete(id);
  }

  /** The agent's file for reading (flushed first), or null when it has none. */
  reader(id: string): { file: AgentFile; now: number } | null {
    let a = this.agents.get(id);
    if (!a) {
      a = new AgentHistory(id, this.agents.size % FLUSH_SLICES);
      this.agents.set(id, a);
    }
    if (!a.file) {
      try {
        a.file = AgentFile.open(this.pathOf(id), null, (l) => this.notice(`repair:${id}`, l));
      } catch (err) {
        this.failed(a, err);
        return null;
      }
      if (!a.file) return null;
    }
    if (a.pending.length || a.dirty.size) this.flushAgent(a);
    this.touch(a);
    return { file: a.file, now: Math.max(this.now(), a.latestAt) };
  }

  /** Counts records found damaged while reading (each already skipped). */
  noteDamaged(id: string, n: number): void {
    this.counters.damaged += n;
    this.notice(`damaged:${id}`, `history: ${n} damaged record(s) in ${this.pathOf(id)} skipped`);
  }

  private writable(id: string, intervalMs: number): AgentHistory | null {
    let a = this.agents.get(id);
    if (!a) {
      a = new AgentHistory(id, this.agents.size % FLUSH_SLICES);
      this.agents.set(id, a);
    }
    if (a.file && a.intervalMs === intervalMs) {
      this.touch(a);
      return a;
    }
    if (a.file) {
      this.flushAgent(a);
      a.file.release();
      a.file = null;
    }
    const want: Wanted = { agentId: id, maxSeries: this.maxSeries, tiers: tierSpecs(intervalMs, this.retention) };
    try {
      a.file = AgentFile.open(this.pathOf(id), want, (l) => this.notice(`repair:${id}`, l));
    } catch (err) {
      this.failed(a, err);
      return null;
    }
    a.intervalMs = intervalMs;
    a.lastIdx = NaN;
    a.lastAt = -Infinity;
    // After a crash the last minutes' roll-ups may be missing: redo them from the raw tier.
    if (a.file && !a.file.created) {
      const minute = Math.floor(this.now() / 60_000);
      for (let m = minute - 5; m <= minute; m++) a.dirty.add(m);
    }
    this.touch(a);
    return a;
  }

  private touch(a: AgentHistory): void {
    this.open.delete(a.id);
    this.open.set(a.id, a);
    while (this.open.size > this.openFiles) {
      const [oldId, old] = this.open.entries().next().value as [string, AgentHistory];
      this.open.delete(oldId);
      old.file?.release();
    }
  }

  private flushAgent(a: AgentHistory): void {
    const file = a.file;
    if (!file) {
      this.reportDropped(a);
      return;
    }
    let ok = true;
    if (a.pending.length) {
      try {
        this.writeRaw(a, file);
      } catch (err) {
        this.failed(a, err);
        ok = false;
      }
    }
    if (ok && a.dirty.size) this.rollUp(a, false);
    if (!this.open.has(a.id)) a.file?.release();
    this.reportDropped(a);
    if (ok && a.written) {
      const seqs = a.written;
      const folded = a.folded ?? [];
      a.written = null;
      a.folded = null;
      this.onWritten(a.id, seqs, folded);
    }
  }

  /** Tells of the samples lost since the last flush: one call and one notice a reason. */
  private reportDropped(a: AgentHistory): void {
    if (a.droppedFull) {
      const n = a.droppedFull;
      a.droppedFull = 0;
      this.notice(`dropped:${a.id}`, `history: agent ${a.id}: ${n} sample(s) dropped, more than ${this.maxPending} waiting for the disk (the agent cannot resend them)`);
      this.onDropped(a.id, n, 'pending-full');
    }
    if (a.droppedOld) {
      const n = a.droppedOld;
      a.droppedOld = 0;
      this.notice(`too-old:${a.id}`, `history: agent ${a.id}: ${n} sample(s) older than every tier of its history not kept`);
      this.onDropped(a.id, n, 'too-old');
    }
  }

  /**
   * Writes the waiting samples: those inside the raw ring to their raw slots, older ones (a long
   * outage's backfill) summarised into the finest roll-up tier that still reaches back to them.
   * A failure part way keeps the samples not yet written for the next flush.
   */
  private writeRaw(a: AgentHistory, file: AgentFile): void {
    try {
      const rows = a.pending.slice().sort((x, y) => x.at - y.at);
      const now = Math.max(this.now(), a.latestAt);
      const raw = file.tiers[0]!;
      const horizon = now - raw.step * (raw.slots - 1);
      // A minute that began before the raw ring's start has its roll-up made from the samples
      // themselves (the raw ring no longer holds all of it), so those go both ways.
      const cut = Math.ceil(horizon / 60_000) * 60_000;
      let split = 0;
      while (split < rows.length && rows[split]!.at < cut) split++;
      let first = 0;
      while (first < rows.length && rows[first]!.at < horizon) first++;
      if (first < rows.length) this.placeRaw(a, file, first ? rows.slice(first) : rows, cut);
      for (let i = split; i < rows.length; i++) this.markDone(a, rows[i]!);
      if (split) this.writeOld(a, file, split < rows.length ? rows.slice(0, split) : rows, now);
    } finally {
      let kept = 0;
      for (const r of a.pending) {
        if (r.done) this.release(r);
        else a.pending[kept++] = r;
      }
      a.pending.length = kept;
    }
  }

  private markDone(a: AgentHistory, r: Row, folded = false): void {
    r.done = true;
    if (r.seq < 0) return;
    (a.written ??= []).push(r.seq);
    if (folded) (a.folded ??= []).push(r.seq);
  }

  /** Puts each sample (time-ordered, inside the raw ring) in its raw slot (time / step); a slot
   * already taken by another sample of this lap (interval jitter) moves it to the next or previous one. */
  private placeRaw(a: AgentHistory, file: AgentFile, rows: Row[], cut: number): void {
    const raw = file.tiers[0]!;
    const placed = new Map<number, Row>();
    const late = rows.filter((r) => !(r.at > a.lastAt && !Number.isNaN(a.lastIdx)));
    let occ: { buf: Buffer; first: number } | null = null;
    if (late.length) {
      const lo = Math.floor(late[0]!.at / raw.step) - 1;
      const hi = Math.floor(late[late.length - 1]!.at / raw.step) + 1;
      occ = file.read(raw, lo, hi);
    }
    const occupant = (idx: number): number => {
      const p = placed.get(idx);
      if (p) return p.at;
      if (!occ || idx < occ.first) return 0;
      const off = (idx - occ.first) * raw.recordSize;
      if (off + raw.recordSize > occ.buf.length) return 0;
      return recordState(occ.buf, off, raw.recordSize) === 'ok' ? recordAt(occ.buf, off) : 0;
    };
    const free = (idx: number, at: number): boolean => {
      const o = occupant(idx);
      if (!o || o === at) return true;
      const oi = Math.floor(o / raw.step);
      return oi < idx - 1 || oi > idx + 1; // a sample from an earlier lap of the ring
    };
    let overwritten = 0;
    for (const r of rows) {
      const idx = Math.floor(r.at / raw.step);
      let slot: number;
      if (r.at > a.lastAt && !Number.isNaN(a.lastIdx)) {
        slot = Math.max(idx, a.lastIdx + 1);
        if (slot > idx + 1) slot = a.lastIdx;
      } else {
        slot = [idx, idx + 1, idx - 1].find((c) => free(c, r.at)) ?? idx;
      }
      // Two samples closer than the step (the interval got shorter than the file's): the later wins.
      if (placed.has(slot)) overwritten++;
      placed.set(slot, r);
      if (r.at > a.lastAt) {
        a.lastAt = r.at;
        a.lastIdx = slot;
      }
    }
    const slots = [...placed.keys()].sort((x, y) => x - y);
    let i = 0;
    while (i < slots.length) {
      let j = i;
      while (j + 1 < slots.length && slots[j + 1] === slots[j]! + 1) j++;
      const buf = Buffer.alloc((j - i + 1) * raw.recordSize);
      for (let k = i; k <= j; k++) {
        const r = placed.get(slots[k]!)!;
        writeRaw(buf, (k - i) * raw.recordSize, r.at, r.flags, r.values);
      }
      file.write(raw, slots[i]!, buf, j - i + 1);
      i = j + 1;
    }
    // Minutes before `cut` are summarised by writeOld, not rolled up from this ring.
    for (const r of placed.values()) if (r.at >= cut) a.dirty.add(Math.floor(r.at / 60_000));
    this.counters.written += placed.size;
    this.counters.overwritten += overwritten;
  }

  /**
   * Samples (time-ordered) older than the raw ring: each bucket of the finest tier that reaches
   * back to them folded into that bucket's record, then the tiers above recomputed. Those older
   * than every tier are counted too old, and done all the same: no resend could keep them.
   */
  private writeOld(a: AgentHistory, file: AgentFile, rows: Row[], now: number): void {
    const tiers = file.tiers;
    const horizon = now - tiers[0]!.step * (tiers[0]!.slots - 1);
    const above: Set<number>[] = tiers.map(() => new Set<number>());
    let i = 0;
    while (i < rows.length) {
      const k = tierFor(tiers, rows[i]!.at, now);
      if (k < 0) {
        this.counters.tooOld++;
        a.droppedOld++;
        this.markDone(a, rows[i++]!);
        continue;
      }
      const t = tiers[k]!;
      const from = Math.floor(rows[i]!.at / t.step) * t.step;
      let j = i + 1;
      while (j < rows.length && rows[j]!.at < from + t.step && tierFor(tiers, rows[j]!.at, now) === k) j++;
      const group = rows.slice(i, j);
      const b = from / t.step;
      const rec = foldedRecord(tiers[0]!, t, group, from, file.header.maxSeries, file.header.columns.length, file.read(t, b, b).buf);
      if (rec) file.write(t, b, rec, 1);
      for (const r of group) {
        // A sample also in the raw ring (the minute at its start) was counted written there.
        if (r.at < horizon) this.counters.written++;
        this.markDone(a, r, true);
      }
      const up = tiers[k + 1];
      if (up) above[k + 1]!.add(Math.floor(from / up.step));
      i = j;
    }
    for (let k = 2; k < tiers.length; k++) {
      for (const b of above[k]!) {
        this.recompute(a, file, tiers[k - 1]!, tiers[k]!, b, now);
        const up = tiers[k + 1];
        if (up) above[k + 1]!.add(Math.floor((b * tiers[k]!.step) / up.step));
      }
    }
  }

  private release(row: Row): void {
    if (this.freeRows.length < ROW_POOL) this.freeRows.push(row);
  }

  /** Recomputes the roll-ups of closed minutes (all of them with `all`), then the tiers above. */
  private rollUp(a: AgentHistory, all: boolean): void {
    const file = a.file;
    if (!file) return;
    const now = this.now();
    const grace = 2 * (a.intervalMs ?? 5000) + 5000;
    let buckets = new Set<number>();
    for (const m of a.dirty) {
      const end = (m + 1) * 60_000;
      if (all || end <= a.latestAt || end + grace <= now) buckets.add(m);
    }
    try {
      for (let k = 1; k < file.tiers.length && buckets.size; k++) {
        const t = file.tiers[k]!;
        const parents = new Set<number>();
        for (const b of buckets) {
          this.recompute(a, file, file.tiers[k - 1]!, t, b, Math.max(now, a.latestAt));
          if (k === 1) a.dirty.delete(b);
          const up = file.tiers[k + 1];
          if (up) parents.add(Math.floor((b * t.step) / up.step));
        }
        buckets = parents;
      }
    } catch (err) {
      this.failed(a, err);
    }
  }

  /** Bucket `b` of tier `t` from the records of the finer tier `src`. */
  private recompute(a: AgentHistory, file: AgentFile, src: Tier, t: Tier, b: number, now: number): void {
    const from = b * t.step;
    const to = from + t.step;
    if (from < now - t.step * (t.slots - 1)) return; // older than the ring: it would overwrite newer
    // The finer ring no longer holds the whole bucket: recomputing would forget its older part.
    if (from < now - src.step * (src.slots - 1)) return;
    const margin = src.rollup ? 0 : 1;
    const { buf } = file.read(src, Math.floor(from / src.step) - margin, Math.floor((to - 1) / src.step) + margin);
    const agg = aggregate(src, buf, from, to, file.header.maxSeries, file.header.columns.length, (n) => this.noteDamaged(a.id, n));
    if (!agg) return;
    const out = Buffer.alloc(t.recordSize);
    writeRollup(out, 0, from, agg.count, agg.min, agg.avg, agg.max);
    file.write(t, b, out, 1);
  }

  private failed(a: AgentHistory, err: unknown): void {
    this.counters.failedWrites++;
    const e = err as NodeJS.ErrnoException;
    this.lastError = `${e.code ?? 'ERROR'}: ${e.message}`;
    const why = isStorageError(err) ? `${e.code} (the samples wait in memory and are retried)` : `${e.code ?? ''} ${e.message}`;
    this.notice(`fail:${e.code}`, `history: cannot write ${this.pathOf(a.id)}: ${why}`);
    // An unusable handle is reopened next time.
    if (a.file && !isStorageError(err)) {
      try { a.file.release(); } catch { /* already failing */ }
      a.file = null;
      a.intervalMs = null;
      this.open.delete(a.id);
    }
  }

  private notice(key: string, line: string): void {
    const t = Date.now();
    const last = this.noted.get(key);
    if (last !== undefined && t - last < LOG_THROTTLE_PERIOD_MS) return;
    this.noted.set(key, t);
    if (this.noted.size > 10_000) this.noted.clear();
    this.noticeFn(line);
  }
}
