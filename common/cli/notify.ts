// `manager notify status` and `manager notify test`: the Alertmanager and webhook destinations of
// the running manager, and a test alert sent to all of them.

import { HwError } from '../errors.ts';
import type { HttpClient } from './client.ts';
import type { Io } from './io.ts';
import { ago, table } from './format.ts';

type Status = {
  destinations: { kind: string; url: string; queued: number; sent: number; failed: number; dropped: number; rejected?: number; lastSuccessAt: string | null; lastErrorAt: string | null; lastError: string | null; lastErrorCode?: string | null; nextAttemptAt: string | null }[];
  outbox: { items: number; bytes: number; maxBytes: number; maxItems: number; storageError: string | null; path: string };
};

export async function notifyStatusCmd(c: HttpClient, o: { json?: boolean }, io: Io): Promise<void> {
  const s = (await c.request('GET', '/api/notify')) as unknown as Status;
  if (o.json) return io.out(JSON.stringify(s, null, 2));
  const rows = [['KIND', 'URL', 'QUEUED', 'SENT', 'FAILED', 'DROPPED', 'REJECTED', 'LAST SUCCESS', 'LAST ERROR']];
  for (const d of s.destinations) {
    rows.push([
      d.kind, d.url, String(d.queued), String(d.sent), String(d.failed), String(d.dropped), String(d.rejected ?? 0), d.lastSuccessAt ? ago(d.lastSuccessAt) : 'never',
      d.lastError ? `${ago(d.lastErrorAt)}: ${d.lastErrorCode ? `${d.lastErrorCode} ` : ''}${d.lastError}${d.nextAttemptAt ? ` (retry ${new Date(d.nextAttemptAt).toISOString().slice(11, 19)})` : ''}` : '-',
    ]);
  }
  io.out(table(rows));
  const mib = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;
  io.out(`outbox ${s.outbox.path}: ${s.outbox.items} item(s), ${mib(s.outbox.bytes)} of ${mib(s.outbox.maxBytes)} (at most ${s.outbox.maxItems} items)`);
  if (s.outbox.storageError) io.out(`WARNING: ${s.outbox.storageError}; queued alerts are kept in memory until the disk takes them`);
}

export async function notifyTestCmd(c: HttpClient, io: Io): Promise<void> {
  const r = (await c.request('POST', '/api/notify/test')) as { id?: string; destinations?: number };
  if (typeof r.id !== 'string') throw new HwError('INTERNAL', 'the manager did not say what it queued');
  io.out(`test alert ${r.id} queued for ${r.destinations} destination(s); see \`manager notify status\``);
}
