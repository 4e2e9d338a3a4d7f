// `manager containers`, `container-logs` and `container-restart`: the host's containers, a
// container's log, and a restart asked for like the host's (confirmation unless --yes).

import { HwError } from '../errors.ts';
import { containerArgs } from '../collect/containers/args.ts';
import type { ContainersResult } from '../api/types.ts';
import { inert } from '../util/inert.ts';
import type { Client } from './client.ts';
import type { Io } from './io.ts';
import { bytes, pct, table } from './format.ts';
import { manySelection } from './many.ts';

export function containersText(r: ContainersResult): string {
  if (!r.containers.length) return `no containers (engine at ${inert(r.engine.socket)}, from ${inert(r.engine.from)})`;
  const rows = r.containers.map((c) => [
    c.name, c.image, c.state, c.health ?? '-', c.restartCount === null ? '-' : String(c.restartCount), pct(c.cpuPercent),
    c.memUsedBytes === null ? '-' : `${bytes(c.memUsedBytes)} / ${bytes(c.memLimitBytes)}`,
    c.netRxBytes === null ? '-' : `${bytes(c.netRxBytes)} / ${bytes(c.netTxBytes)}`,
    c.blockReadBytes === null ? '-' : `${bytes(c.blockReadBytes)} / ${bytes(c.blockWriteBytes)}`, c.status,
  ]);
  const more = [
    r.total > r.containers.length ? `${r.total - r.containers.length} more containers not shown` : '',
    r.notInspected ? `${r.notInspected} not inspected (health, restarts, usage) in this call` : '',
  ].filter(Boolean).join('; ');
  return table([['NAME', 'IMAGE', 'STATE', 'HEALTH', 'RESTARTS', 'CPU', 'MEM USED / LIMIT', 'NET RX / TX', 'BLOCK R / W', 'STATUS'], ...rows]) + (more ? `\n${more}` : '');
}

export async function containersCmd(c: Client, ref: string | undefined, o: { json?: boolean; label?: unknown; all?: unknown }, io: Io): Promise<void> {
  const sel = manySelection(ref, o);
  if (!sel) {
    const r = await c.containers(ref!);
    io.out(o.json ? JSON.stringify(r, null, 2) : containersText(r));
    return;
  }
  // Several hosts: each asked in turn through the viewer's route (no job: a list is not an action).
  const agents = await c.select(sel);
  let failed = 0;
  for (const a of agents) {
    try {
      const r = await c.containers(a.id);
      io.out(o.json ? JSON.stringify({ agent: a.name, agentId: a.id, ok: true, result: r }) : `== ${inert(a.name)} ==\n${containersText(r)}`);
    } catch (err) {
      failed++;
      const e = err as HwError;
      io.out(o.json ? JSON.stringify({ agent: a.name, agentId: a.id, ok: false, error: { code: e.code, message: e.message } }) : `== ${inert(a.name)} ==  ${inert(e.code)}: ${inert(e.message)}`);
    }
  }
  if (failed) throw new HwError('SOME_FAILED', `${failed} of ${agents.length} hosts did not answer`);
}

export async function containerLogsCmd(c: Client, ref: string, name: string, o: { lines?: unknown; json?: boolean }, io: Io): Promise<void> {
  const a = containerArgs('container-logs', { name, ...(o.lines !== undefined ? { lines: o.lines } : {}) });
  const r = await c.containerLogs(ref, a.name!, a.lines!);
  if (o.json) return io.out(JSON.stringify(r, null, 2));
  io.out(r.lines.length ? r.lines.map((l) => inert(l.text)).join('\n') : `(container ${inert(name)} has written nothing)`);
  if (r.cut) io.out('(the log was cut at its size bound: fewer lines than asked)');
}

export async function containerRestartCmd(c: Client, ref: string, name: string, o: { yes?: boolean }, io: Io): Promise<void> {
  containerArgs('container-restart', { name });
  if (!o.yes) {
    if (!io.confirm) throw new HwError('BAD_ARGS', 'container-restart asks for confirmation: add --yes when no one is at a terminal');
    if (!(await io.confirm(`Restart container "${name}" on agent "${ref}" now? [y/N] `))) {
      io.out('not restarted');
      return;
    }
  }
  await c.containerRestart(ref, name);
  io.out(`container ${inert(name)} restarted on ${inert(ref)}`);
}
