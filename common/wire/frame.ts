// Length-prefixed frames over any byte stream (plain TCP today, TLS tomorrow).
//
//   0      4      5
//   +------+------+----------------+
//   | len  | kind | body (len B)   |   len: uint32 big-endian, body bytes only
//   +------+------+----------------+
//
// kind 1: a JSON message (UTF-8). kind 2: a data chunk, body = uint32 stream id + raw bytes.
// The decoder rejects a bad length as soon as the 5 header bytes are in, before buffering any body.
// A data frame is handed on as the slices of the chunks it arrived in (a TLS socket delivers 16 KiB
// at most at a time): reassembling it into one buffer was a tenth of the manager's CPU on a download,
// and whoever forwards it writes the slices as they are.

import { MAX_FRAME_BYTES } from './constants.ts';
import { HwError } from '../errors.ts';

export const HEADER_BYTES = 5;
export const KIND_JSON = 1;
export const KIND_DATA = 2;

export type Frame =
  | { kind: typeof KIND_JSON; body: Buffer }
  | { kind: typeof KIND_DATA; stream: number; data: Buffer[]; bytes: number };

export function encodeJson(value: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(value), 'utf8');
  if (body.length > MAX_FRAME_BYTES) {
    throw new HwError('FRAME_TOO_LARGE', `message of ${body.length} bytes exceeds ${MAX_FRAME_BYTES}`);
  }
  const out = Buffer.allocUnsafe(HEADER_BYTES + body.length);
  out.writeUInt32BE(body.length, 0);
  out[4] = KIND_JSON;
  body.copy(out, HEADER_BYTES);
  return out;
}

/** Several JSON messages as consecutive frames in one buffer (one allocation for them all). */
export function encodeJsonAll(values: readonly unknown[]): Buffer {
  const bodies = values.map((v) => JSON.stringify(v));
  let total = 0;
  const lengths = bodies.map((b) => {
    const n = Buffer.byteLength(b, 'utf8');
    if (n > MAX_FRAME_BYTES) throw new HwError('FRAME_TOO_LARGE', `message of ${n} bytes exceeds ${MAX_FRAME_BYTES}`);
    total += HEADER_BYTES + n;
    return n;
  });
  const out = Buffer.allocUnsafe(total);
  let off = 0;
  for (let i = 0; i < bodies.length; i++) {
    out.writeUInt32BE(lengths[i]!, off);
    out[off + 4] = KIND_JSON;
    off += HEADER_BYTES;
    off += out.write(bodies[i]!, off, 'utf8');
  }
  return out;
}

/** Header for a data chunk; send it followed by `data` (no copy of the chunk). */
export function encodeDataHeader(stream: number, dataLength: number): Buffer {
  const len = 4 + dataLength;
  if (len > MAX_FRAME_BYTES) throw new HwError('FRAME_TOO_LARGE', `data chunk of ${dataLength} bytes is too large`);
  const out = Buffer.allocUnsafe(HEADER_BYTES + 4);
  out.writeUInt32BE(len, 0);
  out[4] = KIND_DATA;
  out.writeUInt32BE(stream >>> 0, 5);
  return out;
}

export class FrameDecoder {
  private buffers: Buffer[] = [];
  private buffered = 0;
  private need = -1; // body length of the frame in progress, -1 while waiting for a header
  private kind = 0;
  private readonly maxBody: number;

  constructor(maxBody = MAX_FRAME_BYTES) {
    this.maxBody = maxBody;
  }

  /** Bytes held while waiting for the rest of a frame. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /**
   * Feeds a chunk; returns the frames it completed. Throws HwError (FRAME_TOO_LARGE, FRAME_EMPTY,
   * FRAME_KIND) on a bad header: the stream is then unusable and the caller must close it.
   */
  push(chunk: Buffer): Frame[] {
    if (chunk.length > 0) {
      this.buffers.push(chunk);
      this.buffered += chunk.length;
    }
    const frames: Frame[] = [];
    for (;;) {
      if (this.need < 0) {
        if (this.buffered < HEADER_BYTES) return frames;
        const header = this.take(HEADER_BYTES);
        const len = header.readUInt32BE(0);
        const kind = header[4]!;
        if (kind !== KIND_JSON && kind !== KIND_DATA) {
          throw new HwError('FRAME_KIND', `unknown frame kind ${kind}`);
        }
        if (len > this.maxBody) {
          throw new HwError('FRAME_TOO_LARGE', `frame of ${len} bytes exceeds the limit of ${this.maxBody}`);
        }
        if (len === 0 || (kind === KIND_DATA && len < 4)) {
          throw new HwError('FRAME_EMPTY', `frame of kind ${kind} with length ${len}`);
        }
        this.need = len;
        this.kind = kind;
      }
      if (this.buffered < this.need) return frames;
      const n = this.need;
      this.need = -1;
      if (this.kind === KIND_JSON) {
        frames.push({ kind: KIND_JSON, body: this.take(n) });
      } else {
        const stream = this.take(4).readUInt32BE(0);
        frames.push({ kind: KIND_DATA, stream, data: this.takeSlices(n - 4), bytes: n - 4 });
      }
    }
  }

  /** The next `n` bytes as slices of the buffered chunks, nothing copied. */
  private takeSlices(n: number): Buffer[] {
    const out: Buffer[] = [];
    let left = n;
    while (left > 0) {
      const buf = this.buffers[0]!;
      if (buf.length <= left) {
        out.push(buf);
        this.buffers.shift();
        left -= buf.length;
      } else {
        out.push(buf.subarray(0, left));
        this.buffers[0] = buf.subarray(left);
        left = 0;
      }
    }
    this.buffered -= n;
    return out;
  }

  private take(n: number): Buffer {
    const first = this.buffers[0]!;
    if (first.length === n) {
      this.buffers.shift();
      this.buffered -= n;
      return first;
    }
    if (first.length > n) {
      this.buffers[0] = first.subarray(n);
      this.buffered -= n;
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let off = 0;
    while (off < n) {
      const buf = this.buffers[0]!;
      const k = Math.min(buf.length, n - off);
      buf.copy(out, off, 0, k);
      off += k;
      if (k === buf.length) this.buffers.shift();
      else this.buffers[0] = buf.subarray(k);
    }
    this.buffered -= n;
    return out;
  }
}
