// Small HTTP functions for the dashboard's routes: cookies, HTTPS or not, the sign-in forms' body.

import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { readJsonObject } from '../net/json-body.ts';
import { HwError } from '../errors.ts';

export function isHttps(req: IncomingMessage): boolean {
  return !!(req.socket as TLSSocket).encrypted;
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
