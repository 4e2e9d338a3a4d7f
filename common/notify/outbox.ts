// The durable outbox: what must still reach Alertmanager or a webhook, kept on disk so that a
// destination down for an hour, or a manager restart, loses none of it. An append-only log of
// framed records ([u32 length][u32 crc32][JSON]); at start the log is replayed up to the first
// torn or corrupt record, which is cut off. A put replaces the item with the same key; a remove
// deletes it; the log is rewritten (temp file, fsync, rename) when it holds mostly dead records.
// Bounded: past maxBytes or maxItems the oldest items are dropped and counted. A disk error
// (full, failing, read-only) never throws out of here: the items stay in memory, the error is
// shown in `storageError`, and the whole log is rewritten at the next chance.
//
// The log also keeps a mark: the number (AlertRecord.n) of the newest recorded alert whose
// deliveries are queued, written in the same append as those deliveries (see `queue`), so that
// after a crash between the manager's record and this queue the notifier queues what it missed.

import { closeSync, fsyncSync, openSync, readFileSync, ftruncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { HwError } from '../errors.ts';
import { storageError, syncDir, writeDurable } from '../fs/durable.ts';
import { FRAME_HEADER as HEADER, frameRecord } from '../fs/frame-record.ts';

/**
 * The durable outbox's bound: past either, the oldest undelivered items are dropped (counted and
 * shown in `notify status`). 64 MiB holds far more than an hour of a 10,000-host fleet's alerts.
 */
const OUTBOX_MAX_BYTES = 64 * 1024 * 1024;
const OUTBOX_MAX_ITEMS = 100_000;
/** Largest single outbox record (a webhook body, an alert); bigger ones are refused, not queued. */
const OUTBOX_MAX_RECORD_BYTES = 256 * 1024;
/** Outbox file compacted when it holds this many times the live bytes (and at least 1 MiB). */
const OUTBOX_COMPACT_RATIO = 4;
export const OUTBOX_FILE = 'outbox.log';

export interface OutboxItem {
  key: string;
  /** the destination's name */
  dest: string;
  /** ms since epoch when it was queued */
  at: number;
  body: unknown;
}

/** p: put an item; r: remove it; m: the mark (null: not known, see forgetMark) */
type LogRecord = { o: 'p'; k: string; d: string; t: number; b: unknown } | { o: 'r'; k: string } | { o: 'm'; n: number | null };

const MIN_COMPACT_BYTES = 1024 * 1024;

export interface OutboxOptions {
  dir: string;
  file?: string;
  maxBytes?: number;
  maxItems?: number;
  /** told once per disk error (and when it clears, with null) */
  onStorage?: (error: string | null) => void;
  /** for tests: replace the appends and the rewrites (to make the disk full on demand) */
  io?: { append?: (fd: number, buf: Buffer) => void; replace?: (path: string, data: Buffer) => void };
}

export { frameRecord };

/** Decodes the records of a log, stopping at the first torn or corrupt one; returns where it stopped. */
export function readRecords(buf: Buffer): { records: unknown[]; goodBytes: number } {
  const records: unknown[] = [];
  let off = 0;
  while (buf.length - off >= HEADER) {
    const len = buf.readUInt32BE(off);
    if (len === 0 || len > OUTBOX_MAX_RECORD_BYTES + 1024) break; // a bad length: nothing after it can be trusted
    if (buf.length - off - HEADER < len) break; // torn tail
    const body = buf.subarray(off + HEADER, off + HEADER + len);
    if (crc32(body) !== buf.readUInt32BE(off + 4)) break;
    try {
      records.push(JSON.parse(body.toString('utf8')));
    } catch {
      break;
    }
    off += HEADER + len;
  }
  return { records, goodBytes: off };
}

export class Outbox {
  private readonly path: string;
  private readonly maxBytes: number;
  private readonly maxItems: number;
  private readonly items = new Map<string, OutboxItem & { bytes: number }>();
  private readonly byDest = new Map<string, Map<string, OutboxItem>>();
  private readonly droppedBy = new Map<string, number>();
  private readonly opts: OutboxOptions;
  private fd: number | undefined;
  private fileBytes = 0;
  private liveBytes = 0;
  private syncPending = false;
  /** the file no longer matches memory (a failed write): rewrite it whole before appending again */
  private needsRewrite = false;
  private storageErr: string | null = null;
  private markN: number | undefined;
  /** the records of a `queue` call, written together when it ends */
  private batch: Buffer[] | null = null;
  /** bytes cut off the end at start (a torn or corrupt tail) */
  readonly skippedBytes: number = 0;

  constructor(opts: OutboxOptions) {
    this.opts = opts;
    this.path = join(opts.dir, opts.file ?? OUTBOX_FILE);
    this.maxBytes = opts.maxBytes ?? OUTBOX_MAX_BYTES;
    this.maxItems = opts.maxItems ?? OUTBOX_MAX_ITEMS;
    let buf: Buffer = Buffer.alloc(0);
    let fresh = false;
    try {
      buf = readFileSync(this.path);
    } catch (err) {
      fresh = (err as NodeJS.ErrnoException).code === 'ENOENT';
      if (!fresh) {
        throw new HwError('STATE_CORRUPT', `${this.path}: cannot read it (${(err as NodeJS.ErrnoException).code}); fix its permissions or move it away (its undelivered alerts are then lost)`);
      }
    }
    const { records, goodBytes } = readRecords(buf);
    for (const r of records as LogRecord[]) {
      if (r && r.o === 'p' && typeof r.k === 'string' && typeof r.d === 'string') this.setItem({ key: r.k, dest: r.d, at: Number(r.t) || 0, body: r.b });
      else if (r && r.o === 'r' && typeof r.k === 'string') this.deleteItem(r.k);
      else if (r && r.o === 'm') this.markN = Number.isSafeInteger(r.n) ? r.n! : undefined;
    }
    this.skippedBytes = buf.length - goodBytes;
    this.fd = openSync(this.path, 'a+', 0o600);
    if (goodBytes < buf.length) ftruncateSync(this.fd, goodBytes); // later appends follow good records
    this.fileBytes = goodBytes;
    if (fresh) {
      // A new file's name must survive a power cut, or what is queued in it is lost with it.
      try {
        syncDir(opts.dir);
      } catch (err) {
        this.failed(err);
      }
    }
    this.enforceLimits();
  }

  /**
   * The number of the newest recorded alert whose deliveries are queued; undefined when not known
   * (a new outbox, one written before marks existed, or after a run without destinations).
   */
  get mark(): number | undefined {
    return this.markN;
  }

  /**
   * Runs `queueIt` (its puts) and appends its records and then the new `mark` in one write: after
   * a crash the log holds both or neither, so the alert is queued again at the next start, or
   * not, never twice. (A power cut inside that one write may keep only its first records: the
   * alert is then queued again, a duplicate event id, never a loss.) `mark` undefined: unchanged.
   */
  queue(mark: number | undefined, queueIt: () => void): void {
    if (this.batch) {
      queueIt(); // nested: the outer call writes everything
      if (mark !== undefined) this.markN = mark;
      return;
    }
    const batch: Buffer[] = (this.batch = []);
    try {
      queueIt();
    } finally {
      this.batch = null;
      if (mark !== undefined) {
        this.markN = mark;
        batch.push(this.markRecord()!);
      }
      if (batch.length) this.append(batch.length === 1 ? batch[0]! : Buffer.concat(batch));
    }
  }

  /** Sets the mark (the notifier, once it has queued what the last run missed). */
  setMark(n: number): void {
    this.queue(n, () => {});
  }

  /**
   * The mark is no longer known: a manager runs without destinations, so the alerts it records
   * are queued nowhere and must not be sent when destinations come back.
   */
  forgetMark(): void {
    if (this.markN === undefined) return;
    this.markN = undefined;
    this.append(frameRecord({ o: 'm', n: null } satisfies LogRecord));
  }

  private markRecord(): Buffer | undefined {
    return this.markN === undefined ? undefined : frameRecord({ o: 'm', n: this.markN } satisfies LogRecord);
  }

  get storageError(): string | null {
    return this.storageErr;
  }

  /** Queues `body` for `dest` under `key`, replacing an item with the same key. Throws BAD_ARGS when too big. */
  put(key: string, dest: string, body: unknown, at = Date.now()): void {
    const rec = frameRecord({ o: 'p', k: key, d: dest, t: at, b: body } satisfies LogRecord);
    if (rec.length - HEADER > OUTBOX_MAX_RECORD_BYTES) throw new HwError('BAD_ARGS', `an outbox item of ${rec.length} bytes is over the ${OUTBOX_MAX_RECORD_BYTES}-byte limit`);
    this.deleteItem(key);
    this.setItem({ key, dest, at, body }, rec.length);
    this.append(rec);
    this.enforceLimits();
  }

  remove(key: string): void {
    if (!this.items.has(key)) return;
    this.deleteItem(key);
    this.append(frameRecord({ o: 'r', k: key } satisfies LogRecord));
    this.maybeCompact();
  }

  get(key: string): OutboxItem | undefined {
    return this.items.get(key);
  }

  /** A destination's items, oldest first. */
  list(dest: string): OutboxItem[] {
    return [...(this.byDest.get(dest)?.values() ?? [])];
  }

  /** A destination's oldest item. */
  first(dest: string): OutboxItem | undefined {
    return this.byDest.get(dest)?.values().next().value;
  }

  count(dest?: string): number {
    return dest === undefined ? this.items.size : (this.byDest.get(dest)?.size ?? 0);
  }

  dropped(dest: string): number {
    return this.droppedBy.get(dest) ?? 0;
  }

  figures(): { items: number; bytes: number; fileBytes: number; maxBytes: number; maxItems: number; storageError: string | null; path: string } {
    return { items: this.items.size, bytes: this.liveBytes, fileBytes: this.fileBytes, maxBytes: this.maxBytes, maxItems: this.maxItems, storageError: this.storageErr, path: this.path };
  }

  /** Makes every write so far durable now (normally done on the next turn of the event loop). */
  sync(): void {
    this.syncPending = false;
    if (this.fd === undefined || this.needsRewrite) return;
    try {
      fsyncSync(this.fd);
    } catch (err) {
      this.failed(err);
    }
  }

  /** Tries again to bring the file in line with memory after a disk error. */
  retryStorage(): void {
    if (this.needsRewrite) this.rewrite();
  }

  close(): void {
    if (this.fd === undefined) return;
    this.sync();
    closeSync(this.fd);
    this.fd = undefined;
  }

  // ---- internals ---------------------------------------------------------------------------------

  private setItem(it: OutboxItem, bytes = frameRecord({ o: 'p', k: it.key, d: it.dest, t: it.at, b: it.body }).length): void {
    const stored = { ...it, bytes };
    this.items.set(it.key, stored);
    let d = this.byDest.get(it.dest);
    if (!d) this.byDest.set(it.dest, (d = new Map()));
    d.set(it.key, stored);
    this.liveBytes += bytes;
  }

  private deleteItem(key: string): void {
    const old = this.items.get(key);
    if (!old) return;
    this.items.delete(key);
    const d = this.byDest.get(old.dest);
    d?.delete(key);
    if (d && !d.size) this.byDest.delete(old.dest);
    this.liveBytes -= old.bytes;
  }

  private enforceLimits(): void {
    let changed = false;
    while (this.items.size > 0 && (this.liveBytes > this.maxBytes || this.items.size > this.maxItems)) {
      const oldest = this.items.values().next().value!;
      this.deleteItem(oldest.key);
      this.droppedBy.set(oldest.dest, this.dropped(oldest.dest) + 1);
      changed = true;
    }
    if (changed) this.rewrite();
  }

  private append(buf: Buffer): void {
    if (this.batch) {
      this.batch.push(buf);
      return;
    }
    if (this.fd === undefined) return;
    if (this.needsRewrite) {
      this.rewrite();
      return;
    }
    try {
      if (this.opts.io?.append) this.opts.io.append(this.fd, buf);
      else for (let off = 0; off < buf.length;) off += writeSync(this.fd, buf, off, buf.length - off);
      this.fileBytes += buf.length;
    } catch (err) {
      this.failed(err);
      return;
    }
    // One fsync for a burst of writes (a sweep raising AGENT_DOWN for many agents at once). The
    // bytes are in the kernel already: only a power cut in that instant could lose them.
    if (!this.syncPending) {
      this.syncPending = true;
      setImmediate(() => this.sync());
    }
  }

  private maybeCompact(): void {
    if (this.fileBytes > MIN_COMPACT_BYTES && this.fileBytes > OUTBOX_COMPACT_RATIO * this.liveBytes) this.rewrite();
  }

  /** Writes every live item into a new log and swaps it in. */
  private rewrite(): void {
    if (this.fd === undefined) return;
    const parts: Buffer[] = [];
    for (const it of this.items.values()) parts.push(frameRecord({ o: 'p', k: it.key, d: it.dest, t: it.at, b: it.body }));
    const mark = this.markRecord();
    if (mark) parts.push(mark);
    // Inside a `queue` call the items so far are in memory, so in this file: only the mark is left to append.
    if (this.batch) this.batch.length = 0;
    const data = Buffer.concat(parts);
    try {
      (this.opts.io?.replace ?? writeDurable)(this.path, data);
      closeSync(this.fd);
      this.fd = openSync(this.path, 'a', 0o600);
      this.fileBytes = data.length;
      this.needsRewrite = false;
      if (this.storageErr !== null) {
        this.storageErr = null;
        this.opts.onStorage?.(null);
      }
    } catch (err) {
      this.failed(err);
    }
  }

  private failed(err: unknown): void {
    this.needsRewrite = true;
    const e = storageError(err, this.path);
    const msg = e instanceof HwError ? e.message : `cannot write ${this.path}: ${(err as Error).message}`;
    if (this.storageErr !== msg) {
      this.storageErr = msg;
      this.opts.onStorage?.(msg);
    }
  }
}
