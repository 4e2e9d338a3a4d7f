// How the CLI and the console reach a manager: the `Client` interface the shared commands take,
// and `HttpClient`, which speaks the control API (the CLI's subcommands). The console's client is
// in-process (common/api/local-client.ts) and behaves the same; that file does not import this
// one, nor does this folder import the manager's.

import type {
  Agent, Alert, ContainerLogsResult, ContainersResult, History, InstallCommandAnswer, InstallTokenRow, JobRequest, JobResult, JobSummary, ProcessSort, Selection, ServicesResult, Silence, TopProcesses, ProcessHistory, ContainerHistory,
} from '../api/types.ts';
import { silenceRequest } from '../api/validate.ts';
import { installRequest } from '../install/routes.ts';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { HwError, type ErrorCode } from '../errors.ts';
import { PartFile } from '../fs/part-file.ts';
import { readCapped } from '../net/read-capped.ts';
import type { Json } from './format.ts';

/**
 * CLI and API client: connecting to the API, and waiting for any byte of an answer: the manager's
 * own command timeout (COMMAND_TIMEOUT_MS, 30 s, in common/manager/agent-link.ts) plus 15 s, so the
 * manager's TIMEOUT arrives before the client gives up. Written out: this folder does not import
 * the manager's (test/cli/client-timeout.test.ts holds the two together).
 */
const CLIENT_CONNECT_TIMEOUT_MS = 5_000;
export const CLIENT_RESPONSE_TIMEOUT_MS = 30_000 + 15_000;
/** CLI and API client: largest JSON answer it reads. */
const CLIENT_MAX_RESPONSE_BYTES = 256 * 1024 * 1024;

export interface HistoryQuery {
  from: number;
  to: number;
  points: number;
  detail?: boolean;
}

export type ClientCommand = 'status' | 'procs' | 'logs' | 'restart' | 'top';

export interface FetchProgress {
  (received: number, size: number): void;
}

export interface Client {
  agents(): Promise<Agent[]>;
  containers(ref: string): Promise<ContainersResult>;
  containerLogs(ref: string, name: string, lines: number): Promise<ContainerLogsResult>;
  containerRestart(ref: string, name: string): Promise<Json>;
  command(ref: string, cmd: ClientCommand, args?: Json): Promise<Json>;
  /** The host's processes now (command lines to admins only). */
  top(ref: string, q: { sort: ProcessSort; n: number }): Promise<TopProcesses>;
  /** Downloads to `localPath` (through a temporary name, renamed only when the sha256 matched). */
  fetch(ref: string, remotePath: string, localPath: string, progress?: FetchProgress, signal?: AbortSignal): Promise<{ bytes: number; sha256: string; path: string }>;
  alerts(after?: number): Promise<Alert[]>;
  pending(): Promise<Agent[]>;
  /** Samples of an agent over a range (ms since epoch), at most `points` of them. */
  history(ref: string, q: HistoryQuery): Promise<History>;
  /** The top processes kept for an agent: the minute nearest `at`, or each minute of a range (ms since epoch). */
  processHistory(ref: string, q: { at: number } | { from: number; to: number }): Promise<ProcessHistory>;
  /** `since`: a time or a duration back from now (1h); `container`: only that one */
  containerHistory(ref: string, q: { since: string; container?: string }): Promise<ContainerHistory>;
  /** Accepts one agent, or every pending one when `ref` is undefined; returns those accepted. */
  accept(ref: string | undefined): Promise<Agent[]>;
  revoke(ref: string): Promise<Agent>;
  /** Refuses pending agents' keys (one, those from an IP or CIDR range, or all); returns those refused. */
  reject(sel: { agent: string } | { address: string } | { all: true }): Promise<Agent[]>;
  /** Applies the manager's changed config file; BAD_CONFIG (nothing changed) when the file is bad. */
  reload(): Promise<Json>;
  /** The effective config of the running manager. */
  config(): Promise<Json>;
  /** What fires now. */
  activeAlerts(): Promise<Alert[]>;
  silences(): Promise<Silence[]>;
  /** The agents a selection names (`agents --json` rows). */
  select(sel: Selection): Promise<Agent[]>;
  /** Runs a command on many agents; `onResult` for each as it answers; resolves with the summary. */
  job(body: JobRequest, onResult: (r: JobResult) => void, signal?: AbortSignal): Promise<JobSummary>;
  /** `for` a duration (2h) or seconds */
  silence(s: { selector: string; for: string; rule?: string; reason?: string }): Promise<Silence>;
  unsilence(id: string): Promise<Silence>;
  /** Each agent's effective rules (or one agent's) and what fires. */
  rules(ref?: string): Promise<Json[]>;
  /** Calls `onAlert` for each alert after `after`, then for each new one, until `signal` aborts. */
  follow(after: number, onAlert: (a: Json) => void, signal: AbortSignal): Promise<void>;
  /** The host's services now (only the failed ones with `failed`). */
  services(ref: string, failed: boolean): Promise<ServicesResult>;
}

export interface HttpClientOptions {
  /** to connect to the API (TIMEOUT past it) */
  connectTimeoutMs?: number;
  /** with nothing received from the API for this long, the request fails with TIMEOUT */
  responseTimeoutMs?: number;
  /**
   * The manager's Unix socket (<data-dir>/api.sock): tried first, since on the same host it skips
   * the TCP stack; TCP is used when it is missing or nothing answers on it.
   */
  socketPath?: string;
}

/** Of an error answer, only this much is read: its JSON is a code and a message. */
const ERROR_BODY_BYTES = 64 * 1024;

/** Errors that mean "no manager on the socket" (rather than a failed request): try TCP. */
const SOCKET_ABSENT = new Set(['ENOENT', 'ECONNREFUSED', 'ENOTSOCK', 'EACCES', 'EPERM', 'ENOTDIR', 'EINVAL', 'ENAMETOOLONG']);

/** A request that failed before reaching a manager on the socket. */
class SocketAbsent extends Error {}

/** Why a request of ours was cut on our side (a timeout), looked up when its stream fails. */
const cutBy = new WeakMap<IncomingMessage, { err?: HwError }>();

export class HttpClient implements Client {
  private readonly host: string;
  private readonly port: number;
  private readonly token: string;
  private readonly connectMs: number;
  private readonly responseMs: number;
  private socketPath: string | undefined;

  constructor(api: { host: string; port: number }, token: string, opts: HttpClientOptions = {}) {
    this.socketPath = opts.socketPath;
    this.host = api.host;
    this.port = api.port;
    this.token = token;
    this.connectMs = opts.connectTimeoutMs ?? CLIENT_CONNECT_TIMEOUT_MS;
    this.responseMs = opts.responseTimeoutMs ?? CLIENT_RESPONSE_TIMEOUT_MS;
  }

  /**
   * Sends a request; resolves with the response once its headers are in. Connecting and every
   * wait for the next byte after that are bounded (TIMEOUT); the whole exchange is not, since a
   * download or an alert stream legitimately lasts.
   */
  private async open(method: string, path: string, body?: Json, signal?: AbortSignal): Promise<IncomingMessage> {
    if (this.socketPath) {
      try {
        return await this.openVia(this.socketPath, method, path, body, signal);
      } catch (err) {
        if (!(err instanceof SocketAbsent)) throw err;
        this.socketPath = undefined; // for the rest of this run
      }
    }
    return this.openVia(undefined, method, path, body, signal);
  }

  /** One request over the socket at `socketPath`, or over TCP when it is undefined. */
  private openVia(socketPath: string | undefined, method: string, path: string, body?: Json, signal?: AbortSignal): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const payload = body ? Buffer.from(JSON.stringify(body)) : undefined;
      const cut: { err?: HwError } = {};
      const req = httpRequest({
        ...(socketPath ? { socketPath } : { host: this.host, port: this.port }), method, path, ...(signal ? { signal } : {}),
        headers: { authorization: `Bearer ${this.token}`, ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}) },
      }, (res) => {
        cutBy.set(res, cut);
        resolve(res);
      });
      const fail = (err: HwError) => {
        cut.err ??= err;
        req.destroy(err);
      };
      const connectTimer = setTimeout(() => fail(new HwError('TIMEOUT', `could not connect to the control API ${this.host}:${this.port} within ${secs(this.connectMs)} s`)), this.connectMs);
      req.on('socket', (socket) => {
        if (!socket.connecting) clearTimeout(connectTimer);
        else socket.once('connect', () => clearTimeout(connectTimer));
      });
      req.setTimeout(this.responseMs, () => fail(new HwError('TIMEOUT', `the manager sent nothing for ${secs(this.responseMs)} s (${method} ${path.split('?')[0]})`)));
      req.on('close', () => clearTimeout(connectTimer));
      req.on('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(connectTimer);
        if (socketPath && !cut.err && SOCKET_ABSENT.has(err.code ?? '')) reject(new SocketAbsent(err.code));
        else if (cut.err) reject(cut.err);
        else if (err.name === 'AbortError') reject(new HwError('CANCELLED', 'cancelled'));
        else if (err.code === 'ECONNREFUSED') reject(new HwError('API_UNREACHABLE', `no manager answers on ${this.host}:${this.port}: is it running? (--api and --data-dir must match the manager's)`));
        else reject(new HwError('API_UNREACHABLE', `control API ${this.host}:${this.port}: ${err.message}`));
      });
      req.end(payload);
    });
  }

  /** The error to report for a response stream that failed: ours (a timeout) if we cut it. */
  private streamError(res: IncomingMessage, err: unknown, signal?: AbortSignal): HwError {
    const mine = cutBy.get(res)?.err;
    if (mine) return mine;
    if (signal?.aborted || (err as Error)?.name === 'AbortError') return new HwError('CANCELLED', 'cancelled');
    if (err instanceof HwError) return err;
    return new HwError('TRANSFER_ABORTED', `the connection to the manager was cut: ${(err as Error)?.message ?? String(err)}`);
  }

  private async json(method: string, path: string, body?: Json): Promise<any> {
    const res = await this.open(method, path, body);
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const c of res as AsyncIterable<Buffer>) {
        size += c.length;
        if (size > CLIENT_MAX_RESPONSE_BYTES) {
          res.destroy();
          throw new HwError('INTERNAL', `control API answer over ${CLIENT_MAX_RESPONSE_BYTES} bytes`);
        }
        chunks.push(c);
      }
    } catch (err) {
      throw this.streamError(res, err);
    }
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

  agents(): Promise<Agent[]> {
    return this.json('GET', '/api/agents');
  }

  containers(ref: string): Promise<ContainersResult> {
    return this.json('GET', `/api/agents/${encodeURIComponent(ref)}/containers`);
  }

  containerLogs(ref: string, name: string, lines: number): Promise<ContainerLogsResult> {
    return this.json('GET', `/api/agents/${encodeURIComponent(ref)}/containers/${encodeURIComponent(name)}/logs?lines=${lines}`);
  }

  containerRestart(ref: string, name: string): Promise<Json> {
    return this.json('POST', `/api/agents/${encodeURIComponent(ref)}/containers/${encodeURIComponent(name)}/restart`, {});
  }

  command(ref: string, cmd: ClientCommand, args: Json = {}): Promise<Json> {
    return this.json('POST', `/api/agents/${encodeURIComponent(ref)}/${cmd}`, args);
  }

  top(ref: string, q: { sort: ProcessSort; n: number }): Promise<TopProcesses> {
    return this.json('GET', `/api/agents/${encodeURIComponent(ref)}/top?sort=${q.sort}&n=${q.n}`);
  }

  alerts(after = 0): Promise<Alert[]> {
    return this.json('GET', `/api/alerts?after=${after}`);
  }

  pending(): Promise<Agent[]> {
    return this.json('GET', '/api/pending');
  }

  history(ref: string, q: HistoryQuery): Promise<History> {
    return this.json('GET', `/api/agents/${encodeURIComponent(ref)}/history?from=${q.from}&to=${q.to}&points=${q.points}${q.detail ? '&series=all' : ''}`);
  }

  processHistory(ref: string, q: { at: number } | { from: number; to: number }): Promise<ProcessHistory> {
    return this.json('GET', `/api/agents/${encodeURIComponent(ref)}/processes?${'at' in q ? `at=${q.at}` : `from=${q.from}&to=${q.to}`}`);
  }

  containerHistory(ref: string, q: { since: string; container?: string }): Promise<ContainerHistory> {
    return this.json('GET', `/api/agents/${encodeURIComponent(ref)}/containers/history?${new URLSearchParams({ since: q.since, ...(q.container !== undefined ? { container: q.container } : {}) })}`);
  }

  accept(ref: string | undefined): Promise<Agent[]> {
    return this.json('POST', ref === undefined ? '/api/pending/accept-all' : `/api/agents/${encodeURIComponent(ref)}/accept`);
  }

  revoke(ref: string): Promise<Agent> {
    return this.json('POST', `/api/agents/${encodeURIComponent(ref)}/revoke`);
  }

  reject(sel: { agent: string } | { address: string } | { all: true }): Promise<Agent[]> {
    return this.json('POST', '/api/pending/reject', sel);
  }

  reload(): Promise<Json> {
    return this.json('POST', '/api/reload');
  }

  config(): Promise<Json> {
    return this.json('GET', '/api/config');
  }

  activeAlerts(): Promise<Alert[]> {
    return this.json('GET', '/api/alerts?active=1');
  }

  silences(): Promise<Silence[]> {
    return this.json('GET', '/api/silences');
  }

  select(sel: Selection): Promise<Agent[]> {
    const q = new URLSearchParams();
    if (sel.selector !== undefined) q.set('selector', sel.selector);
    if (sel.label !== undefined) q.set('label', sel.label);
    if (sel.all) q.set('all', '1');
    return this.json('GET', `/api/select?${q}`);
  }

  async job(body: JobRequest, onResult: (r: JobResult) => void, signal?: AbortSignal): Promise<JobSummary> {
    const res = await this.open('POST', '/api/jobs', body, signal);
    if ((res.statusCode ?? 500) >= 400) {
      const { body: errBody } = await readCapped(res, ERROR_BODY_BYTES);
      let v: unknown;
      try {
        v = JSON.parse(errBody.toString('utf8'));
      } catch {
        throw new HwError('INTERNAL', `control API answered ${res.statusCode} with something that is not JSON`);
      }
      throw apiError(v);
    }
    let rest = '';
    try {
      for await (const chunk of res as AsyncIterable<Buffer>) {
        rest += chunk.toString('utf8');
        if (rest.length > CLIENT_MAX_RESPONSE_BYTES) throw new HwError('INTERNAL', `a job result line over ${CLIENT_MAX_RESPONSE_BYTES} bytes`);
        let i;
        while ((i = rest.indexOf('\n')) >= 0) {
          const line = rest.slice(0, i).trim();
          rest = rest.slice(i + 1);
          if (!line) continue;
          const v = JSON.parse(line);
          if (v.summary) return v.summary;
          onResult(v);
        }
      }
    } catch (err) {
      throw this.streamError(res, err, signal);
    }
    throw new HwError('API_UNREACHABLE', 'the manager closed the job stream before its summary (stopped?)');
  }

  silence(s: { selector: string; for: string; rule?: string; reason?: string }): Promise<Silence> {
    // The manager's own validator first: a bad --for is said before anything is sent.
    silenceRequest(s);
    return this.json('POST', '/api/silences', s);
  }

  unsilence(id: string): Promise<Silence> {
    return this.json('DELETE', `/api/silences/${encodeURIComponent(id)}`);
  }

  rules(ref?: string): Promise<Json[]> {
    return this.json('GET', ref === undefined ? '/api/rules' : `/api/rules/${encodeURIComponent(ref)}`);
  }

  services(ref: string, failed: boolean): Promise<ServicesResult> {
    return this.json('GET', `/api/agents/${encodeURIComponent(ref)}/services${failed ? '?failed=1' : ''}`);
  }

  /** Any other JSON endpoint of the control API (e.g. /api/notify). */
  request(method: 'GET' | 'POST', path: string, body?: Json): Promise<Json> {
    return this.json(method, path, body);
  }

  async fetch(ref: string, remotePath: string, localPath: string, progress?: FetchProgress, signal?: AbortSignal): Promise<{ bytes: number; sha256: string; path: string }> {
    const res = await this.open('GET', `/api/agents/${encodeURIComponent(ref)}/fetch?path=${encodeURIComponent(remotePath)}`, undefined, signal);
    if ((res.statusCode ?? 500) >= 400) {
      const { body: errBody } = await readCapped(res, ERROR_BODY_BYTES);
      let v: any = {};
      try {
        v = JSON.parse(errBody.toString('utf8'));
      } catch {
        // fall through with an empty body
      }
      throw apiError(v);
    }
    const size = Number(res.headers['x-file-size'] ?? -1);
    let part: PartFile | undefined;
    try {
      part = new PartFile(localPath, { sync: true });
      const file = part;
      // 'data' events, not an async iterator: the iterator's read() joins whatever is buffered
      // into a new buffer, a copy of every byte and most of the CLI's garbage. The writes are
      // synchronous (this process does nothing else meanwhile; the socket buffers what comes).
      await new Promise<void>((resolve, reject) => {
        res.on('data', (chunk: Buffer) => {
          try {
            file.writeNow(chunk);
          } catch (err) {
            reject(err);
            res.destroy();
            return;
          }
          progress?.(file.bytes, size);
        });
        res.once('end', resolve);
        res.once('error', reject);
        res.once('close', () => reject(new HwError('TRANSFER_ABORTED', 'the connection to the manager was cut during the transfer')));
      });
      if (!res.complete) throw new HwError('TRANSFER_ABORTED', 'the connection to the manager was cut during the transfer');
      const t = res.trailers;
      if (t['x-error-code']) throw new HwError(t['x-error-code'] as ErrorCode, decodeURIComponent(t['x-error-message'] ?? 'transfer failed'));
      const expected = t['x-sha256'];
      if (!expected) throw new HwError('TRANSFER_ABORTED', 'the transfer ended without a checksum');
      const sha256 = await part.commit(expected);
      return { bytes: part.bytes, sha256, path: localPath };
    } catch (err) {
      res.destroy();
      part?.discard();
      throw this.streamError(res, err, signal);
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
        if (rest.length > CLIENT_MAX_RESPONSE_BYTES) throw new HwError('INTERNAL', `an alert line over ${CLIENT_MAX_RESPONSE_BYTES} bytes`);
      }
    } catch (err) {
      if (signal.aborted) return;
      throw this.streamError(res, err, signal);
    }
    if (!signal.aborted) throw new HwError('API_UNREACHABLE', 'the manager closed the alert stream (stopped?)');
  }

  /** A new host's install command (common/install/routes.ts checks the fields). */
  installCommand(r: { os?: string; arch?: string; labels?: string[]; ttl?: string; address?: string; allowUpgrade?: boolean }): Promise<InstallCommandAnswer> {
    // The manager's own validator first: a bad --os or --ttl is said before anything is sent.
    installRequest(r);
    return this.json('POST', '/api/install-command', r);
  }

  installTokens(): Promise<InstallTokenRow[]> {
    return this.json('GET', '/api/install-tokens');
  }

  revokeInstallToken(id: string): Promise<InstallTokenRow> {
    return this.json('DELETE', `/api/install-tokens/${encodeURIComponent(id)}`);
  }
}

const secs = (ms: number) => Math.round(ms / 100) / 10;

function apiError(v: any): HwError {
  const e = v?.error;
  if (e && typeof e.code === 'string') return new HwError(e.code as ErrorCode, String(e.message ?? e.code));
  return new HwError('INTERNAL', 'control API answered with an error and no code');
}

