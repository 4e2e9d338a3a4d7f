// The agent's reports. Every sample is kept in the backlog (the spool on disk) with its number
// first, then sent at once while the manager accepts us; after each (re)acceptance whatever the
// manager has not acknowledged follows, oldest first and marked backfill, beside the live reports,
// which never wait for it. With a manager that acknowledges samples (acked-samples) a sample
// leaves the backlog only when the manager says it is in its history on disk, the backfill in
// flight is bounded by the window the manager grants, and a sample left unacknowledged too long
// is sent again. With an older manager a sample leaves the backlog once handed to the connection.

import type { FullStatus, Sample } from '../collect/types.ts';
import type { Link } from './connection.ts';
import { addLost, type Lost, type SampleBacklog, type SeqRanges } from './sample-backlog.ts';
import type { Report, SamplesAck } from '../wire/messages.ts';

/** Backlog samples read per step while catching up. */
const BACKFILL_BATCH = 64;
/** Backfill in flight before the first acknowledgement says otherwise. */
export const DEFAULT_SAMPLES_WINDOW = 64;
/**
 * A sample not acknowledged after this long is sent again (the manager takes it once). Above the
 * manager's 20 s between acknowledgements of live samples (ACK_LIVE_MS), with room for a loaded flush.
 */
const RESEND_AFTER_MS = 60_000;
/** Drops are logged at most this often (with their count). */
const LOST_LOG_MS = 60_000;
/** Live samples in flight at most; past it they wait in the backlog for the backfill. */
const LIVE_IN_FLIGHT_MAX = 1024;

export interface ReporterOptions {
  sample: () => Promise<Sample>;
  /** fields only a live report carries (the host's containers now), never spooled nor backfilled */
  liveExtras?: () => Pick<Report, 'containers'>;
  backlog: SampleBacklog;
  intervalMs: number;
  /** the connection when it may carry reports (welcomed and accepted), else undefined */
  link: () => Link | undefined;
  log: (line: string) => void;
  now?: () => number;
  resendAfterMs?: number;
}

/**
 * What the reporter has done since start, for `status` and the tests' exact counts: taken, the
 * newest one's time, unacknowledged (in the spool or memory), in flight, lost (a bound, a failing
 * disk, an unreadable line), and whether the manager acknowledges samples (acked-samples).
 */
export type ReporterFigures = NonNullable<FullStatus['samples']>;

interface Sent {
  at: number;
  backfill: boolean;
}

/** One accepted connection's delivery state. */
interface Session {
  peer: Link;
  acked: boolean;
  window: number;
  inFlight: Map<number, Sent>;
  backfillInFlight: number;
  /** the next number the backfill looks at */
  next: number;
  pumping: boolean;
  /** backfill samples sent (older manager) or acknowledged (acked-samples) on this connection */
  backfilled: number;
  told: boolean;
}

export class Reporter {
  private readonly o: ReporterOptions;
  private readonly now: () => number;
  private readonly resendAfterMs: number;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private session: Session | undefined;
  private taken = 0;
  private lastAt: number | null = null;
  private lostTotal = 0;
  /** when the last sample was taken, and the last one taken because of an acceptance (this.now()) */
  private takenAt = -Infinity;
  private acceptedAt = -Infinity;
  private lostUntold: Lost[] = [];
  private unlogged: Lost | null = null;
  private lostLoggedAt = -Infinity;

  constructor(o: ReporterOptions) {
    this.o = o;
    this.now = o.now ?? Date.now;
    this.resendAfterMs = o.resendAfterMs ?? RESEND_AFTER_MS;
  }

  get backlogSize(): number {
    return this.o.backlog.size;
  }

  figures(): ReporterFigures {
    const s = this.session;
    return {
      epoch: this.o.backlog.epoch, taken: this.taken, lastAt: this.lastAt, unacked: this.o.backlog.size,
      inFlight: s?.inFlight.size ?? 0, lost: this.lostTotal, acknowledged: !!s?.acked,
    };
  }

  start(): void {
    this.timer = setInterval(() => void this.report(), this.o.intervalMs);
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  /**
   * The manager accepted us on `peer`: a report at once, and the backlog beside it. `acked`: it
   * acknowledges samples (acked-samples), granting `window` backfill samples in flight.
   */
  async onAccepted(peer: Link, acked = false, window = DEFAULT_SAMPLES_WINDOW): Promise<void> {
    if (this.session?.peer !== peer) {
      this.session = { peer, acked, window, inFlight: new Map(), backfillInFlight: 0, next: 0, pumping: false, backfilled: 0, told: false };
    }
    this.lostLoggedAt = -Infinity;
    this.noteLost();
    this.tellLost();
    await Promise.all([this.report('accepted'), this.pump(this.session)]);
  }

  /** The connection is gone: what it did not get acknowledged is sent on the next one (and made durable now). */
  onLost(): void {
    this.session = undefined;
    this.o.backlog.sync?.();
  }

  /** The manager has these samples in its history. */
  onAck(peer: Link, msg: SamplesAck): void {
    this.o.backlog.ack(msg.ranges);
    const s = this.session;
    if (!s || s.peer !== peer) return;
    if (msg.window !== undefined) s.window = msg.window;
    forEachIn(msg.ranges, s.inFlight, (seq, sent) => {
      s.inFlight.delete(seq);
      if (sent.backfill) {
        s.backfillInFlight--;
        s.backfilled++;
      }
    });
    void this.pump(s);
  }

  /**
   * Samples and reports (and sends again what waited too long for its acknowledgement). On an
   * acceptance a sample is taken at once only when none was taken within the interval, and the
   * next tick skips when that one was taken within half an interval: the history keeps one sample
   * an interval, and two that close would share its slot (the earlier lost).
   */
  async report(why: 'tick' | 'accepted' = 'tick'): Promise<void> {
    const t = this.now();
    if (why === 'accepted' && t - this.takenAt < this.o.intervalMs) return;
    if (why === 'tick' && t - this.acceptedAt < this.o.intervalMs / 2) return;
    this.takenAt = t;
    if (why === 'accepted') this.acceptedAt = t;
    this.resend();
    let sample: Sample;
    try {
      sample = await this.o.sample();
    } catch (err) {
      this.o.log(`sampling failed: ${(err as Error).message}`);
      return;
    }
    if (this.stopped) return;
    const s = this.session;
    const peer = this.o.link();
    const live = !!s && !!peer && s.peer === peer && !peer.closed;
    let seq: number;
    try {
      seq = this.o.backlog.push(sample, !live);
    } catch (err) {
      this.o.log(`could not keep a sample: ${(err as Error).message}`);
      return;
    }
    this.taken++;
    this.lastAt = sample.at;
    this.noteLost();
    if (!live || !s || !peer) return;
    if (s.acked && s.inFlight.size - s.backfillInFlight >= LIVE_IN_FLIGHT_MAX) {
      void this.pump(s); // sent by the backfill once acknowledgements make room
      return;
    }
    peer.post({ type: 'report', at: sample.at, metrics: sample.metrics, ...sampleExtras(sample), ...this.o.liveExtras?.(), seq });
    if (s.acked) s.inFlight.set(seq, { at: this.now(), backfill: false });
    else this.o.backlog.ack([[seq, seq]]);
  }

  /** Sends what the manager has not acknowledged, oldest first, within the window. */
  private async pump(s: Session): Promise<void> {
    if (s.pumping) return;
    s.pumping = true;
    const b = this.o.backlog;
    try {
      while (this.session === s && !s.peer.closed && !this.stopped) {
        const room = s.acked ? s.window - s.backfillInFlight : BACKFILL_BATCH;
        if (room <= 0) break;
        const batch = b.read(s.next, Math.min(BACKFILL_BATCH, room));
        this.noteLost();
        if (!batch.length) break;
        for (const k of batch) {
          s.next = k.seq + 1;
          if (s.inFlight.has(k.seq)) continue;
          await s.peer.send({ type: 'report', at: k.sample.at, metrics: k.sample.metrics, ...sampleExtras(k.sample), backfill: true, seq: k.seq });
          if (s.acked) {
            s.inFlight.set(k.seq, { at: this.now(), backfill: true });
            s.backfillInFlight++;
          } else {
            b.ack([[k.seq, k.seq]]);
            s.backfilled++;
          }
        }
      }
    } catch {
      // disconnected again: what is left stays for the next connection
    } finally {
      s.pumping = false;
    }
    if (this.session === s && !s.told && s.backfilled && s.backfillInFlight === 0 && !b.read(s.next, 1).length) {
      s.told = true;
      this.o.log(s.acked ? `${s.backfilled} samples taken while away are in the manager's history` : `sent ${s.backfilled} samples taken while away`);
    }
  }

  /** Samples in flight for too long are forgotten as sent, and the backfill goes back for them. */
  private resend(): void {
    const s = this.session;
    if (!s || !s.acked || !s.inFlight.size) return;
    const before = this.now() - this.resendAfterMs;
    // Sent in order: when the oldest is not due, none is (one look a report, not a walk).
    const oldest = s.inFlight.values().next().value;
    if (!oldest || oldest.at > before) return;
    let lowest = Infinity;
    for (const [seq, sent] of s.inFlight) {
      if (sent.at > before) continue;
      s.inFlight.delete(seq);
      if (sent.backfill) s.backfillInFlight--;
      if (seq < lowest) lowest = seq;
    }
    if (lowest === Infinity) return;
    s.next = Math.min(s.next, lowest);
    void this.pump(s);
  }

  private noteLost(): void {
    const l = this.o.backlog.takeLost();
    if (l) {
      this.lostTotal += l.count;
      this.unlogged = addLost(this.unlogged, l.reason, l.count, l.firstAt, l.lastAt);
      const last = this.lostUntold[this.lostUntold.length - 1];
      if (last?.reason === l.reason) addLost(last, l.reason, l.count, l.firstAt, l.lastAt);
      else if (this.lostUntold.length < 16) this.lostUntold.push({ ...l });
      this.tellLost();
    }
    // Logged at once, then at most once a minute with the count (a full spool drops one a sample).
    const u = this.unlogged;
    if (!u || this.now() - this.lostLoggedAt < LOST_LOG_MS) return;
    this.unlogged = null;
    this.lostLoggedAt = this.now();
    const span = u.firstAt !== undefined && u.lastAt !== undefined ? ` (taken ${new Date(u.firstAt).toISOString()} to ${new Date(u.lastAt).toISOString()})` : '';
    const why = u.reason === 'spool-full' ? 'the spool is full' : u.reason === 'memory-full' ? 'no spool on disk and memory is full' : 'unreadable in the spool';
    this.o.log(`${u.count} samples dropped${span}: ${why}`);
  }

  /** Tells a manager that acknowledges samples what was dropped, so it is on its record too. */
  private tellLost(): void {
    const s = this.session;
    if (!s?.acked || s.peer.closed) return;
    for (const l of this.lostUntold.splice(0)) s.peer.post({ type: 'samples-lost', ...l });
  }
}

/** Calls `fn` for each entry of `map` whose number is in `ranges`, walking whichever is shorter. */
function forEachIn(ranges: SeqRanges, map: Map<number, Sent>, fn: (seq: number, sent: Sent) => void): void {
  let width = 0;
  for (const [a, b] of ranges) width += b - a + 1;
  if (width <= map.size) {
    for (const [a, b] of ranges) {
      for (let q = a; q <= b; q++) {
        const sent = map.get(q);
        if (sent) fn(q, sent);
      }
    }
    return;
  }
  for (const [seq, sent] of [...map]) if (ranges.some(([a, b]) => seq >= a && seq <= b)) fn(seq, sent);
}

function sampleExtras(s: Sample): Pick<Sample, 'interfaces' | 'mounts' | 'processes' | 'containerUsage'> {
  return {
    ...(s.interfaces ? { interfaces: s.interfaces } : {}), ...(s.mounts ? { mounts: s.mounts } : {}), ...(s.processes ? { processes: s.processes } : {}),
    ...(s.containerUsage ? { containerUsage: s.containerUsage } : {}),
  };
}
