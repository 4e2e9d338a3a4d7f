// Small field checkers for messages that arrive from a peer: each throws HwError('BAD_MESSAGE')
// naming the field, so nothing unchecked reaches the logic.

import { HwError } from '../errors.ts';

export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function bad(field: string, want: string): never {
  throw new HwError('BAD_MESSAGE', `field "${field}" must be ${want}`);
}

export function str(o: Obj, k: string, max = 256): string {
  const v = o[k];
  if (typeof v !== 'string' || v.length > max) bad(k, `a string of at most ${max} characters`);
  return v;
}
export function optStr(o: Obj, k: string, max = 256): string | undefined {
  return o[k] === undefined ? undefined : str(o, k, max);
}
export function num(o: Obj, k: string): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isFinite(v)) bad(k, 'a finite number');
  return v;
}
/** A number within [min, max], or BAD_MESSAGE naming the field and the bounds. */
export function numIn(o: Obj, k: string, min: number, max: number): number {
  const v = num(o, k);
  if (v < min || v > max) throw new HwError('BAD_MESSAGE', `field "${k}" must be from ${min} to ${max}`);
  return v;
}

export function numOrNull(o: Obj, k: string): number | null {
  const v = o[k];
  if (v === null || v === undefined) return null;
  return num(o, k);
}
export function int(o: Obj, k: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) bad(k, `an integer from ${min} to ${max}`);
  return v;
}
export function bool(o: Obj, k: string): boolean {
  const v = o[k];
  if (typeof v !== 'boolean') bad(k, 'true or false');
  return v;
}
export function optBool(o: Obj, k: string): boolean | undefined {
  return o[k] === undefined ? undefined : bool(o, k);
}
export function obj(o: Obj, k: string): Obj {
  const v = o[k];
  if (!isObj(v)) bad(k, 'an object');
  return v;
}
export function oneOf<T extends string>(o: Obj, k: string, values: readonly T[]): T {
  const v = o[k];
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) bad(k, `one of ${values.join(', ')}`);
  return v as T;
}
export function arr(o: Obj, k: string, max: number): unknown[] {
  const v = o[k];
  if (!Array.isArray(v) || v.length > max) bad(k, `an array of at most ${max} items`);
  return v;
}
export function strRecord(o: Obj, k: string, maxKeys = 64, maxLen = 512): Record<string, string> | undefined {
  const v = o[k];
  if (v === undefined) return undefined;
  if (!isObj(v)) bad(k, 'an object of strings');
  const keys = Object.keys(v);
  if (keys.length > maxKeys) bad(k, `an object of at most ${maxKeys} keys`);
  const out: Record<string, string> = {};
  for (const key of keys) out[key.slice(0, 64)] = str(v, key, maxLen);
  return out;
}
