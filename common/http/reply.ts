// What every listener answers with: JSON with nosniff and no-store, pages with the CSP, and one
// error shape, `{ "error": { "code", "message" } }`, with the status its code maps to.

import type { ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { toWireError, type ErrorCode } from '../errors.ts';

/** No inline script or style, nothing from elsewhere, not framed. */
export const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; "
  + "font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** On every answer: nothing sniffed, no referrer, not framed; HSTS over HTTPS. */
export function baseHeaders(res: ServerResponse): Record<string, string> {
  const secure = !!(res.req?.socket as TLSSocket | undefined)?.encrypted;
  return {
    'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'x-frame-options': 'DENY',
    'cross-origin-opener-policy': 'same-origin', 'cross-origin-resource-policy': 'same-origin',
    ...(secure ? { 'strict-transport-security': 'max-age=31536000' } : {}),
  };
}

/** A page or one of its files. */
export function pageHeaders(res: ServerResponse): Record<string, string> {
  return { ...baseHeaders(res), 'content-security-policy': CSP };
}

export const STATUS: Partial<Record<ErrorCode, number>> = {
  UNAUTHORIZED: 401, NOT_FOUND: 404, AGENT_NOT_FOUND: 404, AGENT_AMBIGUOUS: 409, AGENT_OFFLINE: 409,
  BAD_ARGS: 400, BAD_JSON: 400, PENDING: 409, TIMEOUT: 504, DISCONNECTED: 502, RESTART_DISABLED: 403, FILE_NOT_FOUND: 404,
  FILE_NOT_REGULAR: 422, FILE_UNREADABLE: 403, FILES_DISABLED: 403, LOGS_UNAVAILABLE: 422, UNKNOWN_COMMAND: 400,
  TOO_MANY_CONNECTIONS: 503, STORAGE_FAILED: 507, CANCELLED: 499, BAD_CONFIG: 422, NO_CONFIG: 409, METHOD_NOT_ALLOWED: 405,
  AGENT_TOO_OLD: 409, FORBIDDEN: 403, CSRF_REJECTED: 403, BAD_CREDENTIALS: 401, RATE_LIMITED: 429, USER_NOT_FOUND: 404, USER_EXISTS: 409,
  ENGINE_UNREACHABLE: 503, ENGINE_TIMEOUT: 504, ENGINE_BAD_ANSWER: 502, ENGINE_ERROR: 502, CONTAINER_NOT_FOUND: 404, CONTAINER_RESTART_DISABLED: 403,
  DIST_MISSING: 404, TOKEN_NOT_FOUND: 404, WEB_DISABLED: 409,
};

export function statusOf(code: ErrorCode): number {
  return STATUS[code] ?? (code === 'INTERNAL' ? 500 : 422);
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string | string[]> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...baseHeaders(res), 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text), ...headers,
  });
  res.end(text);
}

export function sendError(res: ServerResponse, err: unknown, headers: Record<string, string> = {}): void {
  const e = toWireError(err);
  sendJson(res, statusOf(e.code), { error: e }, headers);
}
