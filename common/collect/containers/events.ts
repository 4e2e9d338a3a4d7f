// The engine's event stream (GET /events, containers only), kept open so the agent asks the engine
// again only when something changed: a container created, started, stopped, restarted, removed,
// or its health changed. While the stream is down (an engine without it, a broken connection),
// `live` is false and the caller asks as if there were no stream; it is opened again after
// `retryMs`. The stream costs the engine nothing while nothing happens.

import { request, type ClientRequest } from 'node:http';
import { ENGINE_API } from './engine-http.ts';

/** Actions that change nothing the agent shows (a healthcheck's exec, attach, resize, top...). */
const IGNORED = /^(exec_|attach|resize|top|export|copy|archive-path|commit|detach)/;
/** One event is a small JSON object: a longer line is not an event stream. */
const LINE_MAX = 64 * 1024;
/** Ids kept between two lists; past it every container is inspected again. */
const TOUCHED_MAX = 10_000;
const FILTER = encodeURIComponent(JSON.stringify({ type: ['container'] }));

export class EngineEvents {
  private readonly socketPath: string;
  private readonly retryMs: number;
  private req: ClientRequest | undefined;
  private retry: NodeJS.Timeout | undefined;
  private closed = false;
  private isLive = false;
  /** bumped by every event that matters, and when the stream (re)opens or breaks */
  private gen = 0;
  /** container ids touched by an event since the caller last took them; 'all' when too many to keep */
  private touched: Set<string> | 'all' = new Set();

  constructor(o: { socketPath: string; retryMs?: number }) {
    this.socketPath = o.socketPath;
    this.retryMs = o.retryMs ?? 60_000;
    this.open();
  }

  /** The stream is open and answered: what it has not said did not happen. */
  get live(): boolean {
    return this.isLive;
  }

  /** Changes every time something may have changed (an event, or the stream opened or lost). */
  get generation(): number {
    return this.gen;
  }

  /** The ids of containers an event named since the last call (full ids), or 'all'. */
  takeTouched(): Set<string> | 'all' {
    const t = this.touched;
    this.touched = new Set();
    return t;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retry);
    this.req?.destroy();
    this.isLive = false;
  }

  private lost(): void {
    if (this.isLive || this.req) this.gen++;
    this.isLive = false;
    this.req = undefined;
    this.touched = 'all';
    if (this.closed || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      if (!this.closed) this.open();
    }, this.retryMs);
    this.retry.unref();
  }

  private open(): void {
    const req = request({ socketPath: this.socketPath, path: `${ENGINE_API}/events?filters=${FILTER}`, headers: { host: 'docker' }, agent: false }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        req.destroy();
        return;
      }
      this.isLive = true;
      // What happened before it opened is not known: list and inspect everything once.
      this.gen++;
      this.touched = 'all';
      let partial = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        const lines = (partial + chunk).split('\n');
        partial = lines.pop()!;
        if (partial.length > LINE_MAX) {
          req.destroy();
          return;
        }
        for (const line of lines) this.onLine(line);
      });
      res.on('end', () => req.destroy());
      res.on('error', () => req.destroy());
    });
    this.req = req;
    req.on('socket', (s) => s.unref());
    req.on('error', () => {});
    req.on('close', () => {
      if (this.req === req) this.lost();
    });
    req.end();
  }

  private onLine(line: string): void {
    if (!line.trim()) return;
    let e: { Action?: unknown; Actor?: { ID?: unknown }; id?: unknown };
    try {
      e = JSON.parse(line);
    } catch {
      this.gen++; // not understood: assume it mattered
      return;
    }
    const action = typeof e.Action === 'string' ? e.Action : '';
    if (IGNORED.test(action)) return;
    const id = typeof e.Actor?.ID === 'string' ? e.Actor.ID : typeof e.id === 'string' ? e.id : '';
    if (this.touched !== 'all') {
      if (!id || this.touched.size >= TOUCHED_MAX) this.touched = 'all';
      else this.touched.add(id);
    }
    this.gen++;
  }
}
