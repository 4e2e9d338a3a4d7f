// One request to a container engine over its unix socket (Docker's Engine API, which Podman also
// answers). Every request has a deadline covering the whole answer and a bound on the body, so an
// engine that hangs or streams garbage costs one coded error, never the agent's memory or reports.

import { request } from 'node:http';
import { HwError } from '../../errors.ts';

/** The Engine API version asked for: Docker 20.10 and Podman 3+ both answer it. */
export const ENGINE_API = '/v1.41';

export interface EngineRequest {
  socketPath: string;
  method?: 'GET' | 'POST';
  /** with the version prefix, e.g. /v1.41/containers/json?all=1 */
  path: string;
  timeoutMs: number;
  maxBytes: number;
  /** called with each chunk instead of buffering the body (the log stream); returns false to stop reading */
  onChunk?: (chunk: Buffer) => boolean;
}

export interface EngineAnswer {
  status: number;
  body: Buffer;
  /** the body went past maxBytes (onChunk: or onChunk asked to stop); what was read is kept */
  cut: boolean;
}

/** Rejects with ENGINE_UNREACHABLE (connect failed, with the errno), ENGINE_TIMEOUT or ENGINE_BAD_ANSWER. */
export function engineRequest(r: EngineRequest): Promise<EngineAnswer> {
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (err: Error | undefined, answer?: EngineAnswer) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) {
        req.destroy();
        reject(err);
      } else resolve(answer!);
    };
    const req = request({ socketPath: r.socketPath, method: r.method ?? 'GET', path: r.path, headers: { host: 'docker' }, agent: false }, (res) => {
      const parts: Buffer[] = [];
      let size = 0;
      let cut = false;
      res.on('data', (chunk: Buffer) => {
        if (cut) return;
        if (size + chunk.length > r.maxBytes) {
          chunk = chunk.subarray(0, r.maxBytes - size);
          cut = true;
        }
        size += chunk.length;
        if (r.onChunk) {
          if (!r.onChunk(chunk)) cut = true;
        } else parts.push(chunk);
        if (cut) {
          res.destroy();
          finish(undefined, { status: res.statusCode ?? 0, body: Buffer.concat(parts), cut: true });
        }
      });
      res.on('end', () => finish(undefined, { status: res.statusCode ?? 0, body: Buffer.concat(parts), cut: false }));
      res.on('error', (err) => finish(new HwError('ENGINE_BAD_ANSWER', `the engine's answer broke off: ${err.message}`, { cause: err })));
    });
    const timer = setTimeout(() => finish(new HwError('ENGINE_TIMEOUT', `the engine at ${r.socketPath} did not answer ${r.method ?? 'GET'} ${r.path.split('?')[0]} within ${r.timeoutMs} ms`)), r.timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => {
      // An HTTP parse error is the engine's garbage; a socket error before any answer is no engine.
      if (err.code?.startsWith('HPE_')) finish(new HwError('ENGINE_BAD_ANSWER', `the engine at ${r.socketPath} answered something that is not HTTP (${err.code})`, { cause: err }));
      else finish(new HwError('ENGINE_UNREACHABLE', `${r.socketPath}: ${err.code ?? err.message}`, { cause: err }));
    });
    req.end();
  });
}

/** A JSON answer: status 2xx and a body that parses, else a coded error. */
export async function engineJson(r: EngineRequest): Promise<unknown> {
  const a = await engineRequest(r);
  if (a.cut) throw new HwError('ENGINE_BAD_ANSWER', `the engine's answer to ${r.path.split('?')[0]} is over ${r.maxBytes} bytes`);
  const text = a.body.toString('utf8');
  if (a.status === 404) throw new HwError('CONTAINER_NOT_FOUND', engineMessage(text) ?? 'no such container');
  if (a.status < 200 || a.status > 299) throw new HwError('ENGINE_ERROR', `the engine answered ${a.status}: ${engineMessage(text) ?? text.slice(0, 200)}`);
  if (a.status === 204) return null;
  try {
    return JSON.parse(text);
  } catch {
    throw new HwError('ENGINE_BAD_ANSWER', `the engine's answer to ${r.path.split('?')[0]} is not JSON`);
  }
}

/** The engine's own error text ({"message": ...}), when it sent one. */
export function engineMessage(text: string): string | undefined {
  try {
    const m = (JSON.parse(text) as { message?: unknown }).message;
    return typeof m === 'string' ? m.slice(0, 500) : undefined;
  } catch {
    return undefined;
  }
}
