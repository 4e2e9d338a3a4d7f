// A bounded append-only log per agent, for the records that ride the samples beside the numeric
// ring (the top processes, the containers' usage): <dir>/<agent>.<ext>, records framed as
// [u32 length][u32 CRC-32][JSON], rotated by size into <agent>.<ext>.1 (two files at most:
// bounded), a torn tail cut before the first append after start, and a failing disk counted and
// answered false so the caller does not take the sample (the agent sends it again).

import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { isStorageError } from '../fs/durable.ts';
import { FRAME_HEADER as HEADER, frameRecord } from '../fs/frame-record.ts';
import { fileNameOf } from '../fs/file-name.ts';

const NOTICE_MS = 60_000;

/** Every stored record has its time; `is` says whether a parsed record has the rest of its shape. */
export interface Timed {
  t: number;
}

export interface FramedLogOptions<S extends Timed> {
  dir: string;
  /** the files' extension: `procs`, `containers` */
  ext: string;
  /** what the notices call it: "process history" */
  label: string;
  segmentBytes: number;
  /**
   * Also rotate when the current file's oldest record is this much older than the new one: the
   * older file then holds that span and the pair keeps from 1x to 2x of it (or less when
   * `segmentBytes` is reached first). Absent: by size only.
   */
  rotateAfterMs?: number;
  /** a length past this is damage, not a record */
  recordMax: number;
  is: (s: Timed) => s is S;
  now?: () => number;
  notice?: (line: string) => void;
  /** tests: replaces the append (a full disk) */
  append?: (path: string, buf: Buffer) => void;
}

export class FramedLog<S extends Timed> {
  private readonly o: Required<Pick<FramedLogOptions<S>, 'now' | 'notice' | 'append'>> & FramedLogOptions<S>;
  /** bytes of each agent's current file, known once its tail was checked (after start, after a failure) */
  private readonly sizes = new Map<string, number>();
  /** the time of each agent's current file's oldest record (when rotateAfterMs is set; null: empty file) */
  private readonly firstAt = new Map<string, number | null>();
  private noticedAt = -Infinity;
  readonly counters = { written: 0, failedWrites: 0, rotated: 0, cutTails: 0 };
  lastError: string | null = null;

  constructor(o: FramedLogOptions<S>) {
    this.o = { now: Date.now, notice: () => {}, append: (p, b) => appendFileSync(p, b, { mode: 0o600 }), ...o };
    mkdirSync(o.dir, { recursive: true, mode: 0o700 });
  }

  pathOf(id: string): string {
    const safe = fileNameOf(id);
    return join(this.o.dir, `${safe}.${this.o.ext}`);
  }

  /**
   * Appends one record (written to the file, not fsynced, as the numeric history). False when the
   * disk refused it: counted, shown once a minute, and the caller leaves the sample unacknowledged.
   */
  write(id: string, rec: S): boolean {
    const path = this.pathOf(id);
    const buf = frameRecord(rec);
    try {
      let size = this.sizes.get(id) ?? this.checkTail(id, path);
      const first = this.firstAt.get(id) ?? null;
      const old = this.o.rotateAfterMs !== undefined && first !== null && rec.t - first >= this.o.rotateAfterMs;
      if (size > 0 && (size + buf.length > this.o.segmentBytes || old)) {
        renameSync(path, `${path}.1`);
        this.counters.rotated++;
        size = 0;
      }
      if (size === 0) this.firstAt.set(id, rec.t);
      this.sizes.set(id, size); // a failed append below is checked again (it may have left half a record)
      this.o.append(path, buf);
      this.sizes.set(id, size + buf.length);
      this.counters.written++;
      return true;
    } catch (err) {
      this.sizes.delete(id);
      this.counters.failedWrites++;
      this.lastError = `${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
      if (!isStorageError(err) && (err as NodeJS.ErrnoException).code === undefined) throw err;
      if (this.o.now() - this.noticedAt >= NOTICE_MS) {
        this.noticedAt = this.o.now();
        this.o.notice(`${this.o.label}: cannot write ${this.lastError}; the agent sends those samples again`);
      }
      return false;
    }
  }

  /**
   * Every good record of both files, one per time (a sample sent again after a manager restart is
   * appended again: the later wins), sorted by time. Reads at most two segments.
   */
  read(id: string): S[] {
    const path = this.pathOf(id);
    const byAt = new Map<number, S>();
    for (const p of [`${path}.1`, path]) {
      if (!existsSync(p)) continue;
      for (const s of this.frames(readFileSync(p)).records) byAt.set(s.t, s);
    }
    return [...byAt.values()].sort((a, b) => a.t - b.t);
  }

  private frames(buf: Buffer): { records: S[]; goodBytes: number } {
    return readFramed(buf, this.o.recordMax, this.o.is);
  }

  /** The current file's size once a torn or damaged tail is cut off (the first append after start or a failure). */
  private checkTail(id: string, path: string): number {
    if (!existsSync(path)) return 0;
    const size = statSync(path).size;
    const { records, goodBytes } = this.frames(readFileSync(path));
    this.firstAt.set(id, records.reduce<number | null>((m, r) => (m === null || r.t < m ? r.t : m), null));
    if (goodBytes < size) {
      truncateSync(path, goodBytes);
      this.counters.cutTails++;
      this.o.notice(`${this.o.label}: ${path}: ${size - goodBytes} bytes of a torn record cut off`);
    }
    return goodBytes;
  }
}

/** What a log built on one FramedLog shows of it (its counters for `status`, its last error, its files). */
export abstract class OnFramedLog<S extends Timed> {
  protected readonly log: FramedLog<S>;

  constructor(log: FramedLog<S>) {
    this.log = log;
  }

  get counters(): FramedLog<S>['counters'] {
    return this.log.counters;
  }

  get lastError(): string | null {
    return this.log.lastError;
  }

  pathOf(id: string): string {
    return this.log.pathOf(id);
  }
}

/** The records up to the first torn or damaged one (or one not of the shape `is` wants), and where that one starts. */
export function readFramed<S extends Timed>(buf: Buffer, recordMax: number, is: (s: Timed) => s is S): { records: S[]; goodBytes: number } {
  const records: S[] = [];
  let off = 0;
  while (buf.length - off >= HEADER) {
    const len = buf.readUInt32BE(off);
    if (len === 0 || len > recordMax || buf.length - off - HEADER < len) break;
    const body = buf.subarray(off + HEADER, off + HEADER + len);
    if (crc32(body) !== buf.readUInt32BE(off + 4)) break;
    let s: Timed;
    try {
      s = JSON.parse(body.toString('utf8')) as Timed;
    } catch {
      break;
    }
    if (typeof s?.t !== 'number' || !is(s)) break;
    records.push(s);
    off += HEADER + len;
  }
  return { records, goodBytes: off };
}
