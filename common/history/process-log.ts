// History of who: per agent, the top processes its reports carried (one record a minute), in
// <dir>/<agent>.procs, apart from the numeric ring. Records are appended framed as
// [u32 length][u32 CRC-32][JSON], the file is rotated by size into <agent>.procs.1 (two files at
// most: bounded), a torn tail is cut before the first append after start, and a failing disk is
// counted and answered false so the caller does not take the sample (the agent sends it again).

import type { ProcessRow, SampleProcesses } from '../collect/types.ts';
import { FramedLog, OnFramedLog, readFramed, type Timed } from './framed-log.ts';

/** Each of the two files at most: 1,714 records of the largest ASCII rows the report allows at 10 + 10 (7.3 KB each), so 24 h are kept whatever the rows. */
export const PROCESS_SEGMENT_BYTES = 12 * 1024 * 1024;
/** Records a range answers at most (4 hours at one a minute). */
export const PROCESS_RANGE_MAX = 240;
/** `at` finds the nearest record within this distance, else none. */
export const PROCESS_NEAR_MS = 15 * 60_000;
/** A length past this is damage, not a record (100 rows of the largest allowed, with room). */
const RECORD_MAX = 256 * 1024;

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

const isStored = (s: Timed): s is Stored => Array.isArray((s as Stored).c) && Array.isArray((s as Stored).m);

export class ProcessLog extends OnFramedLog<Stored> {
  constructor(o: ProcessLogOptions) {
    super(new FramedLog({ ...o, ext: 'procs', label: 'process history', segmentBytes: o.segmentBytes ?? PROCESS_SEGMENT_BYTES, recordMax: RECORD_MAX, is: isStored }));
  }

  /** Appends one minute's lists; false when the disk refused them (the caller leaves the sample unacknowledged). */
  write(id: string, at: number, p: SampleProcesses): boolean {
    return this.log.write(id, { t: at, c: p.byCpu.map(toStored), m: p.byMem.map(toStored) });
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

  private read(id: string): ProcessRecord[] {
    return this.log.read(id).map(fromStored);
  }
}

/** The records up to the first torn or damaged one, and where that one starts. */
export function readFrames(buf: Buffer): { records: Stored[]; goodBytes: number } {
  return readFramed(buf, RECORD_MAX, isStored);
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
