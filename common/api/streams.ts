// The API's two JSON-lines streams: alerts as they arrive (GET /api/alerts/follow) and a command to
// many hosts, one line per host as it answers (POST /api/jobs). Both are bounded: the backlog is
// written as the client takes it, a client whose unsent bytes pass the limit (it stopped reading)
// is cut with SLOW_PEER rather than queued for, and a blank line now and then lets either end
// notice that the other is gone.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { SINK_BUFFER_BYTES, drained } from '../util/drain.ts';
import type { Manager } from '../manager/manager.ts';
import { runJob, select } from './jobs.ts';
import type { AlertRecord } from '../manager/state.ts';
import { alertJson } from './json.ts';
import type { JobRequest } from './types.ts';

export interface StreamLimits {
  /** unsent bytes past which a client that does not read is cut */
  maxUnsent: number;
  /** a blank line after this much silence */
  keepaliveMs: number;
  /** told when a client is cut for not reading */
  onSlow: (req: IncomingMessage, unsent: number) => void;
}

export const STREAM_DEFAULTS = { maxUnsent: 4 * 1024 * 1024, keepaliveMs: 15_000 } as const;

const NDJSON = { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };

export function followAlerts(manager: Manager, after: number, req: IncomingMessage, res: ServerResponse, limits: StreamLimits): void {
  res.writeHead(200, NDJSON);
  // Headers now: with no alert to send yet, the client would otherwise wait for the first one.
  res.flushHeaders();
  let last = after;
  let live = false;
  let closed = false;
  const cut = () => {
    limits.onSlow(req, res.writableLength);
    closed = true;
    res.destroy();
  };
  const write = (a: AlertRecord) => {
    if (closed || !live || a.n <= last) return;
    last = a.n;
    res.write(JSON.stringify(alertJson(a)) + '\n');
    if (res.writableLength > limits.maxUnsent) cut();
  };
  manager.state.on('alert', write);
  const keepalive = setInterval(() => {
    res.write('\n');
    if (res.writableLength > limits.maxUnsent) cut();
  }, limits.keepaliveMs);
  res.on('close', () => {
    closed = true;
    clearInterval(keepalive);
    manager.state.off('alert', write);
  });
  void (async () => {
    for (const a of manager.state.alerts(after)) {
      if (closed) return;
      last = a.n;
      if (!res.write(JSON.stringify(alertJson(a)) + '\n') && res.writableLength > SINK_BUFFER_BYTES && !(await drained(res))) return;
    }
    // Alerts that arrived while the backlog was written.
    live = true;
    for (const a of manager.state.alerts(last)) write(a);
  })();
}

/**
 * POST /api/jobs: one JSON line per host as it answers, `{ agent, agentId, ok, result | error }`,
 * then `{ summary: { total, ok, failed, offline, timeout } }`. A client that goes away stops the job.
 */
export async function jobStream(manager: Manager, job: JobRequest, by: string, req: IncomingMessage, res: ServerResponse, limits: StreamLimits): Promise<void> {
  const targets = select(manager, job);
  res.writeHead(200, NDJSON);
  res.flushHeaders();
  const ac = new AbortController();
  res.on('close', () => ac.abort());
  // Every second: a client's --timeout may be as short as the hosts' own.
  const keepalive = setInterval(() => res.write('\n'), Math.min(limits.keepaliveMs, 1000));
  const line = async (v: unknown) => {
    if (ac.signal.aborted) return;
    if (!res.write(JSON.stringify(v) + '\n') && res.writableLength > SINK_BUFFER_BYTES) {
      if (res.writableLength > limits.maxUnsent) {
        limits.onSlow(req, res.writableLength);
        res.destroy();
        return;
      }
      await drained(res);
    }
  };
  try {
    const summary = await runJob({
      manager, targets, cmd: job.cmd, args: job.args, parallel: job.parallel, ...(job.timeout ? { timeoutMs: job.timeout * 1000 } : {}),
      by, onResult: line, signal: ac.signal,
    });
    await line({ summary });
  } finally {
    clearInterval(keepalive);
    res.end();
  }
}
