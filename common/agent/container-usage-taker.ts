// Containers in history: the container watch hands each list it reads here (every 10 s, or the
// interval when longer), and once every --containers-every a sample carries one record: the `n`
// busiest containers by name (CPU as the mean of the period's readings, memory as last read,
// network and block I/O as rates over the period from the engine's counters), the rest summed
// into `other` and counted. It rides the sample, so the spool and the backfill carry it too.

import type { ContainerRow } from '../collect/containers/types.ts';
import {
  CONTAINER_USAGE_NAME_MAX, CONTAINER_USAGE_ROWS_MAX, CONTAINER_USAGE_WORD_MAX, type ContainerUsageOther, type ContainerUsageRow, type ContainerUsageValues, type SampleContainers,
} from '../wire/container-usage.ts';

/** One record a minute: the numbers refresh every 10 s, and a minute keeps a day of 20 containers near 3 MB. */
export const DEFAULT_CONTAINERS_EVERY_MS = 60_000;
export const DEFAULT_CONTAINERS_TOP = 20;
/** Below the watch's own refresh (10 s) a record would repeat the same readings. */
export const MIN_CONTAINERS_EVERY_MS = 10_000;

type Counters = Pick<ContainerRow, 'netRxBytes' | 'netTxBytes' | 'blockReadBytes' | 'blockWriteBytes'>;
const COUNTERS = ['netRxBytes', 'netTxBytes', 'blockReadBytes', 'blockWriteBytes'] as const;
const RATES = ['netRxRate', 'netTxRate', 'blockReadRate', 'blockWriteRate'] as const;

interface Reading extends Counters {
  at: number;
}

/** What the period saw of one container. */
interface Seen {
  state: string;
  health: string | null;
  memUsedBytes: number | null;
  memLimitBytes: number | null;
  cpuSum: number;
  cpuCount: number;
  /** the counters at the end of the previous period (or the first reading), and the newest */
  base: Reading | undefined;
  last: Reading;
  /** read since the last record; when not, the record repeats what the last one said (`said`) */
  fresh: boolean;
  said?: ContainerUsageRow;
}

export class ContainerUsageTaker {
  private readonly everyMs: number;
  private readonly n: number;
  private lastAt = -Infinity;
  private seen = new Map<string, Seen>();
  /** the engine's container count at the newest list; undefined: no list read (no engine): nothing to report */
  private total: number | undefined;

  constructor(o: { everyMs: number; n: number }) {
    this.everyMs = o.everyMs;
    this.n = Math.max(1, Math.min(CONTAINER_USAGE_ROWS_MAX, Math.floor(o.n)));
  }

  /**
   * Whether a list read at `at` should read the network and block counters too (the live reports'
   * lists read only CPU and memory): the lists within `listEveryMs` before a record is due, so each
   * record's rates span about a period from one such reading to the next.
   */
  wantsCounters(at: number, listEveryMs: number): boolean {
    return at - this.lastAt >= this.everyMs - listEveryMs - Math.min(500, this.everyMs / 2);
  }

  /**
   * A list the watch read at `at` (ms): folded into the period. Containers gone from it are
   * forgotten. A list without counters (a report's) leaves the last counters read as they were.
   */
  observe(rows: ContainerRow[], total: number, at: number): void {
    this.total = total;
    const next = new Map<string, Seen>();
    for (const r of rows) {
      const name = r.name.slice(0, CONTAINER_USAGE_NAME_MAX);
      const old = this.seen.get(name);
      const read: Reading = { at, netRxBytes: valid(r.netRxBytes), netTxBytes: valid(r.netTxBytes), blockReadBytes: valid(r.blockReadBytes), blockWriteBytes: valid(r.blockWriteBytes) };
      const reading = old && COUNTERS.every((k) => read[k] === null) ? old.last : read;
      next.set(name, {
        // Cut and checked to what the manager takes: an engine's odd answer must not cost the report.
        state: r.state.slice(0, CONTAINER_USAGE_WORD_MAX), health: r.health?.slice(0, CONTAINER_USAGE_WORD_MAX) ?? null,
        memUsedBytes: valid(r.memUsedBytes), memLimitBytes: valid(r.memLimitBytes),
        cpuSum: (old?.cpuSum ?? 0) + (valid(r.cpuPercent) ?? 0), cpuCount: (old?.cpuCount ?? 0) + (valid(r.cpuPercent) === null ? 0 : 1),
        base: old ? old.base ?? old.last : undefined, last: reading, fresh: true, ...(old?.said ? { said: old.said } : {}),
      });
    }
    this.seen = next;
  }

  /** The engine could not be read: nothing is reported until it can (never an empty list as if it had none). */
  forget(): void {
    this.seen.clear();
    this.total = undefined;
  }

  /**
   * The record when a period has passed since the last one (on the samples' own times, with half
   * a period or 0.5 s of slack for a late timer), else undefined; undefined too while no list was read.
   */
  take(at: number): SampleContainers | undefined {
    if (this.total === undefined) return undefined;
    const slack = Math.min(500, this.everyMs / 2);
    if (at - this.lastAt < this.everyMs - slack) return undefined;
    this.lastAt = at;
    // A record every 10 s and a list every 10 s can meet a period with no new list: it says again
    // what the previous record said rather than a null that reads as "not measured".
    const all = [...this.seen].map(([name, s]) => (!s.fresh && s.said ? s.said : this.row(name, s)));
    // A period starts from here: CPU readings start again, counters from the newest reading.
    all.forEach((r) => {
      const s = this.seen.get(r.name)!;
      s.said = r;
      s.fresh = false;
      s.cpuSum = 0;
      s.cpuCount = 0;
      s.base = s.last;
    });
    const rank = (r: ContainerUsageRow) => (r.state === 'running' ? 1e12 : 0) + (r.cpuPercent ?? 0) * 1e3 + (r.memUsedBytes ?? 0) / 1e9;
    all.sort((a, b) => rank(b) - rank(a) || a.name.localeCompare(b.name));
    const rows = all.slice(0, this.n);
    const rest = all.slice(this.n);
    const count = Math.max(rest.length, this.total - rows.length);
    return { total: this.total, rows, ...(count > 0 ? { other: sumOf(rest, count) } : {}) };
  }

  private row(name: string, s: Seen): ContainerUsageRow {
    const dt = s.base ? (s.last.at - s.base.at) / 1000 : 0;
    const rate = (k: (typeof COUNTERS)[number]): number | null => {
      const a = s.base?.[k];
      const b = s.last[k];
      // No earlier reading, or a counter that went back (the container restarted): not a rate.
      if (a === null || a === undefined || b === null || dt <= 0 || b < a) return null;
      return Math.round(((b - a) / dt) * 10) / 10;
    };
    return {
      name, state: s.state, health: s.health,
      cpuPercent: s.cpuCount ? Math.round((s.cpuSum / s.cpuCount) * 10) / 10 : null,
      memUsedBytes: s.memUsedBytes, memLimitBytes: s.memLimitBytes,
      netRxRate: rate('netRxBytes'), netTxRate: rate('netTxBytes'), blockReadRate: rate('blockReadBytes'), blockWriteRate: rate('blockWriteBytes'),
    };
  }
}

/** A value the manager takes: finite and not negative, else null (not read). */
function valid(v: number | null): number | null {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : null;
}

/** The rest summed: over those that had each value; null when none had it. `count` includes listed but unread ones. */
function sumOf(rows: ContainerUsageRow[], count: number): ContainerUsageOther {
  const keys = ['cpuPercent', 'memUsedBytes', ...RATES] as const;
  const out = { count } as ContainerUsageOther;
  for (const k of keys) {
    const vals = rows.map((r) => r[k]).filter((v): v is number => v !== null);
    (out as ContainerUsageValues)[k] = vals.length ? Math.round(vals.reduce((a, b) => a + b, 0) * 10) / 10 : null;
  }
  return out;
}
