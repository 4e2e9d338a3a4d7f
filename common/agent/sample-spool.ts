// Every sample the agent takes, kept on disk until the manager has it in its history: segments of
// JSON lines under <state-dir>/spool/, each file named by the number of its first line, written
// and fdatasynced sample by sample, removed once every sample in it is acknowledged. Bounded in
// count: past the bound the oldest segment goes, counted as lost. While the disk refuses writes
// the samples wait in memory (bounded too) and are written as soon as it takes them again.

import {
  closeSync, fdatasyncSync, fstatSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeSync,
} from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { addLost, BACKFILL_MAX_SAMPLES, firstAtOrAfter, type Kept, type Lost, type SampleBacklog, type SeqRanges } from './sample-backlog.ts';
import { isStorageError, syncDir, writeDurable } from '../fs/durable.ts';
import type { Sample } from '../collect/types.ts';

/** The spool's bound: two days at the default 5 s interval (about 35 MB of JSON lines at most). */
export const SPOOL_MAX_SAMPLES = 34_560;
const SPOOL_SEGMENT_SAMPLES = 1000;
/** How often a spool the disk refused is tried again (at the next sample after this long). */
const SPOOL_RETRY_MS = 5000;
/** The acknowledged position is written at most this often (and at close). */
const CURSOR_SAVE_MS = 5000;

interface Segment {
  /** number of its first line (also its file name) */
  first: number;
  count: number;
}

const fileName = (first: number) => `${String(first).padStart(16, '0')}.jsonl`;
const FILE_RE = /^\d{16}\.jsonl$/;

export interface SpoolOptions {
  dir: string;
  max?: number;
  segmentSize?: number;
  /** samples kept in memory while the disk refuses writes */
  memoryMax?: number;
  retryMs?: number;
  now?: () => number;
  log?: (line: string) => void;
  /** for tests: the line writer (to make the disk fail on demand) */
  write?: (fd: number, buf: Buffer) => void;
}

export class SampleSpool implements SampleBacklog {
  readonly epoch: string;
  private readonly dir: string;
  private readonly max: number;
  private readonly segmentSize: number;
  private readonly memoryMax: number;
  private readonly retryMs: number;
  private readonly now: () => number;
  private readonly log: (line: string) => void;
  private readonly writeLine: (fd: number, buf: Buffer) => void;
  private segments: Segment[] = [];
  /** every sample numbered below is acknowledged (kept in the file `cursor`) */
  private cursor = 0;
  /** acknowledged samples numbered from the cursor up */
  private readonly acked = new Set<number>();
  private next = 0;
  private unacked = 0;
  /** samples the disk refused, in order, all numbered above the segments' */
  private memory: Kept[] = [];
  private tailFd: number | null = null;
  private tailBytes = 0;
  private cache: { first: number; items: (Sample | null)[] } | null = null;
  private failedAt: number | null = null;
  private lost: Lost | null = null;
  private epochUnsaved = false;
  private cursorSavedAt = -Infinity;
  private cursorSaved = -1;
  /** the segment being written has lines not yet fdatasynced */
  private unsynced = false;

  constructor(o: SpoolOptions) {
    this.dir = o.dir;
    this.max = o.max ?? SPOOL_MAX_SAMPLES;
    this.segmentSize = o.segmentSize ?? SPOOL_SEGMENT_SAMPLES;
    this.memoryMax = o.memoryMax ?? BACKFILL_MAX_SAMPLES;
    this.retryMs = o.retryMs ?? SPOOL_RETRY_MS;
    this.now = o.now ?? Date.now;
    this.log = o.log ?? (() => {});
    this.writeLine = o.write ?? ((fd, buf) => {
      let off = 0;
      while (off < buf.length) off += writeSync(fd, buf, off);
    });
    this.epoch = this.load();
  }

  get size(): number {
    return this.unacked;
  }

  /** Samples waiting in memory for the disk. */
  get inMemory(): number {
    return this.memory.length;
  }

  push(sample: Sample, sync = true): number {
    const seq = this.next++;
    this.unacked++;
    if (this.failedAt === null || this.now() - this.failedAt >= this.retryMs) {
      try {
        const waited = this.memory.length;
        while (this.memory.length) {
          this.append(this.memory[0]!.seq, this.memory[0]!.sample, false);
          this.memory.shift();
        }
        this.append(seq, sample, sync || waited > 0);
        this.saveEpoch();
        if (this.failedAt !== null) this.log(`sample spool in ${this.dir} written again; the ${waited} samples kept in memory meanwhile are on disk`);
        this.failedAt = null;
        this.bound();
        return seq;
      } catch (err) {
        if (this.failedAt === null) {
          this.log(`cannot write the sample spool in ${this.dir}: ${(err as Error).message}; keeping samples in memory (at most ${this.memoryMax}) and trying the disk again every ${this.retryMs / 1000} s`);
        }
        this.failedAt = this.now();
      }
    }
    this.memory.push({ seq, sample });
    while (this.memory.length > this.memoryMax) {
      const old = this.memory.shift()!;
      this.unacked--;
      this.lost = addLost(this.lost, 'memory-full', 1, old.sample.at, old.sample.at);
    }
    return seq;
  }

  read(from: number, max: number): Kept[] {
    const out: Kept[] = [];
    let bad = false;
    for (const seg of this.segments) {
      if (out.length >= max) break;
      const end = seg.first + seg.count;
      if (end <= from) continue;
      const items = this.items(seg);
      for (let s = Math.max(from, seg.first, this.cursor); s < end && out.length < max; s++) {
        if (this.acked.has(s)) continue;
        const sample = items[s - seg.first];
        if (sample) {
          out.push({ seq: s, sample });
          continue;
        }
        // A line that cannot be read back is lost: counted, and never asked for again.
        this.acked.add(s);
        this.unacked--;
        this.lost = addLost(this.lost, 'unreadable', 1);
        bad = true;
      }
    }
    for (let i = firstAtOrAfter(this.memory, from); i < this.memory.length && out.length < max; i++) out.push(this.memory[i]!);
    if (bad) this.advance();
    return out;
  }

  ack(ranges: SeqRanges): void {
    let any = false;
    for (const [from, to] of ranges) {
      const hi = Math.min(to, this.next - 1);
      for (let s = Math.max(from, this.cursor); s <= hi; s++) {
        if (this.acked.has(s) || !this.onDisk(s)) continue;
        this.acked.add(s);
        this.unacked--;
        any = true;
      }
      if (this.memory.length && to >= this.memory[0]!.seq) {
        const before = this.memory.length;
        this.memory = this.memory.filter((k) => k.seq < from || k.seq > to);
        this.unacked -= before - this.memory.length;
      }
    }
    if (any) this.advance();
  }

  takeLost(): Lost | null {
    const l = this.lost;
    this.lost = null;
    return l;
  }

  close(): void {
    if (this.cursorSaved !== this.cursor) this.saveCursor();
    this.closeTail();
  }

  /** The epoch is written with the first sample the disk takes (a full disk at start must not stop the agent). */
  private saveEpoch(): void {
    if (!this.epochUnsaved) return;
    try {
      writeDurable(join(this.dir, 'epoch'), this.epoch);
      this.epochUnsaved = false;
    } catch {
      // tried again with the next sample; unsaved, a restart only draws a new one (resends taken once more)
    }
  }

  private onDisk(seq: number): boolean {
    for (const seg of this.segments) if (seq >= seg.first && seq < seg.first + seg.count) return true;
    return false;
  }

  /** Moves the cursor over what is acknowledged, removing the segments it passes. */
  private advance(): void {
    const before = this.cursor;
    for (;;) {
      const seg = this.segments[0];
      const low = seg ? seg.first : (this.memory[0]?.seq ?? this.next);
      if (this.cursor < low) this.cursor = low;
      if (seg && this.cursor >= seg.first + seg.count) {
        // The segment being written stays until it is full: not a new file every acknowledgement.
        if (this.segments.length === 1 && this.tailFd !== null && seg.count < this.segmentSize) break;
        this.removeHead();
        continue;
      }
      if (seg && this.acked.has(this.cursor)) {
        this.cursor++;
        continue;
      }
      break;
    }
    if (this.cursor === before) return;
    for (const s of this.acked) if (s < this.cursor) this.acked.delete(s);
    // Saved at most every CURSOR_SAVE_MS (an older manager acknowledges every sample as it is sent):
    // a cursor a few seconds behind only means resending what the manager files once.
    if (this.now() - this.cursorSavedAt >= CURSOR_SAVE_MS) this.saveCursor();
  }

  private saveCursor(): void {
    this.cursorSavedAt = this.now();
    try {
      writeDurable(join(this.dir, 'cursor'), String(this.cursor));
      this.cursorSaved = this.cursor;
    } catch {
      // a lost cursor only means resending what the manager already has
    }
  }

  private load(): string {
    const dir = this.dir;
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (err) {
      // a full or read-only disk: the samples wait in memory until it takes them
      if (!isStorageError(err)) throw err;
    }
    let epoch = '';
    try {
      epoch = readFileSync(join(dir, 'epoch'), 'utf8').trim();
    } catch {
      // a spool from before numbered samples, or a new one
    }
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(epoch)) {
      epoch = randomUUID();
      this.epochUnsaved = true;
    }
    let files: string[] = [];
    try {
      files = readdirSync(dir).filter((n) => FILE_RE.test(n)).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    for (const f of files) {
      const first = Number(f.slice(0, 16));
      const text = readFileSync(join(dir, f), 'utf8');
      const lines = text.split('\n');
      const count = lines.length - 1; // the last piece is what follows the last newline
      if (lines[count]) {
        // A torn last line (the agent died while writing it): cut so the file ends on a whole line.
        const fd = openSync(join(dir, f), 'r+');
        ftruncateSync(fd, Buffer.byteLength(text) - Buffer.byteLength(lines[count]!));
        closeSync(fd);
        this.log(`sample spool ${f}: torn last line skipped`);
      }
      const prev = this.segments[this.segments.length - 1];
      if (count <= 0 || (prev && first < prev.first + prev.count)) {
        rmSync(join(dir, f), { force: true });
        continue;
      }
      this.segments.push({ first, count });
    }
    let cursor = this.segments[0]?.first ?? 0;
    try {
      const saved = Number(readFileSync(join(dir, 'cursor'), 'utf8'));
      if (Number.isSafeInteger(saved) && saved >= cursor) cursor = saved;
    } catch {
      // no cursor yet, or unreadable: resend from the oldest kept (the manager files a repeat in place)
    }
    this.cursor = cursor;
    this.cursorSaved = cursor;
    while (this.segments.length && this.cursor >= this.segments[0]!.first + this.segments[0]!.count) this.removeHead();
    const last = this.segments[this.segments.length - 1];
    this.next = Math.max(this.cursor, last ? last.first + last.count : 0);
    for (const seg of this.segments) this.unacked += seg.first + seg.count - Math.max(seg.first, this.cursor);
    if (this.unacked) this.log(`sample spool: ${this.unacked} samples from before the restart still to send`);
    return epoch;
  }

  /** fdatasync of the segment being written: what was kept without sync survives a power cut too. */
  sync(): void {
    if (this.tailFd === null || !this.unsynced) return;
    try {
      fdatasyncSync(this.tailFd);
      this.unsynced = false;
    } catch {
      // the next synced append tries again
    }
  }

  private append(seq: number, sample: Sample, sync: boolean): void {
    let tail = this.segments[this.segments.length - 1];
    if (!tail || this.tailFd === null || tail.first + tail.count !== seq || tail.count >= this.segmentSize) {
      this.closeTail();
      const path = join(this.dir, fileName(seq));
      const fd = openSync(path, 'a', 0o600);
      try {
        syncDir(this.dir); // the new file survives a power cut too
      } catch (err) {
        closeSync(fd);
        rmSync(path, { force: true });
        throw err;
      }
      this.tailFd = fd;
      this.tailBytes = fstatSync(fd).size;
      tail = { first: seq, count: 0 };
      this.segments.push(tail);
    }
    const line = Buffer.from(JSON.stringify(sample) + '\n');
    try {
      this.writeLine(this.tailFd!, line);
      // Survives a power cut too when it exists nowhere else (the manager away): one fdatasync a
      // sample. A live sample is on its way to the manager already: written, synced later.
      if (sync) fdatasyncSync(this.tailFd!);
      this.unsynced = !sync;
    } catch (err) {
      // Cut a partly written line off, and start a new segment next time.
      try { ftruncateSync(this.tailFd!, this.tailBytes); } catch { /* the start-up cuts a torn last line */ }
      this.closeTail();
      if (!tail.count) {
        this.segments.pop();
        rmSync(join(this.dir, fileName(tail.first)), { force: true });
      }
      throw err;
    }
    this.tailBytes += line.length;
    tail.count++;
    if (this.cache?.first === tail.first) this.cache.items.push(sample);
  }

  /** Past the bound the oldest segment goes (never the one being written). */
  private bound(): void {
    while (this.unacked > this.max && this.segments.length > 1) {
      const seg = this.segments[0]!;
      const end = seg.first + seg.count;
      const items = this.items(seg);
      let n = 0;
      let firstAt: number | undefined;
      let lastAt: number | undefined;
      for (let s = Math.max(seg.first, this.cursor); s < end; s++) {
        if (this.acked.has(s)) continue;
        n++;
        const at = items[s - seg.first]?.at;
        if (at !== undefined) {
          firstAt ??= at;
          lastAt = at;
        }
      }
      this.unacked -= n;
      if (n) this.lost = addLost(this.lost, 'spool-full', n, firstAt, lastAt);
      for (let s = Math.max(seg.first, this.cursor); s < end; s++) this.acked.add(s);
      this.advance();
    }
  }

  private removeHead(): void {
    const seg = this.segments.shift()!;
    if (this.cache?.first === seg.first) this.cache = null;
    if (!this.segments.length) this.closeTail();
    try {
      rmSync(join(this.dir, fileName(seg.first)), { force: true });
    } catch {
      // removed on the next start (below the cursor)
    }
  }

  private closeTail(): void {
    if (this.tailFd !== null && this.unsynced) this.sync();
    if (this.tailFd !== null) {
      try { closeSync(this.tailFd); } catch { /* already closed by a failing disk */ }
    }
    this.tailFd = null;
  }

  /** A segment's samples (null for a line that does not parse), the last one read kept. */
  private items(seg: Segment): (Sample | null)[] {
    if (this.cache?.first === seg.first) return this.cache.items;
    let lines: string[] = [];
    try {
      lines = readFileSync(join(this.dir, fileName(seg.first)), 'utf8').split('\n');
    } catch (err) {
      this.log(`sample spool ${fileName(seg.first)} unreadable: ${(err as Error).message}`);
    }
    const items: (Sample | null)[] = [];
    for (let i = 0; i < seg.count; i++) {
      try {
        const s = JSON.parse(lines[i] ?? '') as Sample;
        items.push(s && typeof s.at === 'number' && s.metrics && typeof s.metrics === 'object' ? s : null);
      } catch {
        items.push(null);
      }
    }
    this.cache = { first: seg.first, items };
    return items;
  }
}
