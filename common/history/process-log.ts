// History of who: per agent, the top processes its reports carried (one record a minute), in
// <dir>/<agent>.procs, apart from the numeric ring. Records are appended framed as
// [u32 length][u32 CRC-32][JSON], the file is rotated by size into <agent>.procs.1 (two files at
// most: bounded), a torn tail is cut before the first append after start, and a failing disk is
// counted and answered false so the caller does not take the sample (the agent sends it again).

import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import type { ProcessRow, SampleProcesses } from '../collect/types.ts';
import { isStorageError } from '../fs/durable.ts';
import { FRAME_HEADER as HEADER, frameRecord } from '../fs/frame-record.ts';

/** Each of the two files at most: 1,714 records of the largest ASCII rows the report allows at 10 + 10 (7.3 KB each), so 24 h are kept whatever the rows. */
export const PROCESS_SEGMENT_BYTES = 12 * 1024 * 1024;
/** Records a range answers at most (4 hours at one a minute). */
export const PROCESS_RANGE_MAX = 240;
/** `at` finds the nearest record within this distance, else none. */
export const PROCESS_NEAR_MS = 15 * 60_000;
/** A length past this is damage, not a record (100 rows of the largest allowed, with room). */
const RECORD_MAX = 256 * 1024;
const NOTICE_MS = 60_000;

/** One minute's record: its time (the sample's) and both lists. */
export interface ProcessRecord extends SampleProcesses {
  at: number;
}

/** Rows are stored as arrays, in this order: a record is a third smaller than with the keys. */
type StoredRow = [number, string, string | null, string | null, number | null, number | null, number | null, string | null, number | null];
interface Stored {
  t: number;
  c: StoredRow[];
  m: StoredRow[];
}

export interface ProcessLogOptions {
  dir: string;
  segmentBytes?: number;
  now?: () => number;
  notice?: (line: string) => void;
  /** tests: replaces the append (a full disk) */
  append?: (path: string, buf: Buffer) => void;
}

export class ProcessLog {
  private readonly dir: string;
  private readonly segmentBytes: number;
  private readonly now: () => number;
  private readonly notice: (line: string) => void;
  private readonly append: (path: string, buf: Buffer) => void;
  /** bytes of each agent's current file, known once its tail was checked (after start, after a failure) */
  private readonly sizes = new Map<string, number>();
  private noticedAt = -Infinity;
  readonly counters = { written: 0, failedWrites: 0, rotated: 0, cutTails: 0 };
  lastError: string | null = null;

  constructor(o: ProcessLogOptions) {
    this.dir = o.dir;
    this.segmentBytes = o.segmentBytes ?? PROCESS_SEGMENT_BYTES;
    this.now = o.now ?? Date.now;
    this.notice = o.notice ?? (() => {});
    this.append = o.append ?? ((p, b) => appendFileSync(p, b, { mode: 0o600 }));
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  pathOf(id: string): string {
    const safe = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$/.test(id) ? id : createHash('sha256').update(id).digest('hex');
    return join(this.dir, `${safe}.procs`);
  }

  /**
   * Appends one record (written to the file, not fsynced, as the numeric history). False when the
   * disk refused it: counted, shown once a minute, and the caller leaves the sample unacknowledged.
   */
  write(id: string, at: number, p: SampleProcesses): boolean {
    const path = this.pathOf(id);
    const buf = frameRecord({ t: at, c: p.byCpu.map(toStored), m: p.byMem.map(toStored) });
    try {
      let size = this.sizes.get(id) ?? this.checkTail(path);
      if (size > 0 && size + buf.length > this.segmentBytes) {
        renameSync(path, `${path}.1`);
        this.counters.rotated++;
        size = 0;
      }
      this.sizes.set(id, size); // a failed append below is checked again (it may have left half a record)
      this.append(path, buf);
      this.sizes.set(id, size + buf.length);
      this.counters.written++;
      return true;
    } catch (err) {
      this.sizes.delete(id);
      this.counters.failedWrites++;
      this.lastError = `${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
      if (!isStorageError(err) && (err as NodeJS.ErrnoException).code === undefined) throw err;
      if (this.now() - this.noticedAt >= NOTICE_MS) {
        this.noticedAt = this.now();
        this.notice(`process history: cannot write ${this.lastError}; the agent sends those samples again`);
      }
      return false;
    }
  }

  /** The record nearest `at` (within PROCESS_NEAR_MS), or null. */
  near(id: string, at: number): ProcessRecord | null {
    let best: ProcessRecord | null = null;
    for (const r of this.read(id)) if (Math.abs(r.at - at) <= PROCESS_NEAR_MS && (!best || Math.abs(r.at - at) < Math.abs(best.at - at))) best = r;
    return best;
  }

  /** The records from `from` to `to`, oldest first: the last PROCESS_RANGE_MAX of them, and whether more were left out. */
  range(id: string, from: number, to: number): { records: ProcessRecord[]; truncated: boolean } {
    const all = this.read(id).filter((r) => r.at >= from && r.at <= to);
    return { records: all.slice(-PROCESS_RANGE_MAX), truncated: all.length > PROCESS_RANGE_MAX };
  }

  /**
   * Every good record of both files, one per time (a sample sent again after a manager restart is
   * appended again: the later wins), sorted by time. Reads at most two segments.
   */
  private read(id: string): ProcessRecord[] {
    const path = this.pathOf(id);
    const byAt = new Map<number, ProcessRecord>();
    for (const p of [`${path}.1`, path]) {
      if (!existsSync(p)) continue;
      for (const s of readFrames(readFileSync(p)).records) byAt.set(s.t, fromStored(s));
    }
    return [...byAt.values()].sort((a, b) => a.at - b.at);
  }

  /** The current file's size once a torn or damaged tail is cut off (the first append after start or a failure). */
  private checkTail(path: string): number {
    if (!existsSync(path)) return 0;
    const size = statSync(path).size;
    const { goodBytes } = readFrames(readFileSync(path));
    if (goodBytes < size) {
      truncateSync(path, goodBytes);
      this.counters.cutTails++;
      this.notice(`process history: ${path}: ${size - goodBytes} bytes of a torn record cut off`);
    }
    return goodBytes;
  }
}


/** The records up to the first torn or damaged one, and where that one starts. */
export function readFrames(buf: Buffer): { records: Stored[]; goodBytes: number } {
  const records: Stored[] = [];
  let off = 0;
  while (buf.length - off >= HEADER) {
    const len = buf.readUInt32BE(off);
    if (len === 0 || len > RECORD_MAX || buf.length - off - HEADER < len) break;
    const body = buf.subarray(off + HEADER, off + HEADER + len);
    if (crc32(body) !== buf.readUInt32BE(off + 4)) break;
    let s: Stored;
    try {
      s = JSON.parse(body.toString('utf8')) as Stored;
    } catch {
      break;
    }
    if (typeof s?.t !== 'number' || !Array.isArray(s.c) || !Array.isArray(s.m)) break;
    records.push(s);
    off += HEADER + len;
  }
  return { records, goodBytes: off };
}

function toStored(r: ProcessRow): StoredRow {
  return [r.pid, r.name, r.user, r.command, r.cpuPercent, r.memBytes, r.ioBytesPerSec, r.state, r.startedAt];
}

function fromStored(s: Stored): ProcessRecord {
  const row = (x: StoredRow): ProcessRow => ({
    pid: x[0], name: x[1], user: x[2], command: x[3], cpuPercent: x[4], memBytes: x[5], ioBytesPerSec: x[6], state: x[7], startedAt: x[8],
  });
  return { at: s.t, byCpu: s.c.map(row), byMem: s.m.map(row) };
}
