// Every sample the agent takes is kept here, numbered, until the manager says it is in its history
// on disk (acked-samples) or, with an older manager, until it is handed to the connection. The
// reporter sees only this interface, so the on-disk spool (sample-spool.ts) and the in-memory ring
// below are interchangeable.

import { randomUUID } from 'node:crypto';
import type { Sample } from '../collect/types.ts';
import type { SamplesLost } from '../wire/messages.ts';

/** Samples the agent keeps in memory (no state folder, or the disk refusing writes). */
export const BACKFILL_MAX_SAMPLES = 3600;

export interface Kept {
  seq: number;
  sample: Sample;
}

/** Samples dropped by a bound (or unreadable), with the span of their times when known. */
export type Lost = Omit<SamplesLost, 'type'>;

/** Inclusive ranges of sample numbers. */
export type SeqRanges = readonly (readonly [number, number])[];

export interface SampleBacklog {
  /** Names this numbering; a new one whenever the numbering starts again. */
  readonly epoch: string;
  /**
   * Keeps a sample until acknowledged; returns its number (one more than the previous). `sync`
   * false: on its way to the manager at once, so a power cut before the next sync may lose it
   * here (not a process kill); true (the default): it exists nowhere else yet.
   */
  push(sample: Sample, sync?: boolean): number;
  /** Makes what was kept without sync survive a power cut too (the connection was lost). */
  sync?(): void;
  /** Up to `max` unacknowledged samples numbered `from` or more, in order. */
  read(from: number, max: number): Kept[];
  /** The manager has these: they are forgotten. */
  ack(ranges: SeqRanges): void;
  /** Unacknowledged samples held. */
  readonly size: number;
  /** Samples dropped since the previous call, or null. */
  takeLost(): Lost | null;
  /** Releases what it holds open (a spool's file); the samples stay for the next start. */
  close?(): void;
}

/** Adds `count` lost samples to a running account (the latest reason names it). */
export function addLost(into: Lost | null, reason: Lost['reason'], count: number, firstAt?: number, lastAt?: number): Lost {
  const l: Lost = into ?? { count: 0, reason };
  l.reason = reason;
  l.count += count;
  if (firstAt !== undefined && (l.firstAt === undefined || firstAt < l.firstAt)) l.firstAt = firstAt;
  if (lastAt !== undefined && (l.lastAt === undefined || lastAt > l.lastAt)) l.lastAt = lastAt;
  return l;
}

/** Index of the first entry of `list` (ordered by seq) numbered `seq` or more. */
export function firstAtOrAfter(list: readonly { seq: number }[], seq: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]!.seq < seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The backlog in memory: at most `max` unacknowledged samples, the oldest dropped past it. */
export class MemoryBacklog implements SampleBacklog {
  readonly epoch = randomUUID();
  private items: (Kept & { acked?: boolean })[] = [];
  private next = 0;
  private count = 0;
  private lost: Lost | null = null;
  private readonly max: number;

  constructor(max = BACKFILL_MAX_SAMPLES) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError('backlog bound must be a whole number from 1');
    this.max = max;
  }

  get size(): number {
    return this.count;
  }

  push(sample: Sample): number {
    const seq = this.next++;
    this.items.push({ seq, sample });
    this.count++;
    while (this.count > this.max) {
      const old = this.items.shift()!;
      if (old.acked) continue;
      this.count--;
      this.lost = addLost(this.lost, 'memory-full', 1, old.sample.at, old.sample.at);
    }
    return seq;
  }

  read(from: number, max: number): Kept[] {
    const out: Kept[] = [];
    for (let i = firstAtOrAfter(this.items, from); i < this.items.length && out.length < max; i++) {
      const k = this.items[i]!;
      if (!k.acked) out.push({ seq: k.seq, sample: k.sample });
    }
    return out;
  }

  ack(ranges: SeqRanges): void {
    for (const [from, to] of ranges) {
      for (let i = firstAtOrAfter(this.items, from); i < this.items.length && this.items[i]!.seq <= to; i++) {
        const k = this.items[i]!;
        if (!k.acked) {
          k.acked = true;
          this.count--;
        }
      }
    }
    let n = 0;
    while (n < this.items.length && this.items[n]!.acked) n++;
    if (n) this.items.splice(0, n);
  }

  takeLost(): Lost | null {
    const l = this.lost;
    this.lost = null;
    return l;
  }
}
