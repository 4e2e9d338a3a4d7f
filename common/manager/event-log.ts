// The manager's record: one JSON object a line in <data-dir>/events.jsonl. Alerts are flushed to
// disk (fdatasync) before they are acknowledged, so an acknowledged alert survives kill -9.
// On start the log is read back; a torn last line (a crash mid-write) is skipped.

import { closeSync, existsSync, fdatasyncSync, openSync, readFileSync, readSync, statSync, writeSync } from 'node:fs';

export interface LoggedEvent {
  at: number;
  event: string;
  [k: string]: unknown;
}

export class EventLog {
  readonly path: string;
  private fd: number | undefined;
  private torn = false;

  constructor(path: string) {
    this.path = path;
  }

  /** Reads back every whole line (the last `maxBytes` of the file at most). */
  readBack(maxBytes = 64 * 1024 * 1024): LoggedEvent[] {
    if (!existsSync(this.path)) return [];
    const size = statSync(this.path).size;
    let text: string;
    if (size > maxBytes) {
      // Read one byte more: when it is a newline the window starts on a whole line.
      const fd = openSync(this.path, 'r');
      const buf = Buffer.alloc(maxBytes + 1);
      readSync(fd, buf, 0, maxBytes + 1, size - maxBytes - 1);
      closeSync(fd);
      text = buf.toString('utf8');
      text = text.slice(text.indexOf('\n') + 1);
    } else {
      text = readFileSync(this.path, 'utf8');
    }
    const out: LoggedEvent[] = [];
    const lines = text.split('\n');
    // A file that does not end with a newline had its last append cut short.
    if (lines.length && lines[lines.length - 1] !== '') this.torn = true;
    for (const line of lines) {
      if (!line) continue;
      try {
        const v = JSON.parse(line);
        if (v && typeof v === 'object' && typeof v.event === 'string') out.push(v as LoggedEvent);
      } catch {
        // torn or foreign line: skip it, keep the rest
      }
    }
    return out;
  }

  open(): void {
    this.fd = openSync(this.path, 'a', 0o600);
    // Start on a fresh line after a torn write so the next record is not glued to the torn one.
    if (this.torn) writeSync(this.fd, '\n');
  }

  append(e: LoggedEvent, flush = false): void {
    if (this.fd === undefined) return;
    writeSync(this.fd, JSON.stringify(e) + '\n');
    if (flush) fdatasyncSync(this.fd);
  }

  flush(): void {
    if (this.fd !== undefined) fdatasyncSync(this.fd);
  }

  close(): void {
    if (this.fd === undefined) return;
    try {
      fdatasyncSync(this.fd);
    } finally {
      closeSync(this.fd);
      this.fd = undefined;
    }
  }
}

