// Alerts not yet acknowledged by the manager, on disk in the state folder (alerts.json) so that
// neither a manager outage nor an agent restart loses one. Bounded: past the limit the oldest are
// dropped and counted. The file also holds the sequence counter and its epoch: a random name drawn
// when the file is created afresh (first start, or the file lost), so that a counter starting
// again at 1 is never taken by the manager for alerts it has already seen.
//
// A disk that cannot take the file (full, failing, read-only) does not stop alerts: they are kept
// in memory, sent and resent as usual, and the file is written once the disk takes it again.

import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { readState } from '../fs/durable.ts';
import { RetryingWriter, type RetryTimers } from '../fs/retrying-writer.ts';
import { parseAgentMessage, type AlertMsg } from '../wire/messages.ts';

/** Unacknowledged alerts kept by the agent (alerts.json); past it the oldest are dropped and counted. */
export const ALERT_QUEUE_MAX = 1000;

export const ALERTS_FILE = 'alerts.json';
const EPOCH_RE = /^[A-Za-z0-9-]{1,64}$/;

interface QueueFile {
  epoch: string;
  nextSeq: number;
  pending: AlertMsg[];
  dropped: number;
}

export interface AlertQueueOptions {
  /** where alerts.json lives; without it the queue is in memory only */
  stateDir?: string;
  log?: (line: string) => void;
  /** how often an unwritable file is tried again */
  retryMs?: number;
  /** the durable write (a test injects a failing one) */
  write?: (path: string, data: string) => void;
  timers?: RetryTimers;
  newEpoch?: () => string;
}

export class AlertQueue {
  private readonly writer: RetryingWriter | undefined;
  private data: QueueFile;

  /** Throws STATE_CORRUPT when alerts.json exists but cannot be read or parsed. */
  constructor(opts: AlertQueueOptions = {}) {
    const newEpoch = opts.newEpoch ?? randomUUID;
    const path = opts.stateDir ? join(opts.stateDir, ALERTS_FILE) : undefined;
    this.writer = path ? new RetryingWriter({ path, ...pick(opts) }) : undefined;
    const saved = path
      ? readState(path, parseQueueFile, 'move it away and restart the agent to start a new alert epoch (the unacknowledged alerts it holds are then lost), or put back a good copy')
      : undefined;
    if (!saved) {
      this.data = { epoch: newEpoch(), nextSeq: 1, pending: [], dropped: 0 };
      this.save(); // the epoch is on disk before the first alert of it
      return;
    }
    if (saved.epoch) {
      this.data = saved as QueueFile;
      return;
    }
    // A file from before epochs: its pending alerts stay as they were sent (no epoch), and the
    // counter goes on, so a manager that knows them by seq alone never sees a seq twice.
    this.data = { ...saved, epoch: newEpoch() };
    this.save();
  }

  /** The name of the current sequence counter. */
  get epoch(): string {
    return this.data.epoch;
  }

  /** Adds an alert with the next sequence number and writes the file (or keeps retrying it). */
  add(a: Omit<AlertMsg, 'type' | 'seq' | 'epoch'>): AlertMsg {
    const msg: AlertMsg = { type: 'alert', epoch: this.data.epoch, seq: this.data.nextSeq++, ...a };
    this.data.pending.push(msg);
    if (this.data.pending.length > ALERT_QUEUE_MAX) {
      this.data.dropped += this.data.pending.length - ALERT_QUEUE_MAX;
      this.data.pending.splice(0, this.data.pending.length - ALERT_QUEUE_MAX);
    }
    this.save();
    return msg;
  }

  /**
   * Removes the alert an ack names. With an epoch, both must match; without one (a manager older
   * than epochs) the seq alone, which is unique within one file's life. `exact` (a signed UDP ack):
   * the epoch must be the alert's own, so an ack without one names only an alert without one.
   */
  ack(seq: number, epoch?: string, exact = false): boolean {
    const i = this.data.pending.findIndex((p) => p.seq === seq && (exact ? p.epoch === epoch : epoch === undefined || (p.epoch ?? '') === epoch));
    if (i < 0) return false;
    this.data.pending.splice(i, 1);
    this.save();
    return true;
  }

  pending(): readonly AlertMsg[] {
    return this.data.pending;
  }

  get dropped(): number {
    return this.data.dropped;
  }

  /** True while the newest state is in memory only (the disk refused it; retrying). */
  get unsaved(): boolean {
    return this.writer?.failing ?? false;
  }

  /** One more try to write what is unwritten, then no more retries. */
  close(): void {
    this.writer?.flush();
    this.writer?.close();
  }

  private save(): void {
    this.writer?.write(JSON.stringify(this.data));
  }
}

function pick(o: AlertQueueOptions): Omit<ConstructorParameters<typeof RetryingWriter>[0], 'path'> {
  return {
    ...(o.log ? { log: o.log } : {}), ...(o.retryMs !== undefined ? { retryMs: o.retryMs } : {}),
    ...(o.write ? { write: o.write } : {}), ...(o.timers ? { timers: o.timers } : {}),
  };
}

/** Checks alerts.json field by field; every pending alert must be one the wire would accept. */
function parseQueueFile(text: string): QueueFile | Omit<QueueFile, 'epoch'> & { epoch?: undefined } {
  const v = JSON.parse(text) as Record<string, unknown>;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not a JSON object');
  if (v.epoch !== undefined && (typeof v.epoch !== 'string' || !EPOCH_RE.test(v.epoch))) throw new Error('"epoch" must be 1-64 letters, digits or dashes');
  if (typeof v.nextSeq !== 'number' || !Number.isSafeInteger(v.nextSeq) || v.nextSeq < 1) throw new Error('"nextSeq" must be a whole number from 1');
  if (!Array.isArray(v.pending)) throw new Error('"pending" must be a list');
  const dropped = v.dropped ?? 0;
  if (typeof dropped !== 'number' || !Number.isSafeInteger(dropped) || dropped < 0) throw new Error('"dropped" must be a whole number');
  const pending = v.pending.map((p, i) => {
    let m;
    try {
      m = parseAgentMessage(JSON.stringify(p));
    } catch (err) {
      throw new Error(`pending alert ${i + 1}: ${(err as Error).message}`);
    }
    if (m.type !== 'alert') throw new Error(`pending entry ${i + 1} is not an alert`);
    if (m.seq >= (v.nextSeq as number)) throw new Error(`pending alert ${i + 1} has seq ${m.seq}, not below nextSeq ${String(v.nextSeq)}`);
    return m;
  });
  return { ...(v.epoch ? { epoch: v.epoch as string } : {}), nextSeq: v.nextSeq, pending, dropped } as QueueFile;
}
