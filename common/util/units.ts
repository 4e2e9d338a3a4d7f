// Durations and sizes as people write them: one grammar each for every flag, config key, API field
// and console word, so `--for 90`, `for: 90` and `{"for": "90"}` all mean 90 seconds. Percentages
// and counts for rule thresholds too. Each parser returns the number or a message saying what is
// accepted; a config file places the message at its line.

import { HwError } from '../errors.ts';

/** A parsed value, or a message saying what is accepted (a config file places it at its line). */
export type Parsed = { ok: true; value: number } | { ok: false; error: string };

const DURATION_UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };
export const DURATION_HINT = 'a number of seconds, or 500ms, 30s, 10m, 1h30m, 2d, 1w';
const NUM = String.raw`\d+(?:\.\d+)?|\.\d+`;
const DURATION_RE = new RegExp(String.raw`^(?:(?:${NUM})\s*(?:ms|s|m|h|d|w)\s*)+$`);
const PART_RE = new RegExp(String.raw`(${NUM})\s*(ms|s|m|h|d|w)`, 'g');

/** Seconds from a bare number (`90`, `"90"`, `"1.5"`) or `500ms`, `30s`, `10m`, `1h30m`, `2d`, `1w`. */
export function parseDuration(v: unknown): Parsed {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? { ok: true, value: v } : { ok: false, error: `bad duration ${v}: ${DURATION_HINT}` };
  const s = typeof v === 'string' ? v.trim() : '';
  if (new RegExp(`^(?:${NUM})$`).test(s)) return { ok: true, value: Number(s) };
  if (!DURATION_RE.test(s)) return { ok: false, error: `bad duration "${String(v).slice(0, 40)}": ${DURATION_HINT}` };
  let total = 0;
  for (const m of s.matchAll(PART_RE)) total += Number(m[1]) * DURATION_UNITS[m[2]!]!;
  return { ok: true, value: Math.round(total * 1000) / 1000 };
}

/** A duration in ms, or BAD_ARGS naming `what` (a flag, a field) and the accepted forms. */
export function durationMs(v: unknown, what: string): number {
  const r = parseDuration(v);
  if (!r.ok) throw new HwError('BAD_ARGS', `${what}: ${r.error}`);
  return Math.round(r.value * 1000);
}

// k, M, G, T alone are powers of 1024 as in `head -c 10k`, `ulimit` and `dd`; KB/MB/GB are SI and
// KiB/MiB/GiB binary, as written; bits for rates (100Mbit).
const SIZE_UNITS: Record<string, number> = {
  b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4,
  kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4,
  bit: 1 / 8, kbit: 1e3 / 8, mbit: 1e6 / 8, gbit: 1e9 / 8, tbit: 1e12 / 8,
};
export const SIZE_HINT = 'a number of bytes, or 64k, 32M, 1G (KiB, MiB, GiB), 500KB, 100MB (1000s), 1.5GiB';
const RATE_HINT = `${SIZE_HINT}, 100Mbit, 1Gbit (per second for rates)`;

/**
 * Bytes from a bare number or `64k`, `32M`, `1.5GiB`, `100MB`; with `rate` (the default, for rule
 * thresholds) also bits and a `/s` suffix: `1Gbit`, `10MB/s`.
 */
export function parseSize(v: unknown, o: { rate?: boolean } = {}): Parsed {
  const rate = o.rate ?? true;
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? { ok: true, value: v } : { ok: false, error: `bad size ${v}: ${rate ? RATE_HINT : SIZE_HINT}` };
  const s = typeof v === 'string' ? v.trim() : '';
  const m = new RegExp(String.raw`^(${NUM})\s*([a-zA-Z]+)?(/s)?$`).exec(s);
  const unit = m?.[2]?.toLowerCase() ?? 'b';
  const factor = SIZE_UNITS[unit];
  if (!m || factor === undefined || (!rate && (m[3] || unit.endsWith('bit')))) {
    return { ok: false, error: `bad size "${String(v).slice(0, 40)}": ${rate ? RATE_HINT : SIZE_HINT}` };
  }
  return { ok: true, value: Number(m[1]) * factor };
}

/** A size in whole bytes, or BAD_ARGS naming `what` and the accepted forms. */
export function sizeBytes(v: unknown, what: string): number {
  const r = parseSize(v, { rate: false });
  if (!r.ok) throw new HwError('BAD_ARGS', `${what}: ${r.error}`);
  return Math.round(r.value);
}

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
