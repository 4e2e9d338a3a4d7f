// Delivery to one Alertmanager (each member of a cluster is its own destination and gets every
// alert, as Prometheus does). Its outbox items are the conditions it must know about: a firing one
// is re-sent every resend period with endsAt a few periods ahead (so a manager that dies lets it
// resolve by itself, and an Alertmanager that restarted learns it again); a resolution is sent with
// its endsAt and re-sent for RESOLVED_RESEND_MS after it first got through, then dropped.

import { Courier, type CourierOptions } from './courier.ts';
import type { AmAlert } from './formats.ts';
import { displayUrl, postJson } from './http-post.ts';
import type { Outbox, OutboxItem } from './outbox.ts';

/** Firing alerts are re-sent to Alertmanager this often (Prometheus' --rules.alert.resend-delay). */
export const ALERT_RESEND_MS = 60_000;
/** A firing alert's endsAt is this many resend periods ahead: a manager that dies lets it resolve. */
export const ALERT_ENDS_AFTER_RESENDS = 4;
/** A resolution is re-sent for this long after it was first delivered (as Prometheus does). */
const RESOLVED_RESEND_MS = 15 * 60_000;
/** Alerts in one POST to Alertmanager. */
const ALERTMANAGER_BATCH = 500;

export interface AmItem {
  state: 'firing' | 'resolved' | 'once';
  alert: AmAlert;
  /** ms since epoch; for resolved and one-shot alerts */
  endsAt?: number;
}

export interface AlertmanagerOptions extends CourierOptions {
  resendMs?: number;
  resolvedResendMs?: number;
  timeoutMs?: number;
}

/** POST /api/v2/alerts under the URL given, unless the URL already names that path. */
export function alertsEndpoint(url: string): string {
  const u = new URL(url);
  if (!/\/api\/v2\/alerts\/?$/.test(u.pathname)) u.pathname = `${u.pathname.replace(/\/+$/, '')}/api/v2/alerts`;
  return u.toString();
}

export class AlertmanagerSender extends Courier {
  readonly kind = 'alertmanager' as const;
  private readonly endpoint: string;
  private readonly resendMs: number;
  private readonly resolvedResendMs: number;
  private readonly timeoutMs: number | undefined;
  /** when each item last got through (memory only: after a restart everything is sent again) */
  private readonly lastSent = new Map<string, number>();
  private readonly resolvedSince = new Map<string, number>();

  constructor(dest: string, url: string, outbox: Outbox, o: AlertmanagerOptions = {}) {
    super(dest, url, outbox, o);
    this.endpoint = alertsEndpoint(url);
    this.resendMs = o.resendMs ?? ALERT_RESEND_MS;
    this.resolvedResendMs = o.resolvedResendMs ?? RESOLVED_RESEND_MS;
    this.timeoutMs = o.timeoutMs;
  }

  displayUrl(): string {
    return displayUrl(this.url);
  }

  /** The item changed (fired, resolved): send it at the next run, whatever was sent before. */
  changed(key: string): void {
    this.lastSent.delete(key);
    this.resolvedSince.delete(key);
  }

  protected async work(): Promise<number | null> {
    const now = this.now();
    const items = this.outbox.list(this.dest);
    for (const it of items) {
      const since = this.resolvedSince.get(it.key);
      if (since !== undefined && now - since >= this.resolvedResendMs) {
        this.outbox.remove(it.key);
        this.forget(it.key);
      }
    }
    const due = this.outbox.list(this.dest).filter((it) => (this.lastSent.get(it.key) ?? -Infinity) + this.resendMs <= now);
    for (let i = 0; i < due.length; i += ALERTMANAGER_BATCH) {
      const batch = due.slice(i, i + ALERTMANAGER_BATCH);
      const sentAt = this.now();
      await postJson(this.endpoint, JSON.stringify(batch.map((it) => this.wire(it, sentAt))), {}, { timeoutMs: this.timeoutMs });
      for (const it of batch) this.delivered(it, sentAt);
      this.succeeded(batch.length);
    }
    // Next run: when the earliest item is due again.
    let next: number | null = null;
    for (const it of this.outbox.list(this.dest)) {
      const at = (this.lastSent.get(it.key) ?? now) + this.resendMs;
      next = next === null ? at : Math.min(next, at);
    }
    return next === null ? null : Math.max(0, next - this.now());
  }

  private wire(it: OutboxItem, sentAt: number): AmAlert {
    const b = it.body as AmItem;
    const endsAt = b.state === 'firing' ? sentAt + ALERT_ENDS_AFTER_RESENDS * this.resendMs : (b.endsAt ?? sentAt);
    return { ...b.alert, endsAt: new Date(endsAt).toISOString() };
  }

  private delivered(it: OutboxItem, at: number): void {
    const b = it.body as AmItem;
    if (this.outbox.get(it.key) !== it) return; // replaced while in flight: the new one is due
    if (b.state === 'once') {
      this.outbox.remove(it.key);
      this.forget(it.key);
      return;
    }
    this.lastSent.set(it.key, at);
    if (b.state === 'resolved' && !this.resolvedSince.has(it.key)) this.resolvedSince.set(it.key, at);
  }

  private forget(key: string): void {
    this.lastSent.delete(key);
    this.resolvedSince.delete(key);
  }
}
