// The agent's alerts end to end: CPU sampled every second and every report's sample judged by the
// rule evaluator (rule-eval.ts); a decision becomes an alert in the queue (on disk when the disk
// takes it) and goes out at once over UDP and TCP; every unacknowledged alert is resent over UDP
// until acknowledged and replayed over TCP, in order, after each reconnection. The manager's ack
// (TCP or UDP) removes it.

import { alertType } from '../rules/rule.ts';
import type { AlertMsg } from '../wire/messages.ts';
import type { AlertDatagrams } from './alert-datagrams.ts';
import type { AlertQueue } from './alert-queue.ts';
import type { Link, ManagerAddress } from './connection.ts';
import type { RuleDecision, RuleEvaluator, RuleInputs } from './rule-eval.ts';

/** How often the CPU alert sampler measures. */
export const CPU_SAMPLE_MS = 1000;
/** Alert retransmission over UDP until acknowledged (TCP copy is sent at once too). */
const ALERT_RETRY_MS = 2000;

/** Alerts resent over UDP per retry tick, oldest first (the TCP replay carries them all). */
const UDP_RESEND_BATCH = 50;

export interface AlertsOptions {
  queue: AlertQueue;
  evaluator: RuleEvaluator;
  cpuPercent: () => number | null;
  /** the datagram socket, once the agent has started (none with noUdp) */
  udp: () => AlertDatagrams | undefined;
  udpPort: number;
  /** the manager whose UDP port alerts go to */
  target: () => ManagerAddress;
  /** the connection when it may carry alerts (welcomed and accepted), else undefined */
  link: () => Link | undefined;
  /** an alert was raised */
  raised: (msg: AlertMsg) => void;
  log: (line: string) => void;
  cpuSampleMs?: number;
  retryMs?: number;
  now?: () => number;
  /** the processes an alert of this rule names as it fires (alert-cause.ts) */
  cause?: (rule: string) => AlertMsg['top'];
  /** each CPU reading */
  watchCpu?: (cpu: number | null) => void;
}

export class Alerts {
  private readonly o: AlertsOptions;
  private cpuTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(o: AlertsOptions) {
    this.o = o;
  }

  /**
   * `cpuTimer: false` when the caller calls tick() itself (the agent's one timer for the sampler
   * and the reports). The retry timer runs only while an alert waits for its ack, so an agent
   * with nothing to resend does not wake up for it.
   */
  start(opts: { cpuTimer?: boolean } = {}): void {
    this.running = true;
    if (opts.cpuTimer !== false) this.cpuTimer = setInterval(() => this.tick(), this.o.cpuSampleMs ?? CPU_SAMPLE_MS);
    if (this.pending) this.armRetry();
  }

  stop(): void {
    this.running = false;
    clearInterval(this.cpuTimer);
    clearInterval(this.retryTimer);
    this.retryTimer = undefined;
    this.o.queue.close();
    const n = this.o.queue.pending().length;
    if (this.o.queue.unsaved && n) this.o.log(`stopping with ${n} unacknowledged ${n === 1 ? 'alert' : 'alerts'} that the state folder could not take: lost with this stop`);
  }

  get pending(): number {
    return this.o.queue.pending().length;
  }

  /** One CPU reading, judged by the rules on cpu. */
  tick(): void {
    if (!this.o.evaluator.needs('cpu')) return;
    const cpu = this.o.cpuPercent();
    this.raise(this.o.evaluator.push({ at: (this.o.now ?? Date.now)(), cpu }));
    this.o.watchCpu?.(cpu);
  }

  /** A round of the other measurements (a report's sample), judged by the rules on them. */
  feed(inputs: RuleInputs): void {
    this.raise(this.o.evaluator.push(inputs));
  }

  /** Each decision becomes an alert: queued (on disk), sent over UDP and TCP. */
  raise(decisions: RuleDecision[]): void {
    for (const d of decisions) {
      const top = d.state === 'firing' ? this.o.cause?.(d.rule) : undefined;
      const msg = this.o.queue.add({
        alert: alertType(d.rule, d.state), value: d.value, threshold: d.threshold, at: d.at, rule: d.rule, state: d.state, severity: d.severity,
        ...(Object.keys(d.labels).length ? { labels: d.labels } : {}), ...(top?.length ? { top } : {}),
      });
      const where = Object.entries(d.labels).map(([k, v]) => ` ${k}=${v}`).join('');
      this.o.log(`${msg.alert}${where}: ${d.rule} ${msg.value} (${d.severity}, threshold ${msg.threshold}${d.again ? `, ${d.again === 'repeat' ? 'still firing' : 'now critical'}` : ''}${d.gone ? ', gone from the list: removed' : ''})${this.o.queue.unsaved ? ' (kept in memory: the state folder cannot be written)' : ''}`);
      this.o.raised(msg);
      this.sendUdp(msg);
      this.o.link()?.post(msg);
    }
    if (decisions.length) this.armRetry();
  }

  /** Over UDP only: the TCP copy went when raised, or in the replay after the last reconnect. */
  resend(): void {
    const pending = this.o.queue.pending();
    if (!pending.length) {
      clearInterval(this.retryTimer); // armed again by the next alert
      this.retryTimer = undefined;
      return;
    }
    for (const a of pending.slice(0, UDP_RESEND_BATCH)) this.sendUdp(a);
  }

  /** After (re)acceptance: every unacknowledged alert, in order. */
  replay(peer: Link): void {
    for (const a of this.o.queue.pending()) peer.post(a);
  }

  ack(seq: number, epoch: string | undefined, exact = false): void {
    this.o.queue.ack(seq, epoch, exact);
  }

  private armRetry(): void {
    if (!this.running || this.retryTimer) return;
    this.retryTimer = setInterval(() => this.resend(), this.o.retryMs ?? ALERT_RETRY_MS);
  }

  private sendUdp(a: AlertMsg): void {
    const t = this.o.target();
    this.o.udp()?.send(a, t.host, this.o.udpPort);
  }
}
