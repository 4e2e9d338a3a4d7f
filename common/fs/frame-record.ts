// One framing for the append-only logs (the notification outbox, the process history): a record is
// [u32 length][u32 crc32][JSON], so a torn or damaged tail is found where it starts.

import { crc32 } from 'node:zlib';

/** Bytes before each record's JSON: its length and its CRC-32. */
export const FRAME_HEADER = 8;

/** Encodes one record with its length and checksum. */
export function frameRecord(rec: unknown): Buffer {
  const json = Buffer.from(JSON.stringify(rec));
  const out = Buffer.allocUnsafe(FRAME_HEADER + json.length);
  out.writeUInt32BE(json.length, 0);
  out.writeUInt32BE(crc32(json), 4);
  json.copy(out, FRAME_HEADER);
  return out;
}
