// Which agent alerts the manager has already taken, keyed by agent, epoch and seq: an agent whose
// alert counter was reset (its alerts.json lost, a new epoch drawn) starts at seq 1 again and is
// never dropped as a duplicate of its old counter. Each entry remembers the record number of its
// line in events.jsonl, so the manager acknowledges an alert only once that line is on disk.

/** Per-agent seqs remembered for duplicate suppression. */
export const ALERT_DEDUPE_WINDOW = 4096;
/** Alert counters (epochs) remembered per agent: a reset is rare, an old epoch's resends stop at its ack. */
const ALERT_EPOCHS_KEPT = 4;

/** A record number from the event log; DURABLE for what was read back from disk. */
export const DURABLE = 0;

interface Counter {
  max: number;
  marks: Map<number, number>;
}

export type Seen = { seen: false } | { seen: true; mark: number };

export class AlertDedupe {
  private readonly byAgent = new Map<string, Map<string, Counter>>();
  private readonly window: number;

  constructor(window = ALERT_DEDUPE_WINDOW) {
    this.window = window;
  }

  /** Whether (agent, epoch, seq) was taken before, and the record number it was written as. */
  check(agentId: string, epoch: string, seq: number): Seen {
    const c = this.byAgent.get(agentId)?.get(epoch);
    if (!c) return { seen: false };
    // Older than the window: long since handled (and on disk, or it would still be in the window).
    if (seq <= c.max - this.window) return { seen: true, mark: DURABLE };
    const mark = c.marks.get(seq);
    return mark === undefined ? { seen: false } : { seen: true, mark };
  }

  /** Remembers (agent, epoch, seq) as taken, written as record `mark`. */
  mark(agentId: string, epoch: string, seq: number, mark: number): void {
    let epochs = this.byAgent.get(agentId);
    if (!epochs) this.byAgent.set(agentId, (epochs = new Map()));
    let c = epochs.get(epoch);
    if (!c) {
      c = { max: 0, marks: new Map() };
      epochs.set(epoch, c);
      while (epochs.size > ALERT_EPOCHS_KEPT) epochs.delete(epochs.keys().next().value as string);
    }
    c.marks.set(seq, mark);
    if (seq > c.max) {
      c.max = seq;
      if (c.marks.size > this.window * 2) {
        for (const s of c.marks.keys()) if (s <= c.max - this.window) c.marks.delete(s);
      }
    }
  }

  /** Forgets an agent (revoked). */
  forget(agentId: string): void {
    this.byAgent.delete(agentId);
  }
}
