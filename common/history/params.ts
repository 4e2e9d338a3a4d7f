// The query string of the history endpoints: from/to (ms since epoch, or since= as the older
// clients send), points, and series=all for the per-mount and per-interface series.

import { HwError } from '../errors.ts';
import type { Range } from './query.ts';

/** Points a history answer has at most when the caller gives none. */
export const HISTORY_DEFAULT_POINTS = 1000;
export const HISTORY_MAX_POINTS = 10_000;

function ms(q: URLSearchParams, k: string): number | undefined {
  const v = q.get(k);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new HwError('BAD_ARGS', `${k} must be a time in ms since the epoch, not "${v.slice(0, 40)}"`);
  return n;
}

export function parseRange(q: URLSearchParams, now: number): Range & { detail: boolean } {
  const to = ms(q, 'to') ?? now;
  const from = ms(q, 'from') ?? ms(q, 'since') ?? to - 3600_000;
  if (from >= to) throw new HwError('BAD_ARGS', `from (${from}) must be before to (${to})`);
  const p = q.get('points');
  const points = p === null ? HISTORY_DEFAULT_POINTS : Number(p);
  if (!Number.isInteger(points) || points < 1 || points > HISTORY_MAX_POINTS) {
    throw new HwError('BAD_ARGS', `points must be a whole number from 1 to ${HISTORY_MAX_POINTS}`);
  }
  const series = q.get('series');
  if (series !== null && series !== 'all' && series !== 'headline') throw new HwError('BAD_ARGS', 'series must be "all" or "headline"');
  return { from, to, points, detail: series === 'all' };
}
