// Range queries: the tier that answers (the coarsest one that covers the range and is still at
// least as fine as the answer's resolution, so no detail is lost and no more is read than shown),
// records downsampled into at most `points` buckets with min, average and max, and the JSON shapes
// of `history` (one agent, every series) and of the fleet query (one series, every agent).

import { HwError } from '../errors.ts';
import type { AgentFile } from './agent-file.ts';
import { FLAG_BACKFILL, rawValue, recordAt, recordState, recordWord, rollupValue, type Tier } from './format.ts';
import { HEADLINE, INTERFACE_FIELDS, MOUNT_FIELDS, parseSeries } from './series.ts';
import { tierSpecs, type HistoryStore } from './store.ts';
import { layout } from './format.ts';

export interface Range {
  from: number;
  to: number;
  points: number;
}

/** Tiers are ordered fine to coarse. */
export function chooseTier<T extends { step: number; slots: number }>(tiers: T[], now: number, r: Range): T {
  let covering = tiers.filter((t) => r.from >= now - t.step * (t.slots - 1));
  if (!covering.length) covering = [tiers[tiers.length - 1]!];
  const wanted = (r.to - r.from) / Math.max(1, r.points);
  const fit = covering.filter((t) => t.step <= wanted);
  return fit.length ? fit[fit.length - 1]! : covering[0]!;
}

interface Rec {
  at: number;
  word: number;
  off: number;
}

/** The good records of a tier with from <= at <= to, in time order (duplicates once). */
function records(file: AgentFile, tier: Tier, from: number, to: number, damaged: (n: number) => void): { buf: Buffer; recs: Rec[] } {
  const margin = tier.rollup ? 0 : 1;
  const first = Math.floor(from / tier.step) - margin;
  const { buf } = file.read(tier, first, Math.floor(to / tier.step) + margin);
  const recs: Rec[] = [];
  let bad = 0;
  for (let off = 0; off + tier.recordSize <= buf.length; off += tier.recordSize) {
    const st = recordState(buf, off, tier.recordSize);
    if (st === 'damaged') bad++;
    if (st !== 'ok') continue;
    const at = recordAt(buf, off);
    const start = tier.rollup ? at + tier.step - 1 : at; // a roll-up bucket overlapping `from` counts
    if (start < from || at > to) continue;
    recs.push({ at, word: recordWord(buf, off), off });
  }
  if (bad) damaged(bad);
  recs.sort((a, b) => a.at - b.at);
  return { buf, recs: recs.filter((r, i) => i === 0 || r.at !== recs[i - 1]!.at) };
}

const round = (v: number): number | null => (Number.isNaN(v) ? null : Number(v.toPrecision(7)));

interface Bucket {
  at: number;
  count: number;
  backfill: boolean;
  min: Float64Array;
  avg: Float64Array;
  max: Float64Array;
}

/** Groups records into buckets of `width` ms from `from` (width 0: one bucket a record). */
function buckets(tier: Tier, buf: Buffer, recs: Rec[], cols: number[], from: number, width: number): Bucket[] {
  const out: Bucket[] = [];
  const weights: Float64Array[] = [];
  let cur: Bucket | undefined;
  let curKey = NaN;
  for (const r of recs) {
    const key = width ? Math.floor((r.at - from) / width) : r.at;
    if (key !== curKey) {
      curKey = key;
      cur = {
        at: width ? from + Math.max(0, key) * width : r.at, count: 0, backfill: true,
        min: new Float64Array(cols.length).fill(Infinity), avg: new Float64Array(cols.length), max: new Float64Array(cols.length).fill(-Infinity),
      };
      out.push(cur);
      weights.push(new Float64Array(cols.length));
    }
    const w = tier.rollup ? r.word : 1;
    const wt = weights[weights.length - 1]!;
    cur!.count += w;
    if (tier.rollup || !(r.word & FLAG_BACKFILL)) cur!.backfill = false;
    cols.forEach((c, i) => {
      const a = tier.rollup ? rollupValue(buf, r.off, c, 1) : rawValue(buf, r.off, c);
      if (Number.isNaN(a)) return;
      const lo = tier.rollup ? rollupValue(buf, r.off, c, 0) : a;
      const hi = tier.rollup ? rollupValue(buf, r.off, c, 2) : a;
      cur!.avg[i]! += a * w;
      wt[i]! += w;
      if (lo < cur!.min[i]!) cur!.min[i] = lo;
      if (hi > cur!.max[i]!) cur!.max[i] = hi;
    });
  }
  out.forEach((b, j) => {
    const wt = weights[j]!;
    for (let i = 0; i < cols.length; i++) {
      if (wt[i]) b.avg[i] = b.avg[i]! / wt[i]!;
      else b.avg[i] = b.min[i] = b.max[i] = NaN;
    }
  });
  return out;
}

function widthFor(tier: Tier, r: Range, n: number): number {
  if (n <= r.points) return 0;
  return tier.step * Math.ceil((r.to - r.from) / (r.points * tier.step));
}

/** One agent's history over a range: the headline series, and per mount / interface on request. */
export function agentHistory(store: HistoryStore, id: string, r: Range, detail: boolean): { tier: string; step: number; points: Record<string, unknown>[]; mounts?: unknown[]; interfaces?: unknown[] } {
  const rd = store.reader(id);
  if (!rd) return { tier: 'raw', step: 0, points: [], ...(detail ? { mounts: [], interfaces: [] } : {}) };
  const { file, now } = rd;
  const tier = chooseTier(file.tiers, now, r);
  const names = file.header.columns;
  const headCols = HEADLINE.map((h) => names.indexOf(h));
  const detailCols = detail ? names.map((n, i) => (parseSeries(n) ? i : -1)).filter((i) => i >= 0) : [];
  const cols = [...headCols.filter((c) => c >= 0), ...detailCols];
  const { buf, recs } = records(file, tier, r.from, r.to, (n) => store.noteDamaged(id, n));
  const width = widthFor(tier, r, recs.length);
  const bs = buckets(tier, buf, recs, cols, r.from, width);
  const aggregated = tier.rollup || width > 0;
  const at = (b: Bucket) => new Date(b.at).toISOString();
  const pick = (b: Bucket, fields: readonly string[], colOf: (f: string) => number): Record<string, unknown> => {
    const p: Record<string, unknown> = { at: at(b) };
    const mins: Record<string, unknown> = {};
    const maxs: Record<string, unknown> = {};
    for (const f of fields) {
      const i = cols.indexOf(colOf(f));
      p[f] = i < 0 ? null : round(b.avg[i]!);
      if (aggregated) {
        mins[f] = i < 0 ? null : round(b.min[i]!);
        maxs[f] = i < 0 ? null : round(b.max[i]!);
      }
    }
    if (aggregated) Object.assign(p, { min: mins, max: maxs, samples: b.count });
    else if (b.backfill) p.backfill = true;
    return p;
  };
  const points = bs.map((b) => pick(b, HEADLINE, (f) => names.indexOf(f)));
  const out: { tier: string; step: number; points: Record<string, unknown>[]; mounts?: unknown[]; interfaces?: unknown[] } = {
    tier: tier.name, step: width || tier.step, points,
  };
  if (detail) {
    const groups = new Map<string, { kind: 'mount' | 'if'; object: string }>();
    for (const c of detailCols) {
      const s = parseSeries(names[c]!)!;
      groups.set(`${s.kind}:${s.object}`, s);
    }
    out.mounts = [];
    out.interfaces = [];
    for (const g of groups.values()) {
      const fields = g.kind === 'mount' ? MOUNT_FIELDS : INTERFACE_FIELDS;
      const colOf = (f: string) => names.indexOf(`${g.kind}:${g.object}:${f}`);
      const pts = bs.map((b) => pick(b, fields, colOf)).filter((p) => fields.some((f) => p[f] !== null));
      if (g.kind === 'mount') out.mounts.push({ mount: g.object, points: pts });
      else out.interfaces.push({ name: g.object, points: pts });
    }
  }
  return out;
}

/** A metric name the fleet query accepts: a headline field or a per-mount / per-interface series. */
export function checkMetric(metric: string): string {
  if ((HEADLINE as readonly string[]).includes(metric)) return metric;
  const s = parseSeries(metric);
  if (s && (s.kind === 'mount' ? (MOUNT_FIELDS as readonly string[]) : (INTERFACE_FIELDS as readonly string[])).includes(s.field)) return metric;
  throw new HwError('BAD_ARGS', `unknown metric "${metric.slice(0, 100)}": one of ${HEADLINE.join(', ')}, or mount:<path>:usedPercent|usedBytes, if:<name>:rxRate|txRate`);
}

/**
 * One metric for many agents on one time grid (for sparklines): `times` are bucket starts, and
 * each agent's `avg`, `min`, `max` hold one value (or null) a bucket.
 */
export function fleetHistory(store: HistoryStore, agents: { id: string; name: string }[], metric: string, r: Range): Record<string, unknown> {
  // The tier is chosen once for everyone, from the default layout (raw steps differ by agent).
  const nominal = layout({ maxSeries: store.maxSeries, tiers: tierSpecs(5000, store.retention) }).tiers;
  const now = store.nowMs();
  const name = chooseTier(nominal, now, r).name;
  const step = nominal.find((t) => t.name === name)!.step;
  const width = Math.max(step, step * Math.ceil((r.to - r.from) / (Math.max(1, r.points) * step)));
  const n = Math.max(1, Math.ceil((r.to - r.from) / width));
  const times = Array.from({ length: n }, (_, i) => r.from + i * width);
  const list: Record<string, unknown>[] = [];
  for (const a of agents) {
    const avg: (number | null)[] = new Array(n).fill(null);
    const min: (number | null)[] = new Array(n).fill(null);
    const max: (number | null)[] = new Array(n).fill(null);
    const rd = store.reader(a.id);
    const col = rd?.file.column(metric);
    const tier = rd?.file.tiers.find((t) => t.name === name);
    if (rd && tier && col !== undefined) {
      const { buf, recs } = records(rd.file, tier, r.from, r.to, (k) => store.noteDamaged(a.id, k));
      const sum = new Float64Array(n);
      const wsum = new Float64Array(n);
      for (const rec of recs) {
        const k = Math.min(n - 1, Math.max(0, Math.floor((rec.at - r.from) / width)));
        const v = tier.rollup ? rollupValue(buf, rec.off, col, 1) : rawValue(buf, rec.off, col);
        if (Number.isNaN(v)) continue;
        const w = tier.rollup ? rec.word : 1;
        const lo = tier.rollup ? rollupValue(buf, rec.off, col, 0) : v;
        const hi = tier.rollup ? rollupValue(buf, rec.off, col, 2) : v;
        sum[k]! += v * w;
        wsum[k]! += w;
        if (min[k] === null || lo < min[k]!) min[k] = lo;
        if (max[k] === null || hi > max[k]!) max[k] = hi;
      }
      for (let k = 0; k < n; k++) {
        if (wsum[k]) avg[k] = round(sum[k]! / wsum[k]!);
        if (min[k] !== null) min[k] = round(min[k]!);
        if (max[k] !== null) max[k] = round(max[k]!);
      }
    }
    list.push({ agent: a.name, agentId: a.id, avg, min, max });
  }
  return { metric, tier: name, step: width, from: r.from, to: r.to, times, agents: list };
}
