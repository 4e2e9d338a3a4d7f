// The JSON API the CLI uses, called with the session cookie; state-changing requests carry the
// CSRF token. Errors keep the manager's code (AGENT_OFFLINE, FORBIDDEN...) for the page to show.

export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  constructor(code: string, message: string, status: number) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

import type { Me } from '../common/api/types.ts';

export type { Me };

let csrf = '';
let onSignedOut: () => void = () => {};

export function setSession(me: Me | null, signedOut?: () => void): void {
  csrf = me?.csrf ?? '';
  if (signedOut) onSignedOut = signedOut;
}

export async function errorOf(res: Response): Promise<ApiError> {
  let code = `HTTP_${res.status}`;
  let message = res.statusText || 'request failed';
  try {
    const v = (await res.json()) as { error?: { code?: unknown; message?: unknown } };
    if (v?.error?.code) {
      code = String(v.error.code);
      message = String(v.error.message ?? '');
    }
  } catch {
    // not JSON: keep the status
  }
  return new ApiError(code, message, res.status);
}

/**
 * An agent's API path by its exact id (`id:<id>`): a page knows the id, and a bare reference could
 * also be another agent's name (the API then answers AGENT_AMBIGUOUS rather than guess).
 */
export function agentPath(id: string): string {
  return `/api/agents/${encodeURIComponent(`id:${id}`)}`;
}

export async function api<T = any>(path: string, opts: { method?: string; body?: unknown; signal?: AbortSignal } = {}): Promise<T> {
  const method = opts.method ?? 'GET';
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET') headers['x-csrf-token'] = csrf;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, {
      method, headers, credentials: 'same-origin', ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  } catch (err) {
    throw new ApiError('API_UNREACHABLE', `the manager did not answer (${(err as Error).message})`, 0);
  }
  if (!res.ok) {
    const e = await errorOf(res);
    if (e.code === 'UNAUTHORIZED' && !path.startsWith('/api/web/')) onSignedOut();
    throw e;
  }
  return (await res.json()) as T;
}

export const csrfToken = () => csrf;
