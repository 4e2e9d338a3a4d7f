// Small HTTP functions for the dashboard's routes: security headers, JSON in and out, cookies.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { readJsonObject } from '../net/json-body.ts';
import { HwError } from '../errors.ts';

/** No inline script or style, nothing from elsewhere, not framed. */
export const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; "
  + "font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

export function securityHeaders(): Record<string, string> {
  return {
    'content-security-policy': CSP, 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY', 'cross-origin-opener-policy': 'same-origin', 'cross-origin-resource-policy': 'same-origin',
  };
}

export function isHttps(req: IncomingMessage): boolean {
  return !!(req.socket as TLSSocket).encrypted;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string | string[]> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...securityHeaders(), 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function cookies(req: IncomingMessage): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out.set(part.slice(0, i).trim(), part.slice(i + 1).trim());
  }
  return out;
}

/** A small JSON object body (sign-in forms); refuses anything but application/json, which a cross-site form cannot send. */
export async function readJsonBody(req: IncomingMessage, max = 8192): Promise<Record<string, unknown>> {
  if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) throw new HwError('BAD_ARGS', 'send the body as application/json');
  return readJsonObject(req, max);
}
