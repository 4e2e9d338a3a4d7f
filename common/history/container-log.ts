// Containers in history: per agent, the containers' usage its samples carried (one record every
// --containers-every, a minute by default) in <dir>/<agent>.containers, a bounded framed log
// (framed-log.ts) beside the numeric ring. Rotated when the current file spans the raw tier's
// retention or reaches CONTAINER_SEGMENT_BYTES, so the pair keeps the raw tier's span at least:
//
//   disk per agent <= 2 x min(CONTAINER_SEGMENT_BYTES, record bytes x records in the raw retention)
//
// A record is about 80 B a container (20-character names) plus 100 B: 1.7 KB for 20 containers and
// `other`, so 2.5 MB a day at one a minute, 5 MB at most per agent with the 24 h raw retention (from
// 24 to 48 h kept). The largest record the report allows (50 rows of 128-character names and
// 13-digit values, 13.4 KB) still keeps 24 h at one a minute inside one segment (19.3 MB).

import type { ContainerUsageOther, ContainerUsageRow, SampleContainers } from '../wire/container-usage.ts';
import { FramedLog, OnFramedLog, type Timed } from './framed-log.ts';

/** Each of the two files at most: 24 h of the largest records at one a minute (1440 x 13.4 KB = 18.4 MiB), with room. */
export const CONTAINER_SEGMENT_BYTES = 24 * 1024 * 1024;
/** A length past this is damage, not a record (50 rows of the largest allowed is 13.4 KB). */
const RECORD_MAX = 64 * 1024;

/** One record as read back: the sample's time and what it carried. */
export interface ContainerRecord extends SampleContainers {
  at: number;
}

/** Rows as arrays, in this order: a record is about half the size with the keys left out. */
type StoredRow = [string, string, string | null, number | null, number | null, number | null, number | null, number | null, number | null, number | null];
type StoredOther = [number, number | null, number | null, number | null, number | null, number | null, number | null];
interface Stored {
  t: number;
  n: number;
  r: StoredRow[];
  o?: StoredOther;
}

export interface ContainerLogOptions {
  dir: string;
  /** the raw tier's retention: the span each file holds before rotating (default 24 h) */
  retentionMs?: number;
  segmentBytes?: number;
  now?: () => number;
  notice?: (line: string) => void;
  /** tests: replaces the append (a full disk) */
  append?: (path: string, buf: Buffer) => void;
}

const isStored = (s: Timed): s is Stored => typeof (s as Stored).n === 'number' && Array.isArray((s as Stored).r);

export class ContainerLog extends OnFramedLog<Stored> {
  constructor(o: ContainerLogOptions) {
    const { retentionMs, ...rest } = o;
    super(new FramedLog({
      ...rest, ext: 'containers', label: 'container history', segmentBytes: o.segmentBytes ?? CONTAINER_SEGMENT_BYTES, recordMax: RECORD_MAX,
      rotateAfterMs: retentionMs ?? 24 * 3600_000, is: isStored,
    }));
  }

  /** Appends one record; false when the disk refused it (the caller leaves the sample unacknowledged). */
  write(id: string, at: number, c: SampleContainers): boolean {
    return this.log.write(id, { t: at, n: c.total, r: c.rows.map(toStored), ...(c.other ? { o: otherStored(c.other) } : {}) });
  }

  /** The records from `from` to `to`, oldest first: the newest `max` of them, and whether more were left out. */
  range(id: string, from: number, to: number, max: number): { records: ContainerRecord[]; truncated: boolean } {
    const all = this.log.read(id).filter((s) => s.t >= from && s.t <= to);
    return { records: all.slice(-max).map(fromStored), truncated: all.length > max };
  }
}

function toStored(r: ContainerUsageRow): StoredRow {
  return [r.name, r.state, r.health, r.cpuPercent, r.memUsedBytes, r.memLimitBytes, r.netRxRate, r.netTxRate, r.blockReadRate, r.blockWriteRate];
}

function otherStored(o: ContainerUsageOther): StoredOther {
  return [o.count, o.cpuPercent, o.memUsedBytes, o.netRxRate, o.netTxRate, o.blockReadRate, o.blockWriteRate];
}

function fromStored(s: Stored): ContainerRecord {
  const rows = s.r.map((x): ContainerUsageRow => ({
    name: x[0], state: x[1], health: x[2], cpuPercent: x[3], memUsedBytes: x[4], memLimitBytes: x[5],
    netRxRate: x[6], netTxRate: x[7], blockReadRate: x[8], blockWriteRate: x[9],
  }));
  const o = s.o;
  return {
    at: s.t, total: s.n, rows,
    ...(o ? { other: { count: o[0], cpuPercent: o[1], memUsedBytes: o[2], netRxRate: o[3], netTxRate: o[4], blockReadRate: o[5], blockWriteRate: o[6] } } : {}),
  };
}
