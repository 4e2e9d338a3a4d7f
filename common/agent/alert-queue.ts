// Alerts not yet acknowledged by the manager, on disk in the state folder so that neither a
// manager outage nor an agent restart loses one. Bounded: past the limit the oldest are dropped
// and counted. The sequence counter lives in the same file.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AlertMsg } from '../wire/messages.ts';
import { writeDurable } from '../fs/durable.ts';

export const ALERT_QUEUE_MAX = 1000;

interface QueueFile {
  nextSeq: number;
  pending: AlertMsg[];
  dropped: number;
}

export class AlertQueue {
  private readonly path: string | undefined;
  private data: QueueFile = { nextSeq: 1, pending: [], dropped: 0 };

  constructor(stateDir?: string) {
    this.path = stateDir ? join(stateDir, 'alerts.json') : undefined;
    if (!this.path) return;
    try {
      const v = JSON.parse(readFileSync(this.path, 'utf8')) as QueueFile;
      if (typeof v.nextSeq === 'number' && Array.isArray(v.pending)) this.data = { nextSeq: v.nextSeq, pending: v.pending, dropped: v.dropped ?? 0 };
    } catch {
      // none yet, or unreadable: start afresh (seq continues from 1 only on a new state folder)
    }
  }

  /** Adds an alert with the next sequence number; it is on disk when this returns. */
  add(a: Omit<AlertMsg, 'type' | 'seq'>): AlertMsg {
    const msg: AlertMsg = { type: 'alert', seq: this.data.nextSeq++, ...a };
    this.data.pending.push(msg);
    if (this.data.pending.length > ALERT_QUEUE_MAX) {
      this.data.dropped += this.data.pending.length - ALERT_QUEUE_MAX;
      this.data.pending.splice(0, this.data.pending.length - ALERT_QUEUE_MAX);
    }
    this.save();
    return msg;
  }

  ack(seq: number): boolean {
    const i = this.data.pending.findIndex((p) => p.seq === seq);
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

  private save(): void {
    if (this.path) writeDurable(this.path, JSON.stringify(this.data));
  }
}
