// `manager upgrade <agent|glob|label=value|--label|--all> --to <executable>`: starts a rollout on the
// running manager (which checks the signature and each host's platform), then prints each host's
// steps as they change until the rollout ends; `manager upgrade status` shows the last one (and where
// it stopped when a manager restart cut it short); `manager upgrade resume` goes on with it.

import type { CAC } from 'cac';
import { resolve } from 'node:path';
import { upgradeRequest } from '../api/validate.ts';
import { HwError, isHwError } from '../errors.ts';
import { readSignature } from '../security/upgrade-sign.ts';
import { inert } from '../util/inert.ts';
import { bytes } from './format.ts';
import type { HostProgress, RolloutStatus } from '../api/types.ts';
import type { HttpClient } from './client.ts';
import type { Io } from './io.ts';
import { last } from './run.ts';

type ClientOf = (opts: { api?: unknown; dataDir: string; timeout?: unknown }) => HttpClient;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** How often the CLI asks for the rollout's progress while it runs. */
const FOLLOW_EVERY_MS = 1000;

/** How long the file took to reach the host, once it is there: "(104.2 MiB sent in 1.3 s)". */
function sentText(h: HostProgress, size: number | undefined): string {
  if (typeof h.sendingAt !== 'number' || typeof h.sentAt !== 'number' || h.step === 'failed') return '';
  return `  (${size ? `${bytes(size)} ` : ''}sent in ${((h.sentAt - h.sendingAt) / 1000).toFixed(1)} s)`;
}

function hostLine(h: HostProgress, size?: number): string {
  return `${inert(h.agent)}: ${h.step}${sentText(h, size)}${h.error ? `  ${inert(h.error.code)}: ${inert(h.error.message)}` : ''}${h.note ? `  (${inert(h.note)})` : ''}`;
}

function summary(s: RolloutStatus): string {
  const by = (step: string) => s.hosts.filter((h) => h.step === step).length;
  const midway = by('sending') + by('switching');
  return `upgrade to ${inert(s.version)} (${inert(s.platform)}-${inert(s.arch)}) by ${inert(s.by)}${s.resumedBy ? `, resumed by ${inert(s.resumedBy)}` : ''}: ${s.state}; ${s.hosts.length} host${s.hosts.length === 1 ? '' : 's'}: ${by('done')} done, ${by('skipped')} already on it, ${by('failed')} failed, ${by('waiting')} not started${midway && s.state === 'interrupted' ? `, ${midway} cut short (judged when they reconnect)` : ''}`;
}

/** Where an interrupted rollout stopped, and what to do. */
function interruptedLine(s: RolloutStatus): string {
  const when = typeof s.interruptedAt === 'number' ? ` (manager restarted ${new Date(s.interruptedAt).toISOString()})` : '';
  return `interrupted in batch ${s.batch ?? '?'} of ${s.batches ?? '?'}${when}: \`manager upgrade resume\` goes on with the pending hosts`;
}

export async function upgradeStatusCmd(c: HttpClient, o: { json?: boolean }, io: Io): Promise<void> {
  const s = (await c.request('GET', '/api/upgrade')) as RolloutStatus | null;
  if (o.json) return io.out(JSON.stringify(s));
  if (!s) return io.out('no rollout yet');
  for (const h of s.hosts) io.out(hostLine(h, s.size));
  io.out(summary(s));
  if (s.state === 'interrupted') io.out(interruptedLine(s));
}

/** Prints each host's steps as they change until the rollout is no longer running; fails when it did not end well. */
async function follow(c: HttpClient, first: RolloutStatus, o: { json?: unknown }, io: Io): Promise<void> {
  let s = first;
  const seen = new Map<string, string>();
  const show = (st: RolloutStatus) => {
    for (const h of st.hosts) {
      const key = `${h.step}${h.error?.code ?? ''}`;
      if (seen.get(h.agentId) === key) continue;
      seen.set(h.agentId, key);
      io.out(o.json ? JSON.stringify(h) : hostLine(h, st.size));
    }
  };
  show(s);
  while (s.state === 'running') {
    await new Promise((r) => setTimeout(r, FOLLOW_EVERY_MS));
    s = (await c.request('GET', '/api/upgrade').catch((err: unknown) => {
      throw isHwError(err) && err.code === 'API_UNREACHABLE'
        ? new HwError('API_UNREACHABLE', `${err.message}; the manager stopped during the rollout: once it is back, \`manager upgrade status\` shows where it stopped and \`manager upgrade resume\` goes on`)
        : err;
    })) as RolloutStatus;
    show(s);
  }
  io.out(o.json ? JSON.stringify({ summary: { state: s.state, version: s.version, hosts: s.hosts.length, failed: s.hosts.filter((h) => h.step === 'failed').length } }) : summary(s));
  if (s.hosts.some((h) => h.step === 'failed') || s.state !== 'done') throw new HwError('SOME_FAILED', `the rollout ${s.state === 'done' ? 'ended with failures' : s.state}: see \`manager upgrade status\``);
}

/** `manager upgrade resume`: goes on with an interrupted rollout, then follows it. */
export async function upgradeResumeCmd(c: HttpClient, o: { json?: unknown }, io: Io): Promise<void> {
  await follow(c, (await c.request('POST', '/api/upgrades/resume')) as RolloutStatus, o, io);
}

export async function upgradeCmd(c: HttpClient, ref: string | undefined, o: Record<string, unknown>, io: Io): Promise<void> {
  if (o.to === undefined || o.to === true) throw new HwError('BAD_ARGS', 'upgrade needs --to <agent-executable> (signed: <executable>.sig beside it)');
  const to = resolve(String(last(o.to)));
  readSignature(to); // said here, before anything is asked of the manager
  const body = {
    ...(ref !== undefined ? { selector: ref } : {}), ...(o.label !== undefined ? { label: String(last(o.label)) } : {}), ...(o.all ? { all: true } : {}),
    to, ...(o.batch !== undefined ? { batch: String(last(o.batch)) } : {}), ...(o.maxFailures !== undefined ? { maxFailures: Number(last(o.maxFailures)) } : {}),
  };
  upgradeRequest(body); // the manager's own validator: a mistake is said before anything is sent
  await follow(c, (await c.request('POST', '/api/upgrade', body as unknown as Json)) as RolloutStatus, o, io);
}

export function registerUpgradeCommand(cli: CAC, client: ClientOf, io: () => Io): void {
  cli.command('upgrade [agent]', 'Upgrade agents to a signed executable, in batches, each host rolled back by itself if the new one does not come back; `upgrade status`: the last rollout (where it stopped, if a manager restart cut it short); `upgrade resume`: go on with an interrupted one (admin; the executable must be unchanged)')
    .option('--to <executable>', 'The agent executable (on this host; signed with `manager upgrade-key sign`: <executable>.sig beside it)')
    .option('--label <name=value>', 'Every agent with this label (instead of <agent>)')
    .option('--all', 'Every agent (instead of <agent>)')
    .option('--batch <n|n%>', 'Hosts upgraded at once: a count or a percentage (default 10%)')
    .option('--max-failures <n>', 'Failures in one batch that stop the rollout (default 1)')
    .option('--json', 'JSON output: one line per host step, then a summary')
    .example('manager upgrade --all --to ./agent-linux-x64 --batch 5')
    .example('manager upgrade role=web --to ./agent-linux-x64 --batch 10% --max-failures 1')
    .example('manager upgrade status')
    .example('manager upgrade resume')
    .action((ref, o) => (ref === 'status' ? upgradeStatusCmd(client(o), o, io())
      : ref === 'resume' ? upgradeResumeCmd(client(o), o, io())
      : upgradeCmd(client(o), ref === undefined ? undefined : String(ref), o, io())));
}
