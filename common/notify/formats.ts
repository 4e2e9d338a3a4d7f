// What each destination receives for a recorded alert: an Alertmanager API v2 alert, the webhook
// event (hostwatch's own documented JSON), or a Slack- or Discord-compatible message.

import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { VERSION } from '../constants.ts';
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
  alert: { type: string; value: number; threshold?: number; at: string; seq: number; n: number; via: string; rule?: string; state?: string; labels?: Record<string, string> };
  agent: { id: string; name: string; hostname: string; address: string; platform: string };
  manager: { hostname: string; version: string };
}

type AgentInfo = Pick<AgentRecord, 'id' | 'name' | 'hostname' | 'address' | 'platform'>;

const iso = (ms: number) => new Date(ms).toISOString();

/** summary and description, for people reading the page or the chat message. */
export function describe(a: AlertRecord): { summary: string; description: string } {
  const thr = a.threshold !== undefined ? `${a.threshold}%` : 'the threshold';
  switch (a.type) {
    case 'CPU_HIGH':
      return { summary: `CPU above ${thr} on ${a.agent}`, description: `CPU usage on ${a.agent} (${a.agentId}) is ${a.value}%, above ${thr}, since ${iso(a.at)}.` };
    case 'CPU_NORMAL':
      return { summary: `CPU back below ${thr} on ${a.agent}`, description: `CPU usage on ${a.agent} (${a.agentId}) is back to ${a.value}% at ${iso(a.at)}.` };
    case 'AGENT_DOWN':
      return { summary: `${a.agent} is down`, description: `The manager has not heard from ${a.agent} (${a.agentId}) since ${iso(a.at)}.` };
    case 'AGENT_UP':
      return { summary: `${a.agent} is back`, description: `${a.agent} (${a.agentId}) reconnected at ${iso(a.at)}.` };
    case 'TEST':
      return { summary: 'hostwatch test alert', description: `A test sent by \`manager notify test\` at ${iso(a.at)}; nothing is wrong.` };
    default: {
      const where = a.labels && Object.keys(a.labels).length ? ` (${Object.entries(a.labels).map(([k, v]) => `${k} ${v}`).join(', ')})` : '';
      const limit = a.threshold !== undefined ? `, threshold ${a.threshold}` : '';
      if (a.rule && a.state === 'resolved') return { summary: `${a.rule} resolved on ${a.agent}${where}`, description: `${a.rule} on ${a.agent} (${a.agentId})${where} is back: value ${a.value}${limit} at ${iso(a.at)}.` };
      if (a.rule) return { summary: `${a.rule} on ${a.agent}${where}`, description: `${a.rule} (${a.severity ?? 'warning'}) on ${a.agent} (${a.agentId})${where}: value ${a.value}${limit} at ${iso(a.at)}.` };
      return { summary: `${a.type} on ${a.agent}`, description: `${a.type} on ${a.agent} (${a.agentId}): value ${a.value} at ${iso(a.at)}.` };
    }
  }
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
    annotations: { summary: d.summary, description: d.description },
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
    },
    agent: { id: a.agentId, name: agent?.name ?? a.agent, hostname: agent?.hostname ?? '', address: agent?.address ?? '', platform: agent?.platform ?? '' },
    manager: { hostname: hostname(), version: VERSION },
  };
}

/** The body a webhook of that format is sent. */
export function webhookBody(ev: WebhookEvent, format: WebhookFormat): unknown {
  if (format === 'json') return ev;
  const mark = ev.kind === 'test' ? '[TEST]' : ev.status === 'firing' ? (ev.severity === 'critical' ? '[CRITICAL]' : '[FIRING]') : '[RESOLVED]';
  const text = `${mark} ${ev.summary}\n${ev.description}`;
  // Slack and Discord read only their own field: the event id stays in the header for dedupe.
  return format === 'slack' ? { text } : { content: text.slice(0, 2000), username: 'hostwatch' };
}
