// The delivery loop every destination shares: one attempt at a time, run when there is news or
// when the destination said it needs to run again, and after a failure only once the jittered
// backoff (min(base * 2^n, cap), full jitter) has passed. Keeps the figures `notify status` shows.

import { Backoff } from '../util/backoff.ts';
import { isHwError } from '../errors.ts';
import { redactUrl, scrubSecrets } from '../net/redact.ts';
import type { Outbox } from './outbox.ts';

/** Delivery retries: min(base * 2^n, cap) with full jitter, until the destination answers. */
const NOTIFY_BACKOFF_BASE_MS = 1000;
const NOTIFY_BACKOFF_CAP_MS = 60_000;

export interface DestinationStatus {
  name: string;
  kind: 'alertmanager' | 'webhook';
  url: string;
  queued: number;
  sent: number;
  failed: number;
  dropped: number;
  /** webhook events the receiver refused for good (4xx), set aside after WEBHOOK_REJECT_ATTEMPTS */
  rejected: number;
  lastSuccessAt: string | null;
  lastErrorAt: string | null;
  lastError: string | null;
  /** the HwError code of the last failure (UNAVAILABLE, REJECTED, TIMEOUT...) */
  lastErrorCode: string | null;
  nextAttemptAt: string | null;
}

export interface CourierOptions {
  now?: () => number;
  backoff?: Backoff;
}

export abstract class Courier {
  /** the outbox key of this destination (stable across restarts) */
  readonly dest: string;
  abstract readonly kind: DestinationStatus['kind'];
  protected readonly outbox: Outbox;
  protected readonly now: () => number;
  private readonly backoff: Backoff;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = 0;
  private running = false;
  private again = false;
  private closed = false;
  private inBackoff = false;
  protected sent = 0;
  protected rejected = 0;
  private failures = 0;
  private lastSuccessAt: number | null = null;
  private lastErrorAt: number | null = null;
  private lastError: string | null = null;
  private lastErrorCode: string | null = null;
  private idle: (() => void)[] = [];

  constructor(dest: string, readonly url: string, outbox: Outbox, o: CourierOptions = {}) {
    this.dest = dest;
    this.outbox = outbox;
    this.now = o.now ?? Date.now;
    this.backoff = o.backoff ?? new Backoff({ baseMs: NOTIFY_BACKOFF_BASE_MS, capMs: NOTIFY_BACKOFF_CAP_MS });
  }

  /** Delivers what is due; returns ms until it must run again (null: only when kicked). Throws on failure. */
  protected abstract work(): Promise<number | null>;
  abstract displayUrl(): string;

  /** There is something new: deliver it soon (not before a running backoff ends). */
  kick(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.inBackoff) return;
    this.schedule(0);
  }

  /** `redact`: for viewers, the URL as scheme://host:port only. */
  status(o: { redact?: boolean } = {}): DestinationStatus {
    const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
    return {
      name: this.dest, kind: this.kind, url: o.redact ? redactUrl(this.url) : this.displayUrl(), queued: this.outbox.count(this.dest), sent: this.sent, failed: this.failures,
      dropped: this.outbox.dropped(this.dest), rejected: this.rejected, lastSuccessAt: iso(this.lastSuccessAt), lastErrorAt: iso(this.lastErrorAt), lastError: this.lastError,
      lastErrorCode: this.lastErrorCode, nextAttemptAt: this.timer && this.timerAt > this.now() ? iso(this.timerAt) : null,
    };
  }

  /** Resolves when no attempt is running (for a clean shutdown and for tests). */
  settled(): Promise<void> {
    return this.running ? new Promise((r) => this.idle.push(r)) : Promise.resolve();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  protected succeeded(n: number): void {
    this.sent += n;
    this.lastSuccessAt = this.now();
  }

  private schedule(ms: number): void {
    const at = this.now() + ms;
    if (this.timer && this.timerAt <= at) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.run();
    }, ms);
    this.timer.unref?.();
  }

  private async run(): Promise<void> {
    if (this.running || this.closed) return;
    this.running = true;
    this.again = false;
    let next: number | null;
    try {
      next = await this.work();
      this.backoff.reset();
      this.inBackoff = false;
    } catch (err) {
      this.failures++;
      this.lastErrorAt = this.now();
      // postJson already scrubs its messages; this catches any other error that names the URL.
      this.lastError = scrubSecrets((err as Error).message, { urls: [this.url] }).slice(0, 300);
      this.lastErrorCode = isHwError(err) ? err.code : 'INTERNAL';
      this.inBackoff = true;
      next = this.backoff.next();
    }
    this.running = false;
    for (const r of this.idle.splice(0)) r();
    if (this.closed) return;
    if (this.again && !this.inBackoff) next = 0;
    if (next !== null) this.schedule(Math.max(0, next));
  }
}
