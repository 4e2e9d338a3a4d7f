// Windows readers that have no Node API: network totals (`netstat -e`) and the process count
// (`tasklist`), both through an injected Runner so they can be tested on Linux with real outputs.
//
// Why netstat and not systeminformation's persistent PowerShell (si.powerShellStart()): that shell
// is a module-wide singleton shared with every si call, and where PowerShell is missing (Wine,
// stripped images) si silently answers '' and networkStats reports 0 bytes, the made-up zero we
// must not send. netstat.exe and tasklist.exe ship with every Windows, need no PowerShell, and cost
// one short process each per report interval (the 1 s CPU sampler uses os.cpus() and spawns nothing).
import { HwError } from '../errors.ts';
import type { Runner } from '../util/runner.ts';

/** Windows readers (netstat -e, tasklist): give up after this long, read at most this much output. */
const WIN_READER_TIMEOUT_MS = 10_000;
const WIN_READER_MAX_BYTES = 4 * 1024 * 1024;

/** The system drive as `C:`; %SystemDrive% is set on every Windows, `C:` is its usual value. */
export function systemDrive(env: NodeJS.ProcessEnv = process.env): string {
  const d = (env.SystemDrive ?? '').trim();
  return /^[A-Za-z]:$/.test(d) ? d.toUpperCase() : 'C:';
}

/** Runs a program and returns stdout, or throws HwError UNAVAILABLE saying why there is none. */
async function runForOutput(runner: Runner, file: string, args: string[]): Promise<string> {
  const r = await runner(file, args, { timeoutMs: WIN_READER_TIMEOUT_MS, maxBytes: WIN_READER_MAX_BYTES });
  if (r.code !== 0) {
    const why = r.code === null ? (r.error ?? 'killed') : `exit code ${r.code}`;
    const detail = r.stderr.trim().split(/\r?\n/)[0];
    throw new HwError('UNAVAILABLE', `${file} failed: ${why}${detail ? ` (${detail})` : ''}`);
  }
  if (!r.stdout.trim()) throw new HwError('UNAVAILABLE', `${file} printed nothing`);
  return r.stdout;
}

/**
 * `netstat -e`:
 *     Interface Statistics
 *                                Received            Sent
 *     Bytes                    1425138737       97849120
 *     Unicast packets             1434254         756372
 * The row labels are translated ("Octets", "Bytes"...), so the bytes row is found by position: it
 * is the first row ending in two numbers. Totals of all adapters, loopback not included.
 */
export function parseNetstatE(text: string): { rxBytes: number; txBytes: number } {
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*\S.*?\s(\d+)\s+(\d+)\s*$/.exec(line);
    if (m) return { rxBytes: Number(m[1]), txBytes: Number(m[2]) };
  }
  throw new HwError('UNAVAILABLE', 'netstat -e printed no byte counters');
}

export async function readWindowsNet(runner: Runner): Promise<{ rxBytes: number; txBytes: number }> {
  return parseNetstatE(await runForOutput(runner, 'netstat', ['-e']));
}

/** `tasklist /fo csv /nh`: one `"image","pid",...` row per process; other lines (INFO:) are not. */
export function parseTasklistCsv(text: string): number {
  let n = 0;
  for (const line of text.split(/\r?\n/)) if (/^"[^"]*","\d+"/.test(line)) n++;
  if (n === 0) throw new HwError('UNAVAILABLE', 'tasklist listed no processes');
  return n;
}

export async function countWindowsProcesses(runner: Runner): Promise<number> {
  return parseTasklistCsv(await runForOutput(runner, 'tasklist', ['/fo', 'csv', '/nh']));
}
