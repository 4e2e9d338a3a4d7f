// A small JSON object read from an HTTP request body, bounded in bytes: the control API's command
// arguments and the dashboard's forms both come in this way.

import type { IncomingMessage } from 'node:http';
import { HwError } from '../errors.ts';

/** Reads at most `max` bytes; an empty body is `{}`; anything but a JSON object is BAD_JSON/BAD_ARGS. */
export async function readJsonObject(req: IncomingMessage, max: number): Promise<Record<string, unknown>> {
  let size = 0;
  const parts: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) throw new HwError('BAD_ARGS', `request body over ${max} bytes`);
    parts.push(chunk);
  }
  if (!size) return {};
  let v: unknown;
  try {
    v = JSON.parse(Buffer.concat(parts).toString('utf8'));
  } catch {
    throw new HwError('BAD_JSON', 'request body is not JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new HwError('BAD_ARGS', 'request body must be a JSON object');
  return v as Record<string, unknown>;
}
