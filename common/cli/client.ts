// How the CLI and the console reach a manager: `HttpClient` over the control API (the CLI's
// subcommands), `LocalClient` in-process (the console). Both behave the same to their callers.

import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, renameSync, rmSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { SINK_BUFFER_BYTES } from '../constants.ts';
import { HwError, type ErrorCode } from '../errors.ts';
import type { Manager } from '../manager/manager.ts';
import { historyJson } from '../manager/api.ts';
import { agentJson, alertJson, type AlertRecord } from '../manager/state.ts';
import { drained } from '../wire/drain.ts';
import type { Json } from './format.ts';

export type ClientCommand = 'status' | 'procs' | 'logs' | 'restart';

export interface FetchProgress {
  (received: number, size: number): void;
}

export interface Client {
  agents(): Promise<Json[]>;
  command(ref: string, cmd: ClientCommand, args?: Json): Promise<Json>;
  /** Downloads to `localPath` (through a temporary name, renamed only when the sha256 matched). */
  fetch(ref: string, remotePath: string, localPath: string, progress?: FetchProgress, signal?: AbortSignal): Promise<{ bytes: number; sha256: string; path: string }>;
  alerts(after?: number): Promise<Json[]>;
  pending(): Promise<Json[]>;
  /** Samples of an agent since `since` (ms since epoch). */
  history(ref: string, since: number): Promise<Json>;
  /** Accepts one agent, or every pending one when `ref` is undefined; returns those accepted. */
  accept(ref: string | undefined): Promise<Json[]>;
  revoke(ref: string): Promise<Json>;
  /** Calls `onAlert` for each alert after `after`, then for each new one, until `signal` aborts. */
  follow(after: number, onAlert: (a: Json) => void, signal: AbortSignal): Promise<void>;
}

/** A temporary file next to the target; removed unless `commit` renames it into place. */
class PartFile {
  readonly tmp: string;
  private readonly target: string;
  readonly out;
  readonly hash = createHash('sha256');
  bytes = 0;

  constructor(target: string) {
    this.target = target;
    this.tmp = `${target}.part-${process.pid}-${Date.now()}`;
    this.out = createWriteStream(this.tmp, { flags: 'wx', mode: 0o600, highWaterMark: SINK_BUFFER_BYTES });
  }

  async write(chunk: Buffer): Promise<void> {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    if (!this.out.write(chunk) && !(await drained(this.out))) throw new HwError('TRANSFER_ABORTED', `cannot write ${this.tmp}`);
  }

  async commit(expectedSha: string): Promise<string> {
    this.out.end();
    await once(this.out, 'finish');
    const sha = this.hash.digest('hex');
    if (sha !== expectedSha) throw new HwError('FILE_CORRUPT', `sha256 of what arrived (${sha}) differs from the agent's (${expectedSha})`);
    renameSync(this.tmp, this.target);
    return sha;
  }

  discard(): void {
    this.out.destroy();
    rmSync(this.tmp, { force: true });
  }
}

export class HttpClient implements Client {
  private readonly host: string;
  private readonly port: number;
  private readonly token: string;

  constructor(api: { host: string; port: number }, token: string) {
    this.host = api.host;
    this.port = api.port;
    this.token = token;
  }

  private open(method: string, path: string, body?: Json, signal?: AbortSignal): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const payload = body ? Buffer.from(JSON.stringify(body)) : undefined;
      const req = httpRequest({
        host: this.host, port: this.port, method, path, ...(signal ? { signal } : {}),
        headers: { authorization: `Bearer ${this.token}`, ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}) },
      }, resolve);
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (err.name === 'AbortError') reject(new HwError('TRANSFER_ABORTED', 'cancelled'));
        else if (err.code === 'ECONNREFUSED') reject(new HwError('API_UNREACHABLE', `no manager answers on ${this.host}:${this.port}: is it running? (--api and --data-dir must match the manager's)`));
        else reject(new HwError('API_UNREACHABLE', `control API ${this.host}:${this.port}: ${err.message}`));
      });
      req.end(payload);
    });
  }

  private async json(method: string, path: string, body?: Json): Promise<any> {
    const res = await this.open(method, path, body);
    const chunks: Buffer[] = [];
    for await (const c of res as AsyncIterable<Buffer>) chunks.push(c);
    const text = Buffer.concat(chunks).toString('utf8');
    let v: any;
    try {
      v = JSON.parse(text);
    } catch {
      throw new HwError('INTERNAL', `control API answered ${res.statusCode} with something that is not JSON`);
    }
    if ((res.statusCode ?? 500) >= 400) throw apiError(v);
    return v;
  }

  agents(): Promise<Json[]> {
    return this.json('GET', '/api/agents');
  }

  command(ref: string, cmd: ClientCommand, args: Json = {}): Promise<Json> {
    return this.json('POST', `/api/agents/${encodeURIComponent(ref)}/${cmd}`, args);
  }

  alerts(after = 0): Promise<Json[]> {
    return this.json('GET', `/api/alerts?after=${after}`);
  }

  pending(): Promise<Json[]> {
    return this.json('GET', '/api/pending');
  }

  history(ref: string, since: number): Promise<Json> {
    return this.json('GET', `/api/agents/${encodeURIComponent(ref)}/history?since=${since}`);
  }

  accept(ref: string | undefined): Promise<Json[]> {
    return this.json('POST', ref === undefined ? '/api/pending/accept-all' : `/api/agents/${encodeURIComponent(ref)}/accept`);
  }

  revoke(ref: string): Promise<Json> {
    return this.json('POST', `/api/agents/${encodeURIComponent(ref)}/revoke`);
  }

  /** Any other JSON endpoint of the control API (e.g. /api/notify). */
  request(method: 'GET' | 'POST', path: string): Promise<Json> {
    return this.json(method, path);
  }

  async fetch(ref: string, remotePath: string, localPath: string, progress?: FetchProgress, signal?: AbortSignal): Promise<{ bytes: number; sha256: string; path: string }> {
    const res = await this.open('GET', `/api/agents/${encodeURIComponent(ref)}/fetch?path=${encodeURIComponent(remotePath)}`, undefined, signal);
    if ((res.statusCode ?? 500) >= 400) {
      const chunks: Buffer[] = [];
      for await (const c of res as AsyncIterable<Buffer>) chunks.push(c);
      let v: any = {};
      try {
        v = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        // fall through with an empty body
      }
      throw apiError(v);
    }
    const size = Number(res.headers['x-file-size'] ?? -1);
    const part = new PartFile(localPath);
    try {
      for await (const chunk of res as AsyncIterable<Buffer>) {
        await part.write(chunk);
        progress?.(part.bytes, size);
      }
      if (!res.complete) throw new HwError('TRANSFER_ABORTED', 'the connection to the manager was cut during the transfer');
      const t = res.trailers;
      if (t['x-error-code']) throw new HwError(t['x-error-code'] as ErrorCode, decodeURIComponent(t['x-error-message'] ?? 'transfer failed'));
      const expected = t['x-sha256'];
      if (!expected) throw new HwError('TRANSFER_ABORTED', 'the transfer ended without a checksum');
      const sha256 = await part.commit(expected);
      return { bytes: part.bytes, sha256, path: localPath };
    } catch (err) {
      part.discard();
      if ((err as Error).name === 'AbortError') throw new HwError('TRANSFER_ABORTED', 'cancelled');
      if (!(err instanceof HwError)) throw new HwError('TRANSFER_ABORTED', `transfer cut: ${(err as Error).message}`);
      throw err;
    }
  }

  async follow(after: number, onAlert: (a: Json) => void, signal: AbortSignal): Promise<void> {
    let res: IncomingMessage;
    try {
      res = await this.open('GET', `/api/alerts/follow?after=${after}`, undefined, signal);
    } catch (err) {
      if (signal.aborted) return;
      throw err;
    }
    let rest = '';
    try {
      for await (const chunk of res as AsyncIterable<Buffer>) {
        rest += chunk.toString('utf8');
        let i;
        while ((i = rest.indexOf('\n')) >= 0) {
          const line = rest.slice(0, i).trim();
          rest = rest.slice(i + 1);
          if (line) onAlert(JSON.parse(line));
        }
      }
    } catch (err) {
      if (signal.aborted) return;
      throw err;
    }
    if (!signal.aborted) throw new HwError('API_UNREACHABLE', 'the manager closed the alert stream (stopped?)');
  }
}

function apiError(v: any): HwError {
  const e = v?.error;
  if (e && typeof e.code === 'string') return new HwError(e.code as ErrorCode, String(e.message ?? e.code));
  return new HwError('INTERNAL', 'control API answered with an error and no code');
}

/** The console's client: the manager's own state and commands, no HTTP. */
export class LocalClient implements Client {
  private readonly manager: Manager;

  constructor(manager: Manager) {
    this.manager = manager;
  }

  async agents(): Promise<Json[]> {
    return this.manager.state.agents().map(agentJson);
  }

  async command(ref: string, cmd: ClientCommand, args: Json = {}): Promise<Json> {
    return (await this.manager.command(ref, cmd, args, 'console')) as Json;
  }

  async alerts(after = 0): Promise<Json[]> {
    return this.manager.state.alerts(after).map(alertJson);
  }

  async pending(): Promise<Json[]> {
    return this.manager.state.pending().map(agentJson);
  }

  async history(ref: string, since: number): Promise<Json> {
    const rec = this.manager.state.find(ref);
    return { agent: rec.name, agentId: rec.id, interval: rec.interval, points: historyJson(this.manager, rec.id, since) };
  }

  async accept(ref: string | undefined): Promise<Json[]> {
    return (ref === undefined ? this.manager.acceptAll('console') : [this.manager.accept(ref, 'console')]).map(agentJson);
  }

  async revoke(ref: string): Promise<Json> {
    return agentJson(this.manager.revoke(ref, 'console'));
  }

  async fetch(ref: string, remotePath: string, localPath: string, progress?: FetchProgress, signal?: AbortSignal): Promise<{ bytes: number; sha256: string; path: string }> {
    let part: PartFile | undefined;
    let size = -1;
    try {
      const r = await this.manager.fetch(ref, remotePath, {
        start(s) {
          size = s;
          part = new PartFile(localPath);
        },
        async write(chunk) {
          await part!.write(chunk);
          progress?.(part!.bytes, size);
        },
      }, signal, 'console');
      if (!part) throw new HwError('TRANSFER_ABORTED', 'no data arrived');
      await part.commit(r.sha256);
      return { ...r, path: localPath };
    } catch (err) {
      part?.discard();
      throw err;
    }
  }

  async follow(after: number, onAlert: (a: Json) => void, signal: AbortSignal): Promise<void> {
    for (const a of this.manager.state.alerts(after)) onAlert(alertJson(a));
    const fn = (a: AlertRecord) => onAlert(alertJson(a));
    this.manager.state.on('alert', fn);
    await new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }));
    this.manager.state.off('alert', fn);
  }
}
