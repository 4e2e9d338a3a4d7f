// The Engine API's multiplexed log stream (a container without a TTY): frames of an 8-byte header
// (stream 0/1/2, three zero bytes, a big-endian uint32 length) and that many bytes. Chunks are
// pushed as they arrive; lines come out whole, each cut at maxLine bytes, at most maxLines kept.

import { HwError } from '../../errors.ts';

export interface LogLine {
  stream: 'stdout' | 'stderr';
  text: string;
}

export interface LogDecoderOptions {
  /** the newest this many lines are kept */
  maxLines: number;
  /** longer lines are cut (and marked) */
  maxLine: number;
  /** false: a raw stream (the container has a TTY), no frame headers, all stdout */
  multiplexed: boolean;
}

const HEADER = 8;

export class LogDecoder {
  private readonly o: LogDecoderOptions;
  private readonly lines: LogLine[] = [];
  /** buffered header bytes (at most 8) */
  private header = Buffer.alloc(0);
  /** payload bytes still to read in the current frame, and its stream */
  private left = 0;
  private stream: LogLine['stream'] = 'stdout';
  /** the current (unterminated) line of each stream, as chunks and a length */
  private readonly partial: Record<LogLine['stream'], { parts: Buffer[]; size: number; cut: boolean }> = {
    stdout: { parts: [], size: 0, cut: false }, stderr: { parts: [], size: 0, cut: false },
  };
  dropped = 0;

  constructor(o: LogDecoderOptions) {
    this.o = o;
  }

  /** Throws ENGINE_BAD_ANSWER on a header that is not a log frame's. */
  push(chunk: Buffer): void {
    if (!this.o.multiplexed) {
      this.text('stdout', chunk);
      return;
    }
    let at = 0;
    while (at < chunk.length) {
      if (this.left === 0) {
        const need = HEADER - this.header.length;
        const take = chunk.subarray(at, at + need);
        this.header = this.header.length ? Buffer.concat([this.header, take]) : Buffer.from(take);
        at += take.length;
        if (this.header.length < HEADER) return;
        const kind = this.header[0];
        if ((kind !== 0 && kind !== 1 && kind !== 2) || this.header[1] !== 0 || this.header[2] !== 0 || this.header[3] !== 0) {
          throw new HwError('ENGINE_BAD_ANSWER', 'the engine\'s log stream has a frame header that is not one (stream 0-2, then three zero bytes)');
        }
        this.stream = kind === 2 ? 'stderr' : 'stdout';
        this.left = this.header.readUInt32BE(4);
        this.header = Buffer.alloc(0);
        continue;
      }
      const take = chunk.subarray(at, at + this.left);
      at += take.length;
      this.left -= take.length;
      this.text(this.stream, take);
    }
  }

  /** The lines, with what is left unterminated as a last line. */
  end(): LogLine[] {
    for (const s of ['stdout', 'stderr'] as const) if (this.partial[s].size || this.partial[s].cut) this.flush(s);
    return this.lines;
  }

  private text(stream: LogLine['stream'], b: Buffer): void {
    let from = 0;
    for (;;) {
      const nl = b.indexOf(10, from);
      const piece = b.subarray(from, nl === -1 ? b.length : nl);
      const p = this.partial[stream];
      const room = this.o.maxLine - p.size;
      if (piece.length > room) p.cut = true;
      const keep = piece.subarray(0, Math.max(0, room));
      if (keep.length) {
        p.parts.push(Buffer.from(keep));
        p.size += keep.length;
      }
      if (nl === -1) return;
      this.flush(stream);
      from = nl + 1;
    }
  }

  private flush(stream: LogLine['stream']): void {
    const p = this.partial[stream];
    let text = Buffer.concat(p.parts, p.size).toString('utf8');
    if (text.endsWith('\r')) text = text.slice(0, -1);
    if (p.cut) text += ' [cut]';
    p.parts = [];
    p.size = 0;
    p.cut = false;
    this.lines.push({ stream, text });
    if (this.lines.length > this.o.maxLines) {
      this.lines.shift();
      this.dropped++;
    }
  }
}
