// Delivery to one webhook: each event POSTed once, in order, as JSON signed with HMAC-SHA256 of the
// exact body (header x-hostwatch-signature: sha256=<hex>), retried until the receiver answers 2xx.
// The event id (header x-hostwatch-event) stays the same across retries so a receiver can dedupe.
// An event the receiver refuses with a 4xx WEBHOOK_REJECT_ATTEMPTS times in a row is set aside
// (onRejected records it) so that one bad event, or a receiver that refuses its format, does not
// hold back every later one.

import { createHmac } from 'node:crypto';
import { isHwError } from '../errors.ts';
import { Courier, type CourierOptions } from './courier.ts';
import type { WebhookFormat } from './formats.ts';
import { displayUrl, postJson } from './http-post.ts';
import type { Outbox } from './outbox.ts';

/**
 * A webhook event the receiver refuses with a 4xx (not 408/425/429) this many times in a row is set
 * aside (recorded, counted as rejected) so it does not hold back every event queued behind it.
 */
export const WEBHOOK_REJECT_ATTEMPTS = 5;
/** Headers of a webhook POST: the body's signature and the event's id. */
const WEBHOOK_SIGNATURE_HEADER = 'x-hostwatch-signature';
const WEBHOOK_EVENT_HEADER = 'x-hostwatch-event';

export interface WebhookItem {
  id: string;
  payload: unknown;
}

/** `sha256=<hex of HMAC-SHA256(secret, body)>`, what the signature header carries. */
export function signBody(secret: string, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export class WebhookSender extends Courier {
  readonly kind = 'webhook' as const;
  readonly format: WebhookFormat;
  private readonly secret: string;
  private readonly timeoutMs: number | undefined;
  private readonly onRejected: ((eventId: string, why: string) => void) | undefined;
  /** refusals in a row of the event at the head of the queue */
  private refusals = { key: '', n: 0 };

  constructor(dest: string, url: string, outbox: Outbox, o: CourierOptions & { secret: string; format: WebhookFormat; timeoutMs?: number; onRejected?: (eventId: string, why: string) => void }) {
    super(dest, url, outbox, o);
    this.onRejected = o.onRejected;
    this.secret = o.secret;
    this.format = o.format;
    this.timeoutMs = o.timeoutMs;
  }

  displayUrl(): string {
    // A chat service's webhook URL is itself the secret: show only where it goes.
    return displayUrl(this.url, true);
  }

  protected async work(): Promise<number | null> {
    for (;;) {
      const it = this.outbox.first(this.dest);
      if (!it) return null;
      const b = it.body as WebhookItem;
      const body = JSON.stringify(b.payload);
      try {
        await postJson(this.url, body, { [WEBHOOK_SIGNATURE_HEADER]: signBody(this.secret, body), [WEBHOOK_EVENT_HEADER]: b.id }, { timeoutMs: this.timeoutMs, secrets: [this.secret] });
      } catch (err) {
        if (!isHwError(err) || err.code !== 'REJECTED') throw err;
        this.refusals = { key: it.key, n: this.refusals.key === it.key ? this.refusals.n + 1 : 1 };
        if (this.refusals.n < WEBHOOK_REJECT_ATTEMPTS) throw err;
        this.outbox.remove(it.key);
        this.rejected++;
        this.onRejected?.(b.id, err.message);
        continue;
      }
      this.outbox.remove(it.key);
      this.succeeded(1);
    }
  }
}
