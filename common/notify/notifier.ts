// Turns every alert the manager records into deliveries: an Alertmanager alert for each
// `--alertmanager` (firing or resolving its condition) and one signed event for each `--webhook`,
// all queued in the durable outbox (and fsynced) before the alert is acknowledged to the agent,
// then delivered by each destination's courier with retries. Subscribes to ManagerState's 'alert'
// events; at start, queues what the record holds but the last run had not queued (killed between
// the two), found by the outbox's mark.

import { createHash } from 'node:crypto';
import { ALERT_ENDS_AFTER_RESENDS, ALERT_RESEND_MS, AlertmanagerSender, type AmItem } from './alertmanager-sender.ts';
import { WEBHOOK_REJECT_ATTEMPTS, WebhookSender, type WebhookItem } from './webhook-sender.ts';
import type { AgentRecord, AlertRecord, ManagerState } from '../manager/state.ts';
import { conditionKey, meaningOfAlert } from './alert-names.ts';
import type { Courier, DestinationStatus } from './courier.ts';
import type { Backoff } from '../util/backoff.ts';
import { amAlert, webhookBody, webhookEvent, type WebhookFormat } from './formats.ts';
import { displayUrl } from './http-post.ts';
import { Outbox, type OutboxOptions } from './outbox.ts';

export interface WebhookTarget {
  url: string;
  format: WebhookFormat;
}

export interface NotifierOptions {
  state: ManagerState;
  dataDir: string;
  alertmanagers: string[];
  webhooks: WebhookTarget[];
  /** HMAC key of the webhook signatures */
  secret: string;
  resendMs?: number;
  resolvedResendMs?: number;
  timeoutMs?: number;
  now?: () => number;
  backoff?: () => Backoff;
  outbox?: Partial<OutboxOptions>;
  /** human-readable notices (a disk error, and when it clears) */
  notice?: (line: string) => void;
}

export interface NotifyStatus {
  destinations: DestinationStatus[];
  outbox: ReturnType<Outbox['figures']> & { skippedBytes: number };
}

/** A destination's outbox name: stable across restarts and flag order, not the URL itself. */
export function destName(kind: string, url: string): string {
  return `${kind === 'alertmanager' ? 'am' : 'wh'}-${createHash('sha256').update(url).digest('hex').slice(0, 12)}`;
}

export class Notifier {
  readonly outbox: Outbox;
  /**
   * The dashboard's address (ends with '/'), once the manager serves it: each Alertmanager alert
   * then links to its host's page (generatorURL).
   */
  dashboardUrl = '';
  private readonly o: NotifierOptions;
  private readonly now: () => number;
  private readonly ams: AlertmanagerSender[] = [];
  private readonly hooks: WebhookSender[] = [];
  /** queueMissed() has run: from now on each alert moves the outbox's mark */
  private caughtUp = false;
  /** alerts queued live before queueMissed() ran (it skips them) */
  private readonly queuedEarly = new Set<number>();
  private readonly onAlert = (a: AlertRecord) => {
    if (!this.caughtUp) this.queuedEarly.add(a.n);
    // Until queueMissed() has run the mark stays where the last run left it: a crash before then
    // queues again what that run missed.
    this.queueAlert(a, this.caughtUp ? a.n : undefined);
  };
  private readonly onAgent = (rec: AgentRecord, what: string) => {
    if (what === 'removed') this.forgetAgent(rec.id);
  };
  private storageTimer: NodeJS.Timeout | undefined;

  constructor(o: NotifierOptions) {
    this.o = o;
    this.now = o.now ?? Date.now;
    this.outbox = new Outbox({
      dir: o.dataDir, ...o.outbox,
      onStorage: (err) => o.notice?.(err ? `notify: ${err}; alerts are kept in memory and written again when the disk takes them` : 'notify: the outbox is written to disk again'),
    });
    if (this.outbox.skippedBytes) o.notice?.(`notify: ${this.outbox.skippedBytes} bytes at the end of ${this.outbox.figures().path} were torn or corrupt (a crash mid-write) and were cut off`);
    const common = { now: this.now, ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}) };
    for (const url of o.alertmanagers) {
      this.ams.push(new AlertmanagerSender(destName('alertmanager', url), url, this.outbox, {
        ...common, ...(o.resendMs ? { resendMs: o.resendMs } : {}), ...(o.resolvedResendMs ? { resolvedResendMs: o.resolvedResendMs } : {}),
        ...(o.backoff ? { backoff: o.backoff() } : {}),
      }));
    }
    for (const w of o.webhooks) {
      this.hooks.push(new WebhookSender(destName('webhook', `${w.format} ${w.url}`), w.url, this.outbox, {
        ...common, secret: o.secret, format: w.format, ...(o.backoff ? { backoff: o.backoff() } : {}),
        onRejected: (id, why) => this.rejected(w.url, id, why),
      }));
    }
  }

  /** A webhook event refused for good: in the record and on the console, so it is not lost unseen. */
  private rejected(url: string, id: string, why: string): void {
    const where = displayUrl(url, true);
    this.o.state.record({ at: this.now(), event: 'notify-rejected', destination: where, id, error: why });
    this.o.notice?.(`notify: webhook ${where} refused event ${id} ${WEBHOOK_REJECT_ATTEMPTS} times (${why}); set aside, see events.jsonl`);
  }

  /** Queues a recorded alert's deliveries and moves the outbox's mark to it, in one write. */
  private queueAlert(a: AlertRecord, mark: number | undefined): void {
    this.outbox.queue(mark, () => {
      // Called inside the manager's alert intake: whatever goes wrong here must not stop the ack.
      try {
        // A silence holds back the notification, not the record. The end of a condition already
        // notified still goes to Alertmanager, or it would be left firing there.
        if (a.silenced || this.o.state.isSilenced(a)) {
          if (!meaningOfAlert(a).firing) this.alert(a, 'alert', { webhooks: false });
          return;
        }
        this.alert(a);
      } catch (err) {
        this.o.notice?.(`notify: ${a.type} of ${a.agent} not queued: ${(err as Error).message}`);
      }
    });
    // An agent's alert is acknowledged as soon as this returns: its deliveries are on disk before.
    // The manager's own (a sweep's AGENT_DOWN for many agents) share one fsync on the next turn.
    if (a.via !== 'manager') this.outbox.sync();
  }

  /**
   * Queues the alerts in the manager's record above the outbox's mark: recorded, but the last run
   * was killed before it queued them. Then the mark moves to the newest recorded alert. Called
   * once the manager has read its record back, before it serves. No mark (a new outbox, one
   * written before marks, or one left by a run without destinations): what was recorded is
   * history and is not sent. Returns how many alerts were queued (silenced ones not counted).
   */
  queueMissed(): number {
    if (this.caughtUp) return 0;
    const from = this.outbox.mark;
    let missed = 0;
    if (from !== undefined) {
      for (const a of this.o.state.alerts(from)) {
        if (this.queuedEarly.has(a.n)) continue;
        this.queueAlert(a, a.n); // a silenced one as live: held back, its mark moved all the same
        if (!a.silenced && !this.o.state.isSilenced(a)) missed++;
      }
    }
    this.caughtUp = true;
    this.queuedEarly.clear();
    // Exactly the newest: a mark above it (a record moved away) would hide the alerts to come.
    this.outbox.setMark(this.o.state.alerts().at(-1)?.n ?? 0);
    this.outbox.sync();
    if (missed) this.o.notice?.(`notify: ${missed} alert${missed === 1 ? '' : 's'} recorded before the manager stopped had not been queued for notification; queued now`);
    return missed;
  }

  private get couriers(): Courier[] {
    return [...this.ams, ...this.hooks];
  }

  /** Subscribes to the manager's alerts and starts delivering what the outbox still holds. */
  start(): void {
    this.o.state.on('alert', this.onAlert);
    for (const c of this.couriers) c.kick();
    // A disk error left the log out of date: try again now and then (not from the alert path only).
    this.storageTimer = setInterval(() => {
      if (this.outbox.storageError) this.outbox.retryStorage();
    }, 5000);
    this.storageTimer.unref();
  }

  /**
   * From now on, an agent the manager forgets (revoked) has what still fires for it resolved.
   * Called once the manager serves: the agents it drops while reading its record back at start
   * were not revoked, and their alerts must still be delivered.
   */
  watchRevocations(): void {
    this.o.state.off('agent', this.onAgent);
    this.o.state.on('agent', this.onAgent);
  }

  private hostUrl(agentId: string): string | undefined {
    return this.dashboardUrl ? `${this.dashboardUrl}#/host/${encodeURIComponent(agentId)}` : undefined;
  }

  /** Queues one recorded alert for every destination. */
  alert(a: AlertRecord, kind: 'alert' | 'test' = 'alert', to: { webhooks?: boolean } = {}): string {
    const agent = this.o.state.agent(a.agentId);
    const m = meaningOfAlert(a);
    const resendMs = this.o.resendMs ?? ALERT_RESEND_MS;
    for (const am of this.ams) {
      const key = `${am.dest}|${m.oneShot ? `once|${a.agentId}|${a.type}|${a.n}|${a.at}` : conditionKey(m.alertname, a.agentId, a.labels)}`;
      let item: AmItem;
      if (m.oneShot) {
        item = { state: 'once', alert: amAlert(a, agent, a.at, this.hostUrl(a.agentId)), endsAt: a.at + ALERT_ENDS_AFTER_RESENDS * resendMs };
      } else if (m.firing) {
        const prev = this.outbox.get(key)?.body as AmItem | undefined;
        // Still firing (a repeated CPU_HIGH): keep its start, or Alertmanager sees a new alert.
        const startsAt = prev?.state === 'firing' ? Date.parse(prev.alert.startsAt) : a.at;
        item = { state: 'firing', alert: amAlert(a, agent, startsAt, this.hostUrl(a.agentId)) };
      } else {
        const prev = this.outbox.get(key)?.body as AmItem | undefined;
        if (!prev || prev.state !== 'firing') continue; // nothing this Alertmanager was told fires
        const fresh = amAlert(a, agent, Date.parse(prev.alert.startsAt));
        item = { state: 'resolved', alert: { ...prev.alert, annotations: fresh.annotations }, endsAt: Math.max(a.at, Date.parse(prev.alert.startsAt)) };
      }
      this.put(key, am.dest, item);
      am.changed(key);
      am.kick();
    }
    const ev = webhookEvent(a, agent, kind);
    for (const h of to.webhooks === false ? [] : this.hooks) {
      const body: WebhookItem = { id: ev.id, payload: webhookBody(ev, h.format, a) };
      this.put(`${h.dest}|${ev.id}`, h.dest, body);
      h.kick();
    }
    return ev.id;
  }

  /** Sends a test alert everywhere; returns its event id. */
  test(): { id: string; destinations: number } {
    const t = this.now();
    const id = this.alert({ agent: 'hostwatch-test', agentId: 'test', type: 'TEST', value: 0, at: t, seq: 0, n: 0, receivedAt: t, via: 'manager' }, 'test');
    return { id, destinations: this.couriers.length };
  }

  /**
   * A revoked agent will never send CPU_NORMAL or come back: resolve what still fires for it, or
   * Alertmanager would be told it fires for as long as the manager runs.
   */
  forgetAgent(agentId: string): void {
    const t = this.now();
    for (const am of this.ams) {
      for (const it of this.outbox.list(am.dest)) {
        const b = it.body as AmItem;
        if (b.state !== 'firing' || b.alert.labels.agent_id !== agentId) continue;
        this.put(it.key, am.dest, { ...b, state: 'resolved', endsAt: t } satisfies AmItem);
        am.changed(it.key);
      }
      am.kick();
    }
  }

  /**
   * What `GET /api/notify` and the `notify` of `/api/stats` show. Administrators get it as is (URLs
   * without user info or query; a webhook's secret path hidden); `redact: true` is the viewers' view:
   * every destination as scheme://host:port only. No view holds a credential: error messages are
   * scrubbed where they are made.
   */
  status(o: { redact?: boolean } = {}): NotifyStatus {
    return { destinations: this.couriers.map((c) => c.status(o)), outbox: { ...this.outbox.figures(), skippedBytes: this.outbox.skippedBytes } };
  }

  /** The viewers' view of `status()`: destinations as scheme://host:port only. */
  redactedStatus(): NotifyStatus {
    return this.status({ redact: true });
  }

  /** Resolves once no delivery is in flight (tests). */
  async settled(): Promise<void> {
    await Promise.all(this.couriers.map((c) => c.settled()));
  }

  async close(): Promise<void> {
    this.o.state.off('alert', this.onAlert);
    this.o.state.off('agent', this.onAgent);
    clearInterval(this.storageTimer);
    for (const c of this.couriers) c.close();
    // An attempt still in flight may finish after this: what it delivered is then sent again
    // after the next start (the event id lets a receiver drop the duplicate).
    this.outbox.close();
  }

  private put(key: string, dest: string, body: unknown): void {
    try {
      this.outbox.put(key, dest, body, this.now());
    } catch (err) {
      // Only an item over the size limit lands here (a disk error is kept inside the outbox).
      this.o.notice?.(`notify: not queued for ${dest}: ${(err as Error).message}`);
    }
  }
}
