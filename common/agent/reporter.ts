// The agent's reports: a sample every interval, sent at once while connected and accepted, kept
// in the backlog otherwise; after each (re)acceptance the backlog follows, oldest first and marked
// backfill, beside the live reports, which never wait for it (the manager's history files each
// sample under its own time, so the order of arrival does not matter).

import type { Sample } from '../collect/types.ts';
import type { Link } from './connection.ts';
import type { SampleBacklog } from './sample-backlog.ts';

/** Backlog samples read per step while catching up. */
const BACKFILL_BATCH = 64;

export interface ReporterOptions {
  sample: () => Promise<Sample>;
  backlog: SampleBacklog;
  intervalMs: number;
  /** the connection when it may carry reports (welcomed and accepted), else undefined */
  link: () => Link | undefined;
  log: (line: string) => void;
}

export class Reporter {
  private readonly o: ReporterOptions;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** the connection the backlog is being sent on */
  private catchingUp: Link | undefined;

  constructor(o: ReporterOptions) {
    this.o = o;
  }

  get backlogSize(): number {
    return this.o.backlog.size;
  }

  start(): void {
    this.timer = setInterval(() => void this.report(), this.o.intervalMs);
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  /** The manager accepted us on `peer`: a report at once, and the backlog beside it. */
  async onAccepted(peer: Link): Promise<void> {
    await Promise.all([this.report(), this.sendBacklog(peer)]);
  }

  /** Samples and reports; while it cannot (or the backlog is not through yet) the sample is kept. */
  async report(): Promise<void> {
    let s: Sample;
    try {
      s = await this.o.sample();
    } catch (err) {
      this.o.log(`sampling failed: ${(err as Error).message}`);
      return;
    }
    if (this.stopped) return;
    const peer = this.o.link();
    if (peer && !peer.closed) {
      peer.post({ type: 'report', at: s.at, metrics: s.metrics, ...sampleExtras(s) });
      return;
    }
    try {
      await this.o.backlog.push(s);
    } catch (err) {
      this.o.log(`could not keep a sample for later: ${(err as Error).message}`);
    }
  }

  private async sendBacklog(peer: Link): Promise<void> {
    if (this.catchingUp === peer) return;
    this.catchingUp = peer;
    const b = this.o.backlog;
    const dropped = b.takeDropped();
    if (dropped) this.o.log(`${dropped} samples taken while away were dropped (the backlog is bounded)`);
    let sent = 0;
    try {
      while (b.size && !peer.closed && !this.stopped) {
        const batch = await b.read(BACKFILL_BATCH);
        if (!batch.length) break;
        for (const s of batch) await peer.send({ type: 'report', at: s.at, metrics: s.metrics, ...sampleExtras(s), backfill: true });
        // Dropped a batch at a time (a spool on disk records its cursor per drop); a batch cut
        // short by a disconnection is sent again, and the manager files a repeat in the same slot.
        await b.drop(batch.length);
        sent += batch.length;
      }
    } catch {
      // disconnected again: what is left stays for the next connection
    } finally {
      if (this.catchingUp === peer) this.catchingUp = undefined;
    }
    if (sent) this.o.log(`sent ${sent} samples taken while away`);
  }
}

function sampleExtras(s: Sample): Pick<Sample, 'interfaces' | 'mounts'> {
  return { ...(s.interfaces ? { interfaces: s.interfaces } : {}), ...(s.mounts ? { mounts: s.mounts } : {}) };
}
