// What each destination receives for a recorded alert: an Alertmanager API v2 alert, the webhook
// event (hostwatch's own documented JSON), or a Slack- or Discord-compatible message.

import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { VERSION } from '../version.ts';
import type { AgentRecord, AlertRecord } from '../manager/state.ts';
import { meaningOfAlert, type AlertMeaning } from './alert-names.ts';

export type WebhookFormat = 'json' | 'slack' | 'discord';
export const WEBHOOK_FORMATS: readonly WebhookFormat[] = ['json', 'slack', 'discord'];

/** Alertmanager's POST /api/v2/alerts element. */
export interface AmAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt?: string;
  generatorURL?: string;
}

/** The webhook event, version 1 (see the README's "Webhooks"). */
export interface WebhookEvent {
  version: 1;
  /** unique per event; the same across retries of it, so a receiver can drop duplicates */
  id: string;
  kind: 'alert' | 'test';
  status: 'firing' | 'resolved';
  alertname: string;
  severity: string;
  summary: string;
  description: string;
  alert: { type: string; value: number; threshold?: number; at: string; seq: number; n: number; via: string; rule?: string; state?: string; labels?: Record<string, string>; top?: AlertRecord['top'] };
  agent: { id: string; name: string; hostname: string; address: string; platform: string };
  manager: { hostname: string; version: string };
}

type AgentInfo = Pick<AgentRecord, 'id' | 'name' | 'hostname' | 'address' | 'platform'>;

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * summary and description, for people reading the page or the chat message. `esc` is applied to
 * every part an agent supplied (its name and id, the alert's type, rule and labels), so a chat
 * format can make them inert; Alertmanager and the JSON event take them as they are.
 */
export function describe(a: AlertRecord, esc: (s: string) => string = (s) => s): { summary: string; description: string } {
  const d = describeAlert(a, esc);
  const top = topProcessesText(a, esc);
  return top ? { summary: d.summary, description: `${d.description} Top processes: ${top}.` } : d;
}

/** The processes an alert names as its cause: "yes (pid 4242) 99.5% CPU 1.2 MiB, ...", or ''. */
export function topProcessesText(a: Pick<AlertRecord, 'top'>, esc: (s: string) => string = (s) => s): string {
  const mib = (b: number | null) => (b === null ? '? MiB' : `${(b / 1048576).toFixed(1)} MiB`);
  return (a.top ?? []).map((p) => `${esc(p.name)} (pid ${p.pid}) ${p.cpuPercent === null ? '?' : p.cpuPercent}% CPU ${mib(p.memBytes)}`).join(', ');
}

function describeAlert(a: AlertRecord, esc: (s: string) => string): { summary: string; description: string } {
  const thr = a.threshold !== undefined ? `${a.threshold}%` : 'the threshold';
  const agent = esc(a.agent);
  const id = esc(a.agentId);
  const type = esc(a.type);
  const rule = a.rule === undefined ? undefined : esc(a.rule);
  switch (a.type) {
    case 'CPU_HIGH':
      return { summary: `CPU above ${thr} on ${agent}`, description: `CPU usage on ${agent} (${id}) is ${a.value}%, above ${thr}, since ${iso(a.at)}.` };
    case 'CPU_NORMAL':
      return { summary: `CPU back below ${thr} on ${agent}`, description: `CPU usage on ${agent} (${id}) is back to ${a.value}% at ${iso(a.at)}.` };
    case 'AGENT_DOWN':
      return { summary: `${agent} is down`, description: `The manager has not heard from ${agent} (${id}) since ${iso(a.at)}.` };
    case 'AGENT_UP':
      return { summary: `${agent} is back`, description: `${agent} (${id}) reconnected at ${iso(a.at)}.` };
    case 'TEST':
      return { summary: 'hostwatch test alert', description: `A test sent by \`manager notify test\` at ${iso(a.at)}; nothing is wrong.` };
    default: {
      const where = a.labels && Object.keys(a.labels).length ? ` (${Object.entries(a.labels).map(([k, v]) => `${esc(k)} ${esc(v)}`).join(', ')})` : '';
      const limit = a.threshold !== undefined ? `, threshold ${a.threshold}` : '';
      if (rule && a.state === 'resolved') return { summary: `${rule} resolved on ${agent}${where}`, description: `${rule} on ${agent} (${id})${where} is back: value ${a.value}${limit} at ${iso(a.at)}.` };
      if (rule) return { summary: `${rule} on ${agent}${where}`, description: `${rule} (${a.severity ?? 'warning'}) on ${agent} (${id})${where}: value ${a.value}${limit} at ${iso(a.at)}.` };
      return { summary: `${type} on ${agent}`, description: `${type} on ${agent} (${id}): value ${a.value} at ${iso(a.at)}.` };
    }
  }
}

/** Peer text kept on one line and plain: control characters (C0, DEL, C1) and bidi overrides become U+FFFD. */
export function inertText(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, '\uFFFD');
}

/**
 * Slack's own escaping (docs "Formatting text for app surfaces": escape &, < and >): `<!channel>`,
 * `<@U123>` or `<https://x|y>` from an agent is shown, never a mention or a link.
 */
export function slackEscape(s: string): string {
  return inertText(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Discord: markdown characters backslash-escaped (Discord shows any escaped punctuation as itself),
 * and a zero-width space after every `@`, so `@everyone`, `@here` and `<@id>` are text. The body
 * also says `allowed_mentions: { parse: [] }`, so nothing would ping even if one got through.
 */
export function discordEscape(s: string): string {
  // `1.` after a digit too: a name at the start of a line would otherwise open a numbered list.
  return inertText(s).replace(/[\\*_~`|<>#[\]()-]/g, '\\$&').replace(/(\d)\./g, '$1\\.').replace(/@/g, '@\u200b');
}

/** The Alertmanager labels of the condition an alert starts or ends. */
export function amLabels(a: AlertRecord, agent: AgentInfo | undefined, m: AlertMeaning): Record<string, string> {
  // A per-mount or per-interface rule's series, named as node_exporter names them.
  const series: Record<string, string> = {};
  if (a.labels?.mount !== undefined) series.mountpoint = a.labels.mount;
  if (a.labels?.interface !== undefined) series.device = a.labels.interface;
  return { alertname: m.alertname, agent: agent?.name ?? a.agent, agent_id: a.agentId, severity: m.severity, ...series };
}

export function amAlert(a: AlertRecord, agent: AgentInfo | undefined, startsAt: number, generatorURL?: string): AmAlert {
  const m = meaningOfAlert(a);
  const d = describe(a);
  return {
    labels: amLabels(a, agent, m),
    annotations: { summary: d.summary, description: d.description, ...(a.top?.length ? { top_processes: topProcessesText(a) } : {}) },
    startsAt: iso(startsAt),
    ...(generatorURL ? { generatorURL } : {}),
  };
}

export function webhookEvent(a: AlertRecord, agent: AgentInfo | undefined, kind: WebhookEvent['kind'] = 'alert'): WebhookEvent {
  const m = meaningOfAlert(a);
  const d = describe(a);
  return {
    version: 1, id: randomUUID(), kind, status: m.firing ? 'firing' : 'resolved', alertname: m.alertname, severity: m.severity,
    summary: d.summary, description: d.description,
    alert: {
      type: a.type, value: a.value, ...(a.threshold !== undefined ? { threshold: a.threshold } : {}), at: iso(a.at), seq: a.seq, n: a.n, via: a.via,
      ...(a.rule ? { rule: a.rule, state: a.state ?? 'firing' } : {}), ...(a.labels && Object.keys(a.labels).length ? { labels: a.labels } : {}),
      ...(a.top?.length ? { top: a.top } : {}),
    },
    agent: { id: a.agentId, name: agent?.name ?? a.agent, hostname: agent?.hostname ?? '', address: agent?.address ?? '', platform: agent?.platform ?? '' },
    manager: { hostname: hostname(), version: VERSION },
  };
}

/**
 * The body a webhook of that format is sent: the event itself for `json` (plain JSON, nothing to
 * escape); for Slack and Discord a message whose agent-supplied parts are escaped (`a` is the alert
 * the event was made from).
 */
export function webhookBody(ev: WebhookEvent, format: WebhookFormat, a: AlertRecord): unknown {
  if (format === 'json') return ev;
  const mark = ev.kind === 'test' ? '[TEST]' : ev.status === 'firing' ? (ev.severity === 'critical' ? '[CRITICAL]' : '[FIRING]') : '[RESOLVED]';
  // Slack and Discord read only their own fields: the event id stays in the header for dedupe.
  if (format === 'slack') {
    const d = describe(a, slackEscape);
    return { text: `${mark} ${d.summary}\n${d.description}`, mrkdwn: false };
  }
  const d = describe(a, discordEscape);
  // Cut to Discord's 2000 characters without leaving half an escape at the end.
  const content = `${mark} ${d.summary}\n${d.description}`.slice(0, 2000).replace(/(^|[^\\])(\\\\)*\\$/, '$1$2');
  return { content, username: 'hostwatch', allowed_mentions: { parse: [] } };
}
