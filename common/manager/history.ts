// Per-agent history of samples for `manager history` (and later charts): a ring of fixed size in
// typed arrays (36 bytes a point), kept in time order even when backfilled samples arrive late.

import type { Metrics } from '../metrics/types.ts';

export const HISTORY_FIELDS = ['cpuPercent', 'memPercent', 'diskPercent', 'netRxRate', 'netTxRate', 'netRxBytes', 'netTxBytes', 'processCount'] as const;
export type HistoryField = (typeof HISTORY_FIELDS)[number];
export type HistoryPoint = { at: number; backfill?: boolean } & Record<HistoryField, number | null>;

const F = HISTORY_FIELDS.length;

export class History {
  readonly capacity: number;
  private times: Float64Array;
  private values: Float32Array;
  private flags: Uint8Array;
  private start = 0;
  private size = 0;

  constructor(capacity: number) {
    this.capacity = Math.max(1, capacity);
    // Grows by doubling up to capacity: most agents never fill it in a short run.
    const initial = Math.min(this.capacity, 64);
    this.times = new Float64Array(initial);
    this.values = new Float32Array(initial * F);
    this.flags = new Uint8Array(initial);
  }

  get length(): number {
    return this.size;
  }

  get lastAt(): number {
    return this.size ? this.times[this.phys(this.size - 1)]! : -Infinity;
  }

  add(at: number, m: Metrics, backfill = false): void {
    if (this.size && at <= this.lastAt) {
      this.insertOld(at, m, backfill);
      return;
    }
    if (this.size === this.times.length && this.size < this.capacity) this.grow();
    let slot: number;
    if (this.size < this.times.length) {
      slot = this.phys(this.size);
      this.size++;
    } else {
      slot = this.start; // full: overwrite the oldest
      this.start = (this.start + 1) % this.times.length;
    }
    this.write(slot, at, m, backfill);
  }

  /** Points with at >= since, oldest first. */
  since(since = -Infinity, limit = Infinity): HistoryPoint[] {
    const out: HistoryPoint[] = [];
    for (let i = 0; i < this.size; i++) {
      const p = this.phys(i);
      const at = this.times[p]!;
      if (at < since) continue;
      out.push(this.read(p));
    }
    return out.length > limit ? out.slice(-limit) : out;
  }

  private phys(i: number): number {
    return (this.start + i) % this.times.length;
  }

  private write(slot: number, at: number, m: Metrics, backfill: boolean): void {
    this.times[slot] = at;
    for (let f = 0; f < F; f++) {
      const v = m[HISTORY_FIELDS[f]!];
      this.values[slot * F + f] = typeof v === 'number' ? v : NaN;
    }
    this.flags[slot] = backfill ? 1 : 0;
  }

  private read(slot: number): HistoryPoint {
    const p = { at: this.times[slot]! } as HistoryPoint;
    for (let f = 0; f < F; f++) {
      const v = this.values[slot * F + f]!;
      p[HISTORY_FIELDS[f]!] = Number.isNaN(v) ? null : v;
    }
    if (this.flags[slot]) p.backfill = true;
    return p;
  }

  private grow(): void {
    const n = Math.min(this.capacity, this.times.length * 2);
    const times = new Float64Array(n);
    const values = new Float32Array(n * F);
    const flags = new Uint8Array(n);
    for (let i = 0; i < this.size; i++) {
      const p = this.phys(i);
      times[i] = this.times[p]!;
      values.set(this.values.subarray(p * F, p * F + F), i * F);
      flags[i] = this.flags[p]!;
    }
    this.times = times;
    this.values = values;
    this.flags = flags;
    this.start = 0;
  }

  /** A late (backfilled) point: rare, so rebuild in order rather than complicate the ring. */
  private insertOld(at: number, m: Metrics, backfill: boolean): void {
    const pts = this.since();
    if (pts.some((p) => p.at === at)) return; // already have it (a resend)
    if (pts.length >= this.capacity && at < pts[0]!.at) return; // older than everything kept
    pts.push({ at, backfill, ...Object.fromEntries(HISTORY_FIELDS.map((k) => [k, typeof m[k] === 'number' ? m[k] : null])) } as HistoryPoint);
    pts.sort((a, b) => a.at - b.at);
    this.start = 0;
    this.size = 0;
    for (const p of pts.slice(-this.capacity)) {
      if (this.size === this.times.length && this.size < this.capacity) this.grow();
      this.write(this.size, p.at, p as unknown as Metrics, !!p.backfill);
      this.size++;
    }
  }
}
