// The agent's answer to `services`, checked at the manager before anyone reads it: every field
// typed and bounded, so a broken or hostile agent cannot hand the CLI or the dashboard anything else.
import { HwError } from '../errors.ts';
import type { ServiceRow, ServicesResult } from '../api/types.ts';

/** Rows a manager takes in one answer (the agent sends at most 1,000). */
const MAX_ROWS = 5000;
const TEXT_MAX = 256;

const bad = (what: string) => new HwError('BAD_MESSAGE', `services answer: ${what}`);

function text(o: Record<string, unknown>, k: string): string {
  const v = o[k];
  if (typeof v !== 'string' || v.length > TEXT_MAX) throw bad(`"${k}" must be a string of at most ${TEXT_MAX} characters`);
  return v;
}

function count(o: Record<string, unknown>, k: string): number {
  const v = o[k];
  if (!Number.isSafeInteger(v) || (v as number) < 0) throw bad(`"${k}" must be a whole number`);
  return v as number;
}

export function checkServicesResult(v: unknown): ServicesResult {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw bad('not an object');
  const o = v as Record<string, unknown>;
  if (!Array.isArray(o.services) || o.services.length > MAX_ROWS) throw bad(`"services" must be a list of at most ${MAX_ROWS}`);
  const services = o.services.map((x): ServiceRow => {
    if (x === null || typeof x !== 'object' || Array.isArray(x)) throw bad('a service must be an object');
    const s = x as Record<string, unknown>;
    if (typeof s.running !== 'boolean' || typeof s.failed !== 'boolean') throw bad('"running" and "failed" must be true or false');
    const row: ServiceRow = { name: text(s, 'name'), description: text(s, 'description'), active: text(s, 'active'), sub: text(s, 'sub'), running: s.running, failed: s.failed };
    // Newer fields, absent from agents that do not send them.
    if (s.result !== undefined) row.result = text(s, 'result');
    if (s.since !== undefined) row.since = text(s, 'since');
    if (s.exitStatus !== undefined) {
      if (!Number.isSafeInteger(s.exitStatus)) throw bad('"exitStatus" must be a whole number');
      row.exitStatus = s.exitStatus as number;
    }
    return row;
  });
  const r: ServicesResult = { source: text(o, 'source'), services, total: count(o, 'total'), failedCount: count(o, 'failedCount') };
  if (o.omitted !== undefined) r.omitted = count(o, 'omitted');
  return r;
}
