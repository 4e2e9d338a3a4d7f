// GET /api/sparklines: one small series per agent (CPU over the last hour by default), averaged
// into `points` buckets from the history the manager keeps, so the fleet page draws 1,000
// sparklines from one request instead of 1,000.

import { HwError } from '../errors.ts';
import { HISTORY_FIELDS, type HistoryField } from '../manager/history.ts';
import type { ManagerState } from '../manager/state.ts';

/** Every open dashboard asks for the same series on load: one computation serves them for a while. */
const CACHE_MS = 10_000;
const cache = new WeakMap<ManagerState, Map<string, { at: number; value: Record<string, unknown> }>>();

export function sparklines(state: ManagerState, url: URL, now: number): Record<string, unknown> {
  const key = `${url.searchParams.get('field')}|${url.searchParams.get('minutes')}|${url.searchParams.get('points')}`;
  let byKey = cache.get(state);
  if (!byKey) cache.set(state, (byKey = new Map()));
  const hit = byKey.get(key);
  if (hit && now - hit.at < CACHE_MS) return hit.value;
  const value = compute(state, url, now);
  if (byKey.size > 20) byKey.clear();
  byKey.set(key, { at: now, value });
  return value;
}

function compute(state: ManagerState, url: URL, now: number): Record<string, unknown> {
  const field = (url.searchParams.get('field') ?? 'cpuPercent') as HistoryField;
  if (!HISTORY_FIELDS.includes(field)) throw new HwError('BAD_ARGS', `field must be one of ${HISTORY_FIELDS.join(', ')}`);
  const minutes = Number(url.searchParams.get('minutes') ?? 60);
  const points = Number(url.searchParams.get('points') ?? 60);
  if (!(minutes > 0 && minutes <= 24 * 60)) throw new HwError('BAD_ARGS', 'minutes must be from 1 to 1440');
  if (!(Number.isInteger(points) && points >= 2 && points <= 500)) throw new HwError('BAD_ARGS', 'points must be a whole number from 2 to 500');
  const from = now - minutes * 60_000;
  const step = (now - from) / points;
  const agents: Record<string, (number | null)[]> = {};
  for (const rec of state.all()) {
    if (rec.trust !== 'accepted') continue;
    const sums = new Float64Array(points);
    const counts = new Uint32Array(points);
    for (const p of state.history(rec.id)?.since(from) ?? []) {
      const v = p[field];
      if (v === null || v === undefined) continue;
      const i = Math.min(points - 1, Math.floor((p.at - from) / step));
      sums[i] += v;
      counts[i]++;
    }
    agents[rec.id] = Array.from(sums, (s, i) => (counts[i] ? Math.round((s / counts[i]!) * 10) / 10 : null));
  }
  return { field, from: new Date(from).toISOString(), to: new Date(now).toISOString(), stepMs: step, agents };
}
