// Server-Sent Events for dashboards, fed by ManagerState's events. Agent changes are gathered and
// sent together every WEB_STREAM_FLUSH_MS, serialised once for all clients; each client's unsent
// bytes are bounded: a browser that does not read is cut (it reconnects and reloads the snapshot).
//
//   event: agents   data: [agentJson...]      agents that changed (reports, up, down, accepted)
//   event: removed  data: {"id": "..."}       an agent revoked
//   event: alert    data: alertJson           a new alert
//   event: command  data: the recorded event  a command run by anyone (who, what, outcome, sha256)
//   event: upgrade  data: {state, host}       a rollout's host changed step (the page asks GET /api/upgrade)

import type { ServerResponse } from 'node:http';
import { HwError } from '../errors.ts';
import type { LoggedEvent } from '../manager/event-log.ts';
import type { AgentRecord, AlertRecord, ManagerState } from '../manager/state.ts';
import { agentJson, alertJson } from '../api/json.ts';
import type { HostProgress, RolloutStatus } from '../api/types.ts';

/** What the stream follows of rollouts (the manager's Rollouts). */
interface RolloutFeed {
  onProgress(fn: (h: HostProgress, s: RolloutStatus) => void): () => void;
}

/**
 * Dashboards connected to the event stream at once; more are refused with TOO_MANY_CONNECTIONS.
 * Each stream holds a connection: kept below API_MAX_CONNECTIONS so that open dashboards alone
 * never fill the control API's cap (the CLI and the pages' own requests keep the rest).
 */
const WEB_MAX_STREAMS = 100;
/** Unsent bytes a dashboard may have queued before it is cut (it reconnects and reloads). */
const WEB_STREAM_MAX_QUEUED = 2 * 1024 * 1024;
/** Agent changes are sent to dashboards together at most this often. */
const WEB_STREAM_FLUSH_MS = 250;
/** A comment line this often keeps proxies from closing an idle stream and finds dead peers. */
const WEB_STREAM_PING_MS = 15_000;

interface StreamClient {
  res: ServerResponse;
  user: string;
}

export interface StreamStats {
  clients: number;
  cut: number;
  sentBytes: number;
}

export class EventStream {
  private readonly clients = new Set<StreamClient>();
  private readonly dirty = new Map<string, AgentRecord>();
  private flushTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private readonly state: ManagerState;
  private readonly flushMs: number;
  private readonly maxQueued: number;
  private readonly maxClients: number;
  private cut = 0;
  private sentBytes = 0;
  private readonly offRollouts: (() => void) | undefined;

  private readonly onAgent = (rec: AgentRecord) => {
    if (!this.clients.size) return;
    this.dirty.set(rec.id, rec);
    this.flushTimer ??= setTimeout(() => this.flush(), this.flushMs);
  };

  private readonly onAlert = (a: AlertRecord) => {
    this.broadcast('alert', JSON.stringify(alertJson(a)));
  };

  private readonly onEvent = (e: LoggedEvent) => {
    if (!this.clients.size) return;
    const id = (e.agent as { id?: string } | undefined)?.id;
    if (e.event === 'command') this.broadcast('command', JSON.stringify(e));
    else if (e.event === 'revoke' && id) this.broadcast('removed', JSON.stringify({ id }));
    else if (e.event === 'accept' && id) {
      const rec = this.state.agent(id);
      if (rec) this.onAgent(rec);
    }
  };

  constructor(state: ManagerState, opts: { flushMs?: number; maxQueued?: number; maxClients?: number; rollouts?: RolloutFeed } = {}) {
    this.state = state;
    this.flushMs = opts.flushMs ?? WEB_STREAM_FLUSH_MS;
    this.maxQueued = opts.maxQueued ?? WEB_STREAM_MAX_QUEUED;
    this.maxClients = opts.maxClients ?? WEB_MAX_STREAMS;
    state.on('agent', this.onAgent);
    state.on('alert', this.onAlert);
    state.on('event', this.onEvent);
    // One host's step, not the whole rollout (a fleet's list each step would be large): the page asks.
    this.offRollouts = opts.rollouts?.onProgress((h, s) => this.broadcast('upgrade', JSON.stringify({ state: s.state, host: h })));
  }

  /** Starts a stream on `res`. Throws TOO_MANY_CONNECTIONS past the limit. */
  open(res: ServerResponse, user: string): void {
    if (this.clients.size >= this.maxClients) throw new HwError('TOO_MANY_CONNECTIONS', `${this.maxClients} dashboards are connected already`);
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    // The browser reconnects by itself after `retry` ms; the page then reloads its snapshot.
    res.write('retry: 3000\n\n');
    const c: StreamClient = { res, user };
    this.clients.add(c);
    res.socket?.setNoDelay(true);
    res.on('close', () => this.clients.delete(c));
    this.pingTimer ??= setInterval(() => this.broadcastRaw(': ping\n\n'), WEB_STREAM_PING_MS);
    this.pingTimer.unref();
  }

  stats(): StreamStats {
    return { clients: this.clients.size, cut: this.cut, sentBytes: this.sentBytes };
  }

  close(): void {
    this.state.off('agent', this.onAgent);
    this.state.off('alert', this.onAlert);
    this.state.off('event', this.onEvent);
    this.offRollouts?.();
    if (this.flushTimer) clearTimeout(this.flushTimer);
    if (this.pingTimer) clearInterval(this.pingTimer);
    for (const c of this.clients) c.res.destroy();
    this.clients.clear();
  }

  private flush(): void {
    this.flushTimer = undefined;
    if (!this.dirty.size) return;
    const rows = [...this.dirty.values()].map(agentJson);
    this.dirty.clear();
    if (rows.length) this.broadcast('agents', JSON.stringify(rows));
  }

  private broadcast(event: string, data: string): void {
    if (this.clients.size) this.broadcastRaw(`event: ${event}\ndata: ${data}\n\n`);
  }

  private broadcastRaw(text: string): void {
    for (const c of this.clients) {
      // Checked where bytes are queued: a client whose queue is past the bound is cut, not
      // buffered for (one batch may pass it alone: a big fleet's first batch is large).
      if (c.res.writableLength > this.maxQueued) {
        this.cut++;
        this.clients.delete(c);
        c.res.destroy();
        continue;
      }
      c.res.write(text);
      this.sentBytes += text.length;
    }
  }
}
