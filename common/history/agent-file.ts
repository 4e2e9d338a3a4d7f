// One agent's history file: opened (or made) with the layout wanted, its header kept in memory,
// its rings read and written by absolute slot number (time / step), wrapping in place. A file
// whose tail was torn (a crash while it grew, or cut by hand) has the broken record zeroed with a
// notice; a file made with another layout (retention or interval changed) is rewritten into the
// new one, keeping what still fits.

import { closeSync, fstatSync, ftruncateSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { HwError } from '../errors.ts';
import { syncDir } from '../fs/durable.ts';
import {
  decodeHeader, encodeHeader, HEADER_BYTES, HEADER_SLOT, layout, recordAt, recordState, recordWord, sameLayout, writeRaw,
  writeRollup, rawValue, rollupValue, type Header, type Tier, type TierSpec,
} from './format.ts';

export interface Wanted {
  agentId: string;
  maxSeries: number;
  tiers: TierSpec[];
}

/**
 * Column lists and tier layouts shared between files: a fleet of like hosts has the same series
 * and the same tiers, and 10,000 agents each keeping their own name index (a Map of 20 to 40
 * entries) and eight tier objects cost about 1.5 KiB apiece. Both are read-only once made; a
 * file that adds series gets the index of its new list. Bounded: past SHARED_MAX distinct
 * lists, a file keeps its own.
 */
const SHARED_MAX = 4096;
const sharedColumns = new Map<string, { columns: string[]; byName: Map<string, number> }>();
const sharedLayouts = new Map<string, { specs: TierSpec[]; tiers: Tier[] }>();

function columnIndex(columns: string[]): { columns: string[]; byName: Map<string, number> } {
  const key = columns.join('\n');
  let c = sharedColumns.get(key);
  if (!c) {
    c = { columns, byName: new Map(columns.map((n, i) => [n, i])) };
    if (sharedColumns.size < SHARED_MAX) sharedColumns.set(key, c);
  }
  return c;
}

function tierLayout(header: Header): { specs: TierSpec[]; tiers: Tier[] } {
  const key = `${header.maxSeries}|${header.tiers.map((t) => `${t.name}:${t.step}:${t.slots}`).join(',')}`;
  let l = sharedLayouts.get(key);
  if (!l) {
    l = { specs: header.tiers.map((t) => ({ name: t.name, step: t.step, slots: t.slots })), tiers: layout(header).tiers };
    if (sharedLayouts.size < SHARED_MAX) sharedLayouts.set(key, l);
  }
  return l;
}

export class AgentFile {
  readonly path: string;
  header: Header;
  tiers: Tier[];
  private fd: number | null;
  private generation: number;
  private byName: Map<string, number>;
  /** made by this open (so it has nothing to redo) */
  created = false;

  private constructor(path: string, fd: number, header: Header, generation: number) {
    this.path = path;
    this.fd = fd;
    this.generation = generation;
    const l = tierLayout(header);
    this.tiers = l.tiers;
    const c = columnIndex(header.columns);
    this.header = { ...header, columns: c.columns, tiers: l.specs };
    this.byName = c.byName;
  }

  /**
   * Opens the file, or creates it when `want` is given (null: only to read, and null back when
   * there is none). `notice` hears of repairs. Errno errors are thrown for the caller to count.
   */
  static open(path: string, want: Wanted | null, notice: (line: string) => void): AgentFile | null {
    let fd: number;
    try {
      fd = openSync(path, 'r+');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      if (!want) return null;
      return AgentFile.create(path, { v: 1, agentId: want.agentId, maxSeries: want.maxSeries, columns: [], tiers: want.tiers });
    }
    const head = Buffer.alloc(HEADER_BYTES);
    readSync(fd, head, 0, HEADER_BYTES, 0);
    const decoded = decodeHeader(head);
    if (!decoded) {
      closeSync(fd);
      if (!want) return null;
      const aside = `${path}.damaged-${Date.now()}`;
      renameSync(path, aside);
      notice(`history: ${path} has no readable header; set aside as ${aside}, starting afresh`);
      return AgentFile.create(path, { v: 1, agentId: want.agentId, maxSeries: want.maxSeries, columns: [], tiers: want.tiers });
    }
    const f = new AgentFile(path, fd, decoded.header, decoded.generation);
    f.repairTail(notice);
    if (want && !sameLayout(decoded.header, want)) return f.convert(want, notice);
    return f;
  }

  private static create(path: string, header: Header): AgentFile {
    const fd = openSync(path, 'w+', 0o600);
    const f = new AgentFile(path, fd, header, 0);
    f.created = true;
    f.writeHeader();
    syncDir(dirname(path)); // the new file's name survives a power cut
    return f;
  }

  /** The file descriptor, reopened when the store closed it to stay under its open-file limit. */
  private handle(): number {
    if (this.fd === null) this.fd = openSync(this.path, 'r+');
    return this.fd;
  }

  get isOpen(): boolean {
    return this.fd !== null;
  }

  release(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    closeSync(fd);
  }

  column(name: string): number | undefined {
    return this.byName.get(name);
  }

  /**
   * Adds new series (one header write for all of them) while there is room; returns those that
   * did not fit (the file's series are full, or the list would not fit in a header slot).
   */
  addColumns(names: string[]): string[] {
    const columns = [...this.header.columns];
    const left: string[] = [];
    for (const n of names) {
      if (this.byName.has(n) || columns.includes(n)) continue;
      if (columns.length >= this.header.maxSeries) left.push(n);
      else columns.push(n);
    }
    if (columns.length === this.header.columns.length) return left;
    const next = { ...this.header, columns };
    try {
      encodeHeader(next, 0);
    } catch {
      return [...names]; // the series list would not fit in a header slot
    }
    const c = columnIndex(columns);
    this.header = { ...next, columns: c.columns };
    this.byName = c.byName;
    this.writeHeader();
    return left;
  }

  private writeHeader(): void {
    this.generation++;
    const b = encodeHeader(this.header, this.generation);
    writeAll(this.handle(), b, (this.generation % 2) * HEADER_SLOT);
  }

  /**
   * Records `first`..`last` (absolute slot numbers) of a tier, in that order, as one buffer; a
   * range longer than the ring is cut to its last `slots` records.
   */
  read(tier: Tier, first: number, last: number): { buf: Buffer; first: number } {
    if (last - first + 1 > tier.slots) first = last - tier.slots + 1;
    const n = Math.max(0, last - first + 1);
    const buf = Buffer.alloc(n * tier.recordSize);
    const fd = this.handle();
    let done = 0;
    while (done < n) {
      const phys = mod(first + done, tier.slots);
      const run = Math.min(n - done, tier.slots - phys);
      readSync(fd, buf, done * tier.recordSize, run * tier.recordSize, tier.offset + phys * tier.recordSize);
      done += run;
    }
    return { buf, first };
  }

  /** Writes `count` whole records from `buf` at absolute slot `first` onwards. */
  write(tier: Tier, first: number, buf: Buffer, count: number): void {
    const fd = this.handle();
    let done = 0;
    while (done < count) {
      const phys = mod(first + done, tier.slots);
      const run = Math.min(count - done, tier.slots - phys);
      writeAll(fd, buf.subarray(done * tier.recordSize, (done + run) * tier.recordSize), tier.offset + phys * tier.recordSize);
      done += run;
    }
  }

  /** A file cut inside a record (the tail of a write that never finished): zero that record. */
  private repairTail(notice: (line: string) => void): void {
    const size = fstatSync(this.handle()).size;
    for (const t of this.tiers) {
      const end = t.offset + t.slots * t.recordSize;
      if (size <= t.offset || size >= end) continue;
      const rel = size - t.offset;
      if (rel % t.recordSize === 0) return;
      const slot = Math.floor(rel / t.recordSize);
      ftruncateSync(this.handle(), t.offset + slot * t.recordSize);
      notice(`history: ${this.path} ends inside a record (tier ${t.name}, slot ${slot}, ${rel % t.recordSize} of ${t.recordSize} bytes): that record is skipped`);
      return;
    }
  }

  /** Rewrites the file into the wanted layout, keeping each tier's records that still fit. */
  convert(want: Wanted, notice: (line: string) => void): AgentFile {
    const header: Header = { v: 1, agentId: want.agentId, maxSeries: want.maxSeries, columns: this.header.columns.slice(0, want.maxSeries), tiers: want.tiers };
    const tmp = `${this.path}.convert`;
    rmSync(tmp, { force: true });
    const next = AgentFile.create(tmp, header);
    let kept = 0;
    try {
      for (const nt of next.tiers) {
        const ot = this.tiers.find((t) => t.name === nt.name);
        if (!ot) continue;
        const { buf } = this.read(ot, 0, ot.slots - 1);
        const best = new Map<number, number>(); // new slot -> offset in buf of the newest record for it
        let newest = 0;
        for (let i = 0; i < ot.slots; i++) {
          const off = i * ot.recordSize;
          if (recordState(buf, off, ot.recordSize) !== 'ok') continue;
          newest = Math.max(newest, recordAt(buf, off));
        }
        const out = Buffer.alloc(nt.recordSize);
        const cols = header.columns.length;
        const v = [new Float32Array(want.maxSeries), new Float32Array(want.maxSeries), new Float32Array(want.maxSeries)] as const;
        for (let i = 0; i < ot.slots; i++) {
          const off = i * ot.recordSize;
          if (recordState(buf, off, ot.recordSize) !== 'ok') continue;
          const at = recordAt(buf, off);
          if (at <= newest - nt.step * nt.slots) continue;
          const slot = Math.floor(at / nt.step);
          const prev = best.get(slot);
          if (prev === undefined || recordAt(buf, prev) < at) best.set(slot, off);
        }
        for (const [slot, off] of best) {
          for (const a of v) a.fill(NaN);
          for (let c = 0; c < cols; c++) {
            if (ot.rollup) for (const w of [0, 1, 2] as const) v[w][c] = rollupValue(buf, off, c, w);
            else v[0][c] = rawValue(buf, off, c);
          }
          if (nt.rollup) writeRollup(out, 0, recordAt(buf, off), recordWord(buf, off), v[0], v[1], v[2]);
          else writeRaw(out, 0, recordAt(buf, off), recordWord(buf, off), v[0]);
          next.write(nt, slot, out, 1);
          kept++;
        }
      }
    } catch (err) {
      next.release();
      rmSync(tmp, { force: true });
      throw err;
    }
    this.release();
    next.release();
    renameSync(tmp, this.path);
    notice(`history: ${this.path} rewritten for the new retention or interval (${kept} records kept)`);
    const f = new AgentFile(this.path, openSync(this.path, 'r+'), header, next.generation);
    return f;
  }
}

function writeAll(fd: number, buf: Buffer, position: number): void {
  let off = 0;
  while (off < buf.length) {
    const n = writeSync(fd, buf, off, buf.length - off, position + off);
    if (n <= 0) throw new HwError('STORAGE_FAILED', 'short write');
    off += n;
  }
}

export const mod = (a: number, n: number): number => ((a % n) + n) % n;
