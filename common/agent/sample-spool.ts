// Samples taken while no manager has them, kept on disk so that an agent restart or a host reboot
// during a manager outage still leaves no hole: segments of JSON lines under <state-dir>/spool/,
// read oldest first, dropped once sent, bounded in count (the oldest segment goes first). Without
// a state folder, or while the disk refuses writes, they are kept in memory (bounded too).

import { closeSync, fdatasyncSync, fstatSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { BACKFILL_MAX_SAMPLES, type SampleBacklog } from './sample-backlog.ts';
import { writeDurable } from '../fs/durable.ts';
import type { Sample } from '../collect/types.ts';

/** The agent's on-disk spool of samples taken while no manager has them: two days at 5 s. */
const SPOOL_MAX_SAMPLES = 34_560;
const SPOOL_SEGMENT_SAMPLES = 1000;

interface Segment {
  /** sequence number of its first line (also its file name) */
  first: number;
  count: number;
}

const name = (first: number) => `${String(first).padStart(16, '0')}.jsonl`;

export class SampleSpool implements SampleBacklog {
  private readonly dir: string | undefined;
  private readonly max: number;
  private readonly segmentSize: number;
  private readonly log: (line: string) => void;
  private segments: Segment[] = [];
  /** next sequence number to send */
  private cursor = 0;
  private tailFd: number | null = null;
  private head: { first: number; items: Sample[] } | null = null;
  private readonly memory: Sample[] = [];
  private diskFailed = false;
  /** dropped because the spool was full, since the last takeDropped() */
  private dropped = 0;

  constructor(opts: { dir?: string; max?: number; segmentSize?: number; log?: (line: string) => void } = {}) {
    this.dir = opts.dir;
    this.max = opts.max ?? SPOOL_MAX_SAMPLES;
    this.segmentSize = opts.segmentSize ?? SPOOL_SEGMENT_SAMPLES;
    this.log = opts.log ?? (() => {});
    if (this.dir) this.load();
  }

  get size(): number {
    let n = this.memory.length;
    for (const s of this.segments) n += s.count;
    if (this.segments.length) n -= this.cursor - this.segments[0]!.first;
    return n;
  }

  push(sample: Sample): void {
    if (this.dir && !this.diskFailed) {
      try {
        this.append(sample);
        this.bound();
        return;
      } catch (err) {
        this.diskFailed = true;
        this.log(`cannot write the sample spool in ${this.dir}: ${(err as Error).message}; keeping samples in memory (at most ${BACKFILL_MAX_SAMPLES})`);
      }
    }
    this.memory.push(sample);
    if (this.memory.length > BACKFILL_MAX_SAMPLES) {
      this.memory.shift();
      this.dropped++;
    }
  }

  read(n: number): Sample[] {
    if (this.segments.length) {
      const seg = this.segments[0]!;
      if (!this.head || this.head.first !== seg.first) this.head = { first: seg.first, items: this.readSegment(seg) };
      return this.head.items.slice(this.cursor - seg.first, this.cursor - seg.first + n);
    }
    return this.memory.slice(0, n);
  }

  drop(n: number): void {
    while (n > 0 && this.segments.length) {
      const seg = this.segments[0]!;
      const left = seg.first + seg.count - this.cursor;
      const take = Math.min(n, left);
      this.cursor += take;
      n -= take;
      if (this.cursor >= seg.first + seg.count) this.removeHead();
    }
    if (n > 0) this.memory.splice(0, n);
    this.saveCursor();
  }

  takeDropped(): number {
    const d = this.dropped;
    this.dropped = 0;
    return d;
  }

  close(): void {
    if (this.tailFd !== null) closeSync(this.tailFd);
    this.tailFd = null;
  }

  private load(): void {
    const dir = this.dir!;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const files = readdirSync(dir).filter((f) => /^\d{16}\.jsonl$/.test(f)).sort();
    for (const f of files) {
      const first = Number(f.slice(0, 16));
      const text = readFileSync(join(dir, f), 'utf8');
      const lines = text.split('\n');
      let count = lines.length - 1; // the last piece is what follows the last newline
      if (lines[lines.length - 1]) {
        // A torn last line (the agent died while writing it): cut it so the next line starts clean.
        const fd = openSync(join(dir, f), 'r+');
        ftruncateSync(fd, Buffer.byteLength(text) - Buffer.byteLength(lines[lines.length - 1]!));
        closeSync(fd);
        this.log(`sample spool ${f}: torn last line skipped`);
      }
      if (count <= 0) {
        rmSync(join(dir, f), { force: true });
        continue;
      }
      count = Math.max(0, count);
      this.segments.push({ first, count });
    }
    let cursor = this.segments[0]?.first ?? 0;
    try {
      const saved = Number(readFileSync(join(dir, 'cursor'), 'utf8'));
      if (Number.isInteger(saved) && saved >= cursor) cursor = saved;
    } catch {
      // no cursor yet, or unreadable: resend from the oldest kept (the manager keeps one per time)
    }
    this.cursor = cursor;
    while (this.segments.length && this.cursor >= this.segments[0]!.first + this.segments[0]!.count) this.removeHead();
    if (this.segments.length && this.cursor < this.segments[0]!.first) this.cursor = this.segments[0]!.first;
    if (this.size) this.log(`sample spool: ${this.size} samples from before the restart still to send`);
  }

  private append(sample: Sample): void {
    let tail = this.segments[this.segments.length - 1];
    if (!tail || tail.count >= this.segmentSize) {
      if (this.tailFd !== null) closeSync(this.tailFd);
      this.tailFd = null;
      const first = tail ? tail.first + tail.count : Math.max(this.cursor, 0);
      tail = { first, count: 0 };
      this.segments.push(tail);
    }
    if (this.tailFd === null) this.tailFd = openSync(join(this.dir!, name(tail.first)), 'a', 0o600);
    const line = Buffer.from(JSON.stringify(sample) + '\n');
    let off = 0;
    while (off < line.length) off += writeSync(this.tailFd, line, off);
    // Survives a power cut too: a sample a second costs one fdatasync a second at most.
    fdatasyncSync(this.tailFd);
    tail.count++;
    if (this.head?.first === tail.first) this.head.items.push(sample);
  }

  private bound(): void {
    while (this.size > this.max && this.segments.length > 1) {
      const seg = this.segments[0]!;
      this.dropped += seg.first + seg.count - this.cursor;
      this.cursor = seg.first + seg.count;
      this.removeHead();
      this.saveCursor();
    }
  }

  private removeHead(): void {
    const seg = this.segments.shift()!;
    if (this.head?.first === seg.first) this.head = null;
    if (!this.segments.length && this.tailFd !== null) {
      closeSync(this.tailFd);
      this.tailFd = null;
    }
    try {
      rmSync(join(this.dir!, name(seg.first)), { force: true });
    } catch {
      // removed on the next start
    }
  }

  private readSegment(seg: Segment): Sample[] {
    const out: Sample[] = [];
    let text = '';
    try {
      const fd = openSync(join(this.dir!, name(seg.first)), 'r');
      const buf = Buffer.alloc(fstatSync(fd).size);
      readSync(fd, buf, 0, buf.length, 0);
      closeSync(fd);
      text = buf.toString('utf8');
    } catch (err) {
      this.log(`sample spool ${name(seg.first)} unreadable: ${(err as Error).message}`);
    }
    const lines = text.split('\n');
    for (let i = 0; i < seg.count; i++) {
      try {
        out.push(JSON.parse(lines[i] ?? '') as Sample);
      } catch {
        // keep the numbering: a bad line is a placeholder that the reporter skips
        out.push({ at: 0, metrics: null as never });
      }
    }
    return out;
  }

  private saveCursor(): void {
    if (!this.dir || this.diskFailed) return;
    try {
      writeDurable(join(this.dir, 'cursor'), String(this.cursor));
    } catch {
      // a lost cursor only means resending what the manager already has
    }
  }
}
