// GET /api/sparklines: one small series per agent (CPU over the last hour by default), averaged
// into about `points` buckets by the history store's fleet query, so the fleet page draws 1,000
// sparklines from one request instead of 1,000. The minute under way is not rolled up yet: the
// last point is its raw samples' mean, so a host shows from its first samples, not a minute later.

import { HwError } from '../errors.ts';
import { checkMetric, fleetHistory } from '../history/query.ts';
import type { ManagerState } from '../manager/state.ts';

/** Every open dashboard asks for the same series on load: one computation serves them for a while. */
const CACHE_MS = 10_000;
const cache = new WeakMap<ManagerState, Map<string, { at: number; value: Record<string, unknown> }>>();

export function sparklines(state: ManagerState, q: URLSearchParams, now: number): Record<string, unknown> {
  const key = `${q.get('field')}|${q.get('minutes')}|${q.get('points')}`;
  let byKey = cache.get(state);
  if (!byKey) cache.set(state, (byKey = new Map()));
  const hit = byKey.get(key);
  if (hit && now - hit.at < CACHE_MS) return hit.value;
  const value = compute(state, q, now);
  if (byKey.size > 20) byKey.clear();
  byKey.set(key, { at: now, value });
  return value;
}

type FleetSeries = { step: number; agents: { agentId: string; avg: (number | null)[] }[] };

function compute(state: ManagerState, q: URLSearchParams, now: number): Record<string, unknown> {
  const field = checkMetric(q.get('field') ?? 'cpuPercent');
  const minutes = Number(q.get('minutes') ?? 60);
  const points = Number(q.get('points') ?? 60);
  if (!(minutes > 0 && minutes <= 24 * 60)) throw new HwError('BAD_ARGS', 'minutes must be from 1 to 1440');
  if (!(Number.isInteger(points) && points >= 2 && points <= 500)) throw new HwError('BAD_ARGS', 'points must be a whole number from 2 to 500');
  const from = now - minutes * 60_000;
  const accepted = [...state.all()].filter((rec) => rec.trust === 'accepted');
  const agents: Record<string, (number | null)[]> = {};
  if (!state.history) return { field, from: new Date(from).toISOString(), to: new Date(now).toISOString(), stepMs: (now - from) / points, agents };
  const fleet = fleetHistory(state.history, accepted, field, { from, to: now, points }) as FleetSeries;
  for (const a of fleet.agents) agents[a.agentId] = a.avg;
  if (fleet.step === 60_000) {
    // More points than the minute holds samples: the query answers from the raw tier.
    const open = fleetHistory(state.history, accepted, field, { from: Math.floor(now / 60_000) * 60_000, to: now, points: 120 }) as FleetSeries;
    for (const a of open.agents) {
      const s = agents[a.agentId];
      const known = a.avg.filter((v): v is number => v !== null);
      if (s && known.length && s[s.length - 1] === null) s[s.length - 1] = Math.round((known.reduce((x, y) => x + y, 0) / known.length) * 100) / 100;
    }
  }
  return { field, from: new Date(from).toISOString(), to: new Date(now).toISOString(), stepMs: fleet.step, agents };
}
