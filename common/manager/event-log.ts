// The manager's record: one JSON object a line in <data-dir>/events.jsonl, rotated by size
// (events.jsonl.1 is the newest older file). Alerts are flushed (fdatasync) before they are
// acknowledged, so an acknowledged alert survives kill -9. On start only the newest few MiB are
// read back, so start time does not grow with the record; a torn last line is skipped.
//
// A full or failing disk (ENOSPC, EIO, EROFS) never throws out of here: what cannot be written is
// held in memory in order (bounded), retried every few seconds, and written once the disk takes
// it. Every record has a number; `isDurable(n)` says whether it is on disk yet, which is what the
// manager checks before it acknowledges an alert.

import * as nodeFs from 'node:fs';
import { dirname } from 'node:path';
import { isStorageError } from '../fs/durable.ts';

/** events.jsonl: rotated past this size (--log-max-bytes); this many older files kept. */
export const DEFAULT_LOG_MAX_BYTES = 32 * 1024 * 1024;
export const LOG_FILES_KEPT = 4;
/** On start, at most this much of the newest record is read back (start time stays flat). */
const LOG_READBACK_BYTES = 16 * 1024 * 1024;
/** A full or failing disk: how often a held write is retried, and how much is held in memory meanwhile. */
export const STORAGE_RETRY_MS = 2000;
const STORAGE_HOLD_MAX_BYTES = 64 * 1024 * 1024;

export interface LoggedEvent {
  at: number;
  event: string;
  [k: string]: unknown;
}

/** The file calls the log makes; a test passes a failing one (EIO cannot be made on a real disk here). */
export type LogFs = Pick<typeof nodeFs, 'openSync' | 'writeSync' | 'fdatasyncSync' | 'closeSync' | 'renameSync' | 'existsSync' | 'statSync' | 'readSync' | 'fsyncSync'>;

export interface StorageStatus {
  ok: boolean;
  /** when writing started failing (ms since epoch), while it fails */
  failingSince: number | null;
  /** the errno of the last failure (ENOSPC, EIO, EROFS...) */
  error: string | null;
  /** records written to memory only, waiting for the disk */
  heldRecords: number;
  heldBytes: number;
  /** records dropped because the held ones passed STORAGE_HOLD_MAX_BYTES (since start) */
  droppedRecords: number;
}

export interface EventLogOptions {
  maxBytes?: number;
  keep?: number;
  fs?: LogFs;
  now?: () => number;
  retryMs?: number;
  holdMaxBytes?: number;
  /** told when writing starts failing and when it works again (for a console line) */
  onStorage?: (s: StorageStatus, what: 'failing' | 'recovered') => void;
}

/** Returned by append() for a record that was dropped: it will never be durable. */
export const NOT_WRITTEN = -1;

export class EventLog {
  readonly path: string;
  private readonly fs: LogFs;
  private readonly maxBytes: number;
  private readonly keep: number;
  private readonly now: () => number;
  private readonly retryMs: number;
  private readonly holdMax: number;
  private readonly onStorage: EventLogOptions['onStorage'];
  private fd: number | undefined;
  private size = 0;
  /** the file ends in a partial line (a crash, or a write cut by a full disk) */
  private torn = false;
  private opened = false;
  private nextN = 0;
  /** highest record number handed to the file, and highest known to be on disk */
  private written = 0;
  private synced = 0;
  private readonly held: { n: number; line: string }[] = [];
  private heldBytes = 0;
  private dropped = 0;
  private failingSince: number | null = null;
  private lastError: string | null = null;
  private retryTimer: NodeJS.Timeout | undefined;
  /** records written from memory since the disk started failing */
  private caughtUp = 0;

  constructor(path: string, opts: EventLogOptions = {}) {
    this.path = path;
    this.fs = opts.fs ?? nodeFs;
    this.maxBytes = opts.maxBytes ?? DEFAULT_LOG_MAX_BYTES;
    this.keep = opts.keep ?? LOG_FILES_KEPT;
    this.now = opts.now ?? Date.now;
    this.retryMs = opts.retryMs ?? STORAGE_RETRY_MS;
    this.holdMax = opts.holdMaxBytes ?? STORAGE_HOLD_MAX_BYTES;
    this.onStorage = opts.onStorage;
  }

  /** The files of the record, newest first: events.jsonl, events.jsonl.1, ... */
  files(): string[] {
    return [this.path, ...Array.from({ length: this.keep }, (_, i) => `${this.path}.${i + 1}`)];
  }

  /**
   * Reads back the whole lines of the newest `maxBytes` of the record (across rotated files),
   * oldest first. What is older is not needed to start: the alerts kept in memory are the newest.
   */
  readBack(maxBytes = LOG_READBACK_BYTES): LoggedEvent[] {
    const chunks: string[] = [];
    let budget = maxBytes;
    for (const [i, file] of this.files().entries()) {
      if (budget <= 0 || !this.fs.existsSync(file)) break;
      const size = this.fs.statSync(file).size;
      const take = Math.min(size, budget);
      budget -= take;
      // One byte more: when it is a newline the window starts on a whole line.
      const from = size - take;
      const buf = Buffer.alloc(take + (from > 0 ? 1 : 0));
      const fd = this.fs.openSync(file, 'r');
      try {
        let off = 0;
        while (off < buf.length) {
          const n = this.fs.readSync(fd, buf, off, buf.length - off, from - (from > 0 ? 1 : 0) + off);
          if (n <= 0) break;
          off += n;
        }
      } finally {
        this.fs.closeSync(fd);
      }
      let text = buf.toString('utf8');
      if (from > 0) text = text.slice(text.indexOf('\n') + 1);
      // A file that does not end with a newline had its last append cut short.
      if (i === 0 && text.length && !text.endsWith('\n')) this.torn = true;
      chunks.unshift(text);
    }
    const out: LoggedEvent[] = [];
    for (const text of chunks) {
      for (const line of text.split('\n')) {
        if (!line) continue;
        try {
          const v = JSON.parse(line);
          if (v && typeof v === 'object' && typeof v.event === 'string') out.push(v as LoggedEvent);
        } catch {
          // torn or foreign line: skip it, keep the rest
        }
      }
    }
    return out;
  }

  /** Opens the file for appending. Never throws for a full or failing disk: it retries. */
  open(): void {
    this.opened = true;
    if (!this.tryOpen()) this.startRetry();
  }

  private tryOpen(): boolean {
    if (this.fd !== undefined) return true;
    try {
      const fresh = !this.fs.existsSync(this.path);
      this.fd = this.fs.openSync(this.path, 'a', 0o600);
      this.size = this.fs.statSync(this.path).size;
      // A new file's name must survive a power cut too, or the alerts flushed into it are lost with it.
      if (fresh) this.syncFolder();
      return true;
    } catch (err) {
      if (!isStorageError(err)) throw err;
      this.failed(err);
      return false;
    }
  }

  /**
   * Appends a record (made durable at once with `flush`). Returns its number, for isDurable();
   * NOT_WRITTEN if it had to be dropped (the disk has been failing and the memory bound is hit).
   */
  append(e: LoggedEvent, flush = false): number {
    if (!this.opened) return NOT_WRITTEN;
    const line = JSON.stringify(e) + '\n';
    const n = ++this.nextN;
    if (this.held.length || this.fd === undefined) {
      this.hold(n, line);
      return this.held.at(-1)?.n === n ? n : NOT_WRITTEN;
    }
    if (!this.writeLine(n, line)) {
      this.hold(n, line);
      return this.held.at(-1)?.n === n ? n : NOT_WRITTEN;
    }
    if (flush) this.flush();
    if (this.size >= this.maxBytes) this.rotate();
    return n;
  }

  /** True when record `n` is on disk (fdatasync returned). Records read back count as on disk. */
  isDurable(n: number): boolean {
    return n >= 0 && n <= this.synced;
  }

  /** Whether `bytes` more can be held in memory now (false: the caller should refuse the input). */
  canHold(bytes = 1024): boolean {
    return this.heldBytes + bytes <= this.holdMax;
  }

  /** Makes what was written durable; false if the disk refused (it is retried). */
  flush(): boolean {
    if (this.fd === undefined) return false;
    if (this.synced === this.written) return !this.held.length;
    try {
      this.fs.fdatasyncSync(this.fd);
      this.synced = this.written;
      return !this.held.length;
    } catch (err) {
      if (!isStorageError(err)) throw err;
      this.failed(err);
      return false;
    }
  }

  status(): StorageStatus {
    return {
      ok: this.failingSince === null, failingSince: this.failingSince, error: this.lastError,
      heldRecords: this.held.length, heldBytes: this.heldBytes, droppedRecords: this.dropped,
    };
  }

  /** Writes what it can (one last try for what is held), then closes. Never throws for storage. */
  close(): StorageStatus {
    if (this.held.length) this.retry();
    clearInterval(this.retryTimer);
    this.retryTimer = undefined;
    if (this.fd !== undefined) {
      try {
        this.fs.fdatasyncSync(this.fd);
        this.synced = this.written;
      } catch (err) {
        if (!isStorageError(err)) throw err;
      }
      try { this.fs.closeSync(this.fd); } catch { /* closing anyway */ }
      this.fd = undefined;
    }
    this.opened = false;
    return this.status();
  }

  private writeLine(n: number, line: string): boolean {
    const fd = this.fd!;
    // After a torn write, start on a fresh line so the next record is not glued to the torn one.
    const buf = Buffer.from(this.torn ? '\n' + line : line);
    let off = 0;
    try {
      while (off < buf.length) off += this.fs.writeSync(fd, buf, off, buf.length - off);
    } catch (err) {
      if (!isStorageError(err)) throw err;
      // Part of the line may be in the file: the next write starts a new line, and readBack
      // skips the partial one.
      if (off > 0) this.torn = true;
      this.size += off;
      this.failed(err);
      return false;
    }
    this.torn = false;
    this.size += buf.length;
    this.written = n;
    return true;
  }

  private hold(n: number, line: string): void {
    if (this.heldBytes + line.length > this.holdMax) {
      this.dropped++;
      return;
    }
    this.held.push({ n, line });
    this.heldBytes += line.length;
    this.startRetry();
  }

  private failed(err: unknown): void {
    this.lastError = (err as NodeJS.ErrnoException).code ?? 'EIO';
    if (this.failingSince !== null) return;
    this.failingSince = this.now();
    this.startRetry();
    // Told after the write in progress is held: a listener that records (say) an event then
    // appends after it, and record numbers stay in file order.
    const st = this.status();
    queueMicrotask(() => this.onStorage?.(st, 'failing'));
  }

  private startRetry(): void {
    if (this.retryTimer) return;
    this.retryTimer = setInterval(() => this.retry(), this.retryMs);
    this.retryTimer.unref();
  }

  /** Writes the held records in order, then syncs; on success says the disk is back. */
  retry(): void {
    if (!this.tryOpen()) return;
    while (this.held.length) {
      const h = this.held[0]!;
      if (!this.writeLine(h.n, h.line)) return;
      this.held.shift();
      this.heldBytes -= h.line.length;
      this.caughtUp++;
    }
    try {
      this.fs.fdatasyncSync(this.fd!);
      this.synced = this.written;
    } catch (err) {
      if (!isStorageError(err)) throw err;
      this.failed(err);
      return;
    }
    clearInterval(this.retryTimer);
    this.retryTimer = undefined;
    if (this.failingSince !== null) {
      // heldRecords: how many waited in memory and are now written.
      const was = { ...this.status(), failingSince: this.failingSince, heldRecords: this.caughtUp };
      this.failingSince = null;
      this.caughtUp = 0;
      this.onStorage?.(was, 'recovered');
    }
    if (this.size >= this.maxBytes) this.rotate();
  }

  /** events.jsonl -> events.jsonl.1 -> ... (the oldest beyond `keep` is replaced), then a new file. */
  private rotate(): void {
    if (this.fd === undefined || this.held.length) return;
    try {
      this.fs.fdatasyncSync(this.fd);
      this.synced = this.written;
      this.fs.closeSync(this.fd);
      this.fd = undefined;
      const files = this.files();
      for (let i = files.length - 2; i >= 0; i--) {
        if (this.fs.existsSync(files[i]!)) this.fs.renameSync(files[i]!, files[i + 1]!);
      }
      this.torn = false;
      this.size = 0;
      this.fd = this.fs.openSync(this.path, 'a', 0o600);
      this.syncFolder();
    } catch (err) {
      if (!isStorageError(err)) throw err;
      this.failed(err);
    }
  }

  private syncFolder(): void {
    if (process.platform === 'win32') return;
    let fd: number | undefined;
    try {
      fd = this.fs.openSync(dirname(this.path), 'r');
      this.fs.fsyncSync(fd);
    } catch (err) {
      if (isStorageError(err)) throw err;
    } finally {
      if (fd !== undefined) this.fs.closeSync(fd);
    }
  }
}
