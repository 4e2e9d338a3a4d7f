// The on-disk format of one agent's history file: two header slots (the series list and the tier
// layout, as checksummed JSON, written alternately so a torn header write leaves the other), then
// one fixed-size ring of records per tier. Every record carries its own CRC-32, so a torn write
// spoils that record only; an all-zero record is an empty slot.
//
//   header slot (4 KiB, twice): magic u32 | generation u32 | length u32 | crc u32 | JSON
//   raw record:                 at f64 | flags u32 | values: f32 x maxSeries            | crc u32
//   roll-up record:             at f64 | count u32 | (min, avg, max): f32 x 3 x maxSeries | crc u32

import { crc32 } from 'node:zlib';
import { HwError } from '../errors.ts';

export const MAGIC = 0x48575331; // "HWS1"
export const HEADER_SLOT = 4096;
export const HEADER_BYTES = HEADER_SLOT * 2;
export const FLAG_BACKFILL = 1;

export type TierName = 'raw' | '1m' | '5m' | '1h';

export interface TierSpec {
  name: TierName;
  /** ms per slot */
  step: number;
  slots: number;
}

export interface Tier extends TierSpec {
  offset: number;
  recordSize: number;
  rollup: boolean;
}

export interface Header {
  v: 1;
  agentId: string;
  maxSeries: number;
  /** series names by column; only ever appended to */
  columns: string[];
  tiers: TierSpec[];
}

export function recordSize(rollup: boolean, maxSeries: number): number {
  return 12 + maxSeries * (rollup ? 12 : 4) + 4;
}

/** Where each tier's ring lives: after the header, in order, each a whole number of records. */
export function layout(h: Pick<Header, 'maxSeries' | 'tiers'>): { tiers: Tier[]; size: number } {
  let offset = HEADER_BYTES;
  const tiers = h.tiers.map((t) => {
    const rollup = t.name !== 'raw';
    const size = recordSize(rollup, h.maxSeries);
    const tier: Tier = { ...t, offset, recordSize: size, rollup };
    offset += size * t.slots;
    return tier;
  });
  return { tiers, size: offset };
}

export function sameLayout(a: Pick<Header, 'maxSeries' | 'tiers'>, b: Pick<Header, 'maxSeries' | 'tiers'>): boolean {
  return a.maxSeries === b.maxSeries && a.tiers.length === b.tiers.length
    && a.tiers.every((t, i) => t.name === b.tiers[i]!.name && t.step === b.tiers[i]!.step && t.slots === b.tiers[i]!.slots);
}

export function encodeHeader(h: Header, generation: number): Buffer {
  const json = Buffer.from(JSON.stringify(h), 'utf8');
  if (json.length > HEADER_SLOT - 16) throw new HwError('BAD_ARGS', `history header of ${h.agentId} would be ${json.length} bytes (over ${HEADER_SLOT - 16})`);
  const b = Buffer.alloc(HEADER_SLOT);
  b.writeUInt32BE(MAGIC, 0);
  b.writeUInt32BE(generation >>> 0, 4);
  b.writeUInt32BE(json.length, 8);
  json.copy(b, 16);
  b.writeUInt32BE(crc32(b.subarray(16, 16 + json.length), crc32(b.subarray(0, 12))), 12);
  return b;
}

/** The newer of the two header slots that checks out, or null when neither does. */
export function decodeHeader(both: Buffer): { header: Header; generation: number } | null {
  let best: { header: Header; generation: number } | null = null;
  for (let s = 0; s < 2; s++) {
    const b = both.subarray(s * HEADER_SLOT, (s + 1) * HEADER_SLOT);
    if (b.length < 16 || b.readUInt32BE(0) !== MAGIC) continue;
    const len = b.readUInt32BE(8);
    if (len > HEADER_SLOT - 16) continue;
    if (crc32(b.subarray(16, 16 + len), crc32(b.subarray(0, 12))) !== b.readUInt32BE(12)) continue;
    let header: Header;
    try {
      header = JSON.parse(b.toString('utf8', 16, 16 + len)) as Header;
    } catch {
      continue;
    }
    const generation = b.readUInt32BE(4);
    if (!best || generation > best.generation) best = { header, generation };
  }
  return best;
}

export type RecordState = 'ok' | 'empty' | 'damaged';

/** Checks the record at `off` in `buf` (size `size`): empty slot, damaged, or good. */
export function recordState(buf: Buffer, off: number, size: number): RecordState {
  if (off + size > buf.length) return 'damaged';
  const at = buf.readDoubleLE(off);
  if (at === 0) {
    // A slot never written reads as zeros; anything else with at = 0 is a torn record.
    return buf.readUInt32LE(off + size - 4) === 0 && buf.readUInt32LE(off + 8) === 0 ? 'empty' : 'damaged';
  }
  return crc32(buf.subarray(off, off + size - 4)) === buf.readUInt32LE(off + size - 4) ? 'ok' : 'damaged';
}

export function sealRecord(buf: Buffer, off: number, size: number): void {
  buf.writeUInt32LE(crc32(buf.subarray(off, off + size - 4)), off + size - 4);
}

export function writeRaw(buf: Buffer, off: number, at: number, flags: number, values: Float32Array): void {
  buf.writeDoubleLE(at, off);
  buf.writeUInt32LE(flags, off + 8);
  for (let i = 0; i < values.length; i++) buf.writeFloatLE(values[i]!, off + 12 + i * 4);
  sealRecord(buf, off, recordSize(false, values.length));
}

/** A roll-up: `min`, `avg`, `max` one value a column. */
export function writeRollup(buf: Buffer, off: number, at: number, count: number, min: Float32Array, avg: Float32Array, max: Float32Array): void {
  buf.writeDoubleLE(at, off);
  buf.writeUInt32LE(count, off + 8);
  for (let i = 0; i < avg.length; i++) {
    const o = off + 12 + i * 12;
    buf.writeFloatLE(min[i]!, o);
    buf.writeFloatLE(avg[i]!, o + 4);
    buf.writeFloatLE(max[i]!, o + 8);
  }
  sealRecord(buf, off, recordSize(true, avg.length));
}

export const recordAt = (buf: Buffer, off: number): number => buf.readDoubleLE(off);
/** Raw: flags; roll-up: how many samples it summarises. */
export const recordWord = (buf: Buffer, off: number): number => buf.readUInt32LE(off + 8);
export const rawValue = (buf: Buffer, off: number, col: number): number => buf.readFloatLE(off + 12 + col * 4);
/** which: 0 min, 1 avg, 2 max */
export const rollupValue = (buf: Buffer, off: number, col: number, which: 0 | 1 | 2): number => buf.readFloatLE(off + 12 + col * 12 + which * 4);
