// One HTTP POST with a timeout, for Alertmanager and webhooks: resolves on a 2xx, throws a coded
// error on anything else (network failure, timeout, another status) so the caller retries. A 4xx
// that says this request will never be taken (not 408, 425 or 429) is REJECTED instead of UNAVAILABLE.
// The answer's body is read bounded in bytes and time: the status decides the outcome, a few KiB
// of an error body go into the message, and a body past that (hundreds of MiB, or one that never
// ends) is not read at all: the connection is destroyed. The message never carries the URL's user
// info or secret path, header values or the secrets the caller names.

import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { HwError } from '../errors.ts';
import { PRODUCT, VERSION } from '../version.ts';
import { redactUrl, scrubSecrets } from '../net/redact.ts';

/** One HTTP request to Alertmanager or a webhook gives up after this long (then retried). */
const NOTIFY_TIMEOUT_MS = 10_000;

/** Request Timeout, Too Early, Too Many Requests: the same request may be taken later. */
const RETRYABLE_4XX = new Set([408, 425, 429]);

export interface PostOptions {
  /** connect, send and receive the status line and headers within this (TIMEOUT past it) */
  timeoutMs?: number;
  /** how much of an error answer's body is kept for the message */
  errorBodyBytes?: number;
  /** a body (2xx or not) read to its end within this many bytes lets the connection be reused; past it, it is cut */
  drainBytes?: number;
  /** how long the body may take after the headers before it is cut (the outcome is known by then) */
  bodyWaitMs?: number;
  /** values that must never show in an error message (the webhook secret...) */
  secrets?: string[];
}

const DEFAULTS = { timeoutMs: NOTIFY_TIMEOUT_MS, errorBodyBytes: 2048, drainBytes: 64 * 1024, bodyWaitMs: 2000 };

export function postJson(url: string, body: string, headers: Record<string, string> = {}, options: PostOptions = {}): Promise<number> {
  const o = { ...DEFAULTS, ...dropUndefined(options) };
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return Promise.reject(new HwError('BAD_FLAG', `not a URL: ${redactUrl(url)}`));
  }
  const scrub = (text: string) => scrubSecrets(text, { urls: [url], secrets: [...(o.secrets ?? []), ...Object.values(headers)] });
  const payload = Buffer.from(body);
  const request = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<number>((resolve, reject) => {
    let settled = false;
    let req: ClientRequest | undefined;
    const settle = (err: HwError | null, status = 0) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(new HwError(err.code, scrub(err.message)));
      else resolve(status);
    };
    const timer = setTimeout(() => {
      settle(new HwError('TIMEOUT', `no answer within ${o.timeoutMs} ms`));
      req?.destroy();
    }, o.timeoutMs);
    try {
      req = request({
        protocol: u.protocol, hostname: u.hostname.replace(/^\[|\]$/g, ''), ...(u.port ? { port: Number(u.port) } : {}),
        path: `${u.pathname}${u.search}`, method: 'POST',
        // User info in the URL is Basic authentication, as curl and Prometheus read it.
        ...(u.username || u.password ? { auth: `${decoded(u.username)}:${decoded(u.password)}` } : {}),
        headers: { 'content-type': 'application/json', 'user-agent': `${PRODUCT}/${VERSION}`, ...headers, 'content-length': payload.length },
      });
    } catch (err) {
      settle(new HwError('UNAVAILABLE', (err as Error).message));
      return;
    }
    let answered = false;
    // After the headers the outcome is the status; a body cut short is the response's business.
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (!answered) settle(new HwError('UNAVAILABLE', err.code ?? err.message));
    });
    req.on('response', (res) => {
      answered = true;
      clearTimeout(timer);
      readBounded(res, res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode <= 299 ? 0 : o.errorBodyBytes, o.drainBytes, o.bodyWaitMs).then((text) => {
        const status = res.statusCode ?? 0;
        if (status >= 200 && status <= 299) return settle(null, status);
        const redirect = status >= 300 && status <= 399 ? ' (redirects are not followed)' : '';
        const why = `HTTP ${status}${redirect}${text ? `: ${text.replace(/\s+/g, ' ').trim()}` : ''}`;
        settle(new HwError(status >= 400 && status <= 499 && !RETRYABLE_4XX.has(status) ? 'REJECTED' : 'UNAVAILABLE', why));
      });
    });
    req.end(payload);
  });
}

/**
 * Keeps the first `keep` bytes of the body as text and reads on to its end only while it stays
 * within `drain` bytes and `waitMs`; otherwise destroys the response (and with it the socket), so
 * nothing more is read or buffered. Never rejects: the body only decorates the outcome.
 */
function readBounded(res: IncomingMessage, keep: number, drain: number, waitMs: number): Promise<string> {
  return new Promise((resolve) => {
    const kept: Buffer[] = [];
    let keptBytes = 0;
    let seen = 0;
    let finished = false;
    const done = (ended: boolean) => {
      if (finished) return;
      finished = true;
      clearTimeout(wait);
      res.off('data', onData);
      if (!ended) res.destroy();
      // A multi-byte character cut at the end shows as U+FFFD, harmless in a message.
      resolve(Buffer.concat(kept).toString('utf8'));
    };
    const onData = (c: Buffer) => {
      seen += c.length;
      if (keptBytes < keep) {
        const part = c.subarray(0, keep - keptBytes);
        kept.push(Buffer.from(part));
        keptBytes += part.length;
      }
      if (seen > drain) done(false);
    };
    const wait = setTimeout(() => done(false), waitMs);
    res.on('data', onData);
    res.once('end', () => done(true));
    res.once('error', () => done(false));
    res.once('close', () => done(res.complete));
  });
}

function dropUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function decoded(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** A URL fit to show in status and logs: no user, password or query (they may hold secrets). */
export function displayUrl(url: string, hidePath = false): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${hidePath ? (u.pathname.length > 1 ? '/…' : '') : u.pathname}`;
  } catch {
    return '(bad URL)';
  }
}

/** Checks a destination URL given on the command line; the message shows no credentials. */
export function checkUrl(url: string, flag: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new HwError('BAD_FLAG', `${flag} ${scrubSecrets(url)}: not a URL (e.g. http://127.0.0.1:9093)`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new HwError('BAD_FLAG', `${flag} ${redactUrl(url)}: only http:// and https:// are supported`);
  return u.toString();
}
