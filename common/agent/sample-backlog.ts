// Samples taken while the agent cannot report (no manager, or not yet accepted), kept to be sent
// as backfill. The reporter sees only this interface, so an on-disk spool can take the place of
// the in-memory ring without the reporter changing. Methods may answer synchronously or with a
// promise; the reporter awaits each.

import type { Sample } from '../collect/types.ts';

/** Samples the agent keeps while it cannot reach a manager, sent as backfill after reconnecting. */
export const BACKFILL_MAX_SAMPLES = 3600;

export interface SampleBacklog {
  /** Keeps a sample. Bounded: past the bound the oldest is dropped and counted. */
  push(sample: Sample): void | Promise<void>;
  /** Up to `max` samples, oldest first, left in place until `drop`. */
  read(max: number): readonly Sample[] | Promise<readonly Sample[]>;
  /** Removes the `n` oldest (they were sent). */
  drop(n: number): void | Promise<void>;
  /** Samples held now. */
  readonly size: number;
  /** Samples dropped by the bound since the previous call. */
  takeDropped(): number;
  /** Releases what it holds open (a spool's file); the samples stay for the next start. */
  close?(): void;
}

/** The backlog in memory: a ring of at most `max` samples. */
export class MemoryBacklog implements SampleBacklog {
  private readonly ring: (Sample | undefined)[];
  private head = 0;
  private count = 0;
  private dropped = 0;

  constructor(max = BACKFILL_MAX_SAMPLES) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError('backlog bound must be a whole number from 1');
    this.ring = new Array(max);
  }

  get size(): number {
    return this.count;
  }

  push(sample: Sample): void {
    const max = this.ring.length;
    if (this.count === max) {
      this.head = (this.head + 1) % max;
      this.count--;
      this.dropped++;
    }
    this.ring[(this.head + this.count) % max] = sample;
    this.count++;
  }

  read(maxItems: number): Sample[] {
    const n = Math.min(maxItems, this.count);
    const out: Sample[] = [];
    for (let i = 0; i < n; i++) out.push(this.ring[(this.head + i) % this.ring.length]!);
    return out;
  }

  drop(n: number): void {
    const k = Math.min(n, this.count);
    for (let i = 0; i < k; i++) this.ring[(this.head + i) % this.ring.length] = undefined;
    this.head = (this.head + k) % this.ring.length;
    this.count -= k;
  }

  takeDropped(): number {
    const d = this.dropped;
    this.dropped = 0;
    return d;
  }
}
