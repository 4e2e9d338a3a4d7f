// One HTTP POST with a timeout, for Alertmanager and webhooks: resolves on a 2xx, throws a coded
// error on anything else (network failure, timeout, another status) so the caller retries. A 4xx
// that says this request will never be taken (not 408, 425 or 429) is REJECTED instead of UNAVAILABLE.

import { HwError } from '../errors.ts';
import { NOTIFY_TIMEOUT_MS, PRODUCT, VERSION } from '../constants.ts';

/** Request Timeout, Too Early, Too Many Requests: the same request may be taken later. */
const RETRYABLE_4XX = new Set([408, 425, 429]);

export async function postJson(url: string, body: string, headers: Record<string, string> = {}, timeoutMs = NOTIFY_TIMEOUT_MS): Promise<number> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST', body, redirect: 'error', signal: AbortSignal.timeout(timeoutMs),
      headers: { 'content-type': 'application/json', 'user-agent': `${PRODUCT}/${VERSION}`, ...headers },
    });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    if (e.name === 'TimeoutError') throw new HwError('TIMEOUT', `no answer within ${timeoutMs} ms`);
    throw new HwError('UNAVAILABLE', e.cause?.code ?? e.cause?.message ?? e.message);
  }
  // Read (a bounded part of) the answer so the connection can be reused, and to show errors.
  let text = '';
  try {
    text = (await res.text()).slice(0, 300);
  } catch {
    // the body is only for the error message
  }
  if (res.status >= 200 && res.status <= 299) return res.status;
  const why = `HTTP ${res.status}${text ? `: ${text.replace(/\s+/g, ' ').trim()}` : ''}`;
  throw new HwError(res.status >= 400 && res.status <= 499 && !RETRYABLE_4XX.has(res.status) ? 'REJECTED' : 'UNAVAILABLE', why);
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

/** Checks a destination URL given on the command line. */
export function checkUrl(url: string, flag: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new HwError('BAD_FLAG', `${flag} ${url}: not a URL (e.g. http://127.0.0.1:9093)`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new HwError('BAD_FLAG', `${flag} ${url}: only http:// and https:// are supported`);
  return u.toString();
}
