// Values with units in the config file's rules: durations (3s, 2m, 1h30m), sizes and rates (100MB,
// 1.5GiB, 1Gbit, with or without /s), percentages (90 or 90%). Each parser returns the number or a message
// saying what is accepted; the caller places the message at its line.

import type { Parsed } from '../util/units.ts';

// Durations and sizes have one grammar for every flag, key and field of the program (common/util).
export { parseDuration, parseSize, type Parsed } from '../util/units.ts';

/** A percentage from 0 to 100, as `90` or `"90%"`. */
export function parsePercent(v: unknown): Parsed {
  const s = typeof v === 'number' ? String(v) : String(v).trim().replace(/%$/, '');
  const n = /^\d+(\.\d+)?$/.test(s) ? Number(s) : NaN;
  if (!(n >= 0 && n <= 100)) return { ok: false, error: `bad percentage "${String(v)}": a number from 0 to 100` };
  return { ok: true, value: n };
}

/** A plain count (processes). */
export function parseCount(v: unknown): Parsed {
  const n = typeof v === 'number' ? v : /^\d+$/.test(String(v).trim()) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < 0) return { ok: false, error: `bad count "${String(v)}": a whole number` };
  return { ok: true, value: n };
}
