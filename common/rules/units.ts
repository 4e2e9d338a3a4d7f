// Values with units in the config file: durations (3s, 2m, 1h30m), sizes and rates (100MB, 1.5GiB,
// 1Gbit, with or without /s), percentages (90 or 90%). Each parser returns the number or a message
// saying what is accepted; the caller places the message at its line.

export type Parsed = { ok: true; value: number } | { ok: false; error: string };

const DURATION_UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400 };

/** Seconds from `3s`, `2m`, `1h30m`, `500ms` or a bare number of seconds. */
export function parseDuration(v: unknown): Parsed {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? { ok: true, value: v } : { ok: false, error: `bad duration ${v}` };
  const s = String(v).trim();
  if (!/^(\d+(\.\d+)?(ms|s|m|h|d))+$/.test(s)) return { ok: false, error: `bad duration "${s}": use a number of seconds or 30s, 2m, 1h30m, 1d` };
  let total = 0;
  for (const m of s.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) total += Number(m[1]) * DURATION_UNITS[m[2]!]!;
  return { ok: true, value: Math.round(total * 1000) / 1000 };
}

const SIZE_UNITS: Record<string, number> = {
  b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4,
  bit: 1 / 8, kbit: 1e3 / 8, mbit: 1e6 / 8, gbit: 1e9 / 8, tbit: 1e12 / 8,
};

/** Bytes (or bytes per second) from `100MB`, `1.5GiB`, `1Gbit`, `10MB/s`, `1Gbit/s` or a bare number. */
export function parseSize(v: unknown): Parsed {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? { ok: true, value: v } : { ok: false, error: `bad size ${v}` };
  const s = String(v).trim();
  const m = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]+)?(\/s)?$/.exec(s);
  const unit = m?.[2]?.toLowerCase() ?? 'b';
  const factor = SIZE_UNITS[unit];
  if (!m || factor === undefined) return { ok: false, error: `bad unit in "${s}": use a number of bytes or 500KB, 100MB, 1.5GiB, 100Mbit, 1Gbit (per second for rates)` };
  return { ok: true, value: Number(m[1]) * factor };
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
