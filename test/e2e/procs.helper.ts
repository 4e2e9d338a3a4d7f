// Starts the real programs (the dev bundles in .build/, as `npm run manager|agent` does) on
// loopback with port 0, and runs CLI subcommands against them.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BACKOFF_CAP_MS } from '../../common/util/backoff.ts';
import { Fatal, tempDir, waitFor } from '../harness.helper.ts';

const here = dirname(fileURLToPath(import.meta.url));
/** .build/ (the tests run from .build/test/e2e/) */
export const BUILD = resolve(here, '..', '..');
export const MANAGER_JS = join(BUILD, 'manager.mjs');
export const AGENT_JS = join(BUILD, 'agent.mjs');

export interface Proc {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  kill: (sig?: NodeJS.Signals) => Promise<number | null>;
}

const running = new Set<ChildProcess>();

export function run(file: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Proc {
  const child = spawn(process.execPath, [file, ...args], { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { out += d; });
  const exited = new Promise<number | null>((r) => child.on('exit', (code, sig) => {
    running.delete(child);
    r(code ?? (sig ? -1 : null));
  }));
  return {
    child, output: () => out, exited,
    kill: async (sig = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(sig);
      return exited;
    },
  };
}

export async function killAll(): Promise<void> {
  for (const c of running) c.kill('SIGKILL');
  running.clear();
}

export interface ManagerProc extends Proc {
  dataDir: string;
  tcpPort: number;
  udpPort: number;
  apiPort: number;
}

export async function startManager(extra: string[] = [], dataDir = tempDir('hw-mgr-'), env?: NodeJS.ProcessEnv): Promise<ManagerProc> {
  const info = join(dataDir, 'manager.json');
  const p = run(MANAGER_JS, ['--host', '127.0.0.1', '--port', '0', '--udp-port', '0', '--api', '127.0.0.1:0', '--data-dir', dataDir, ...extra], { ...(env ? { env } : {}) });
  // manager.json may be left from a previous run in the same folder: wait for our pid in it.
  const m = await waitFor(() => {
    if (p.child.exitCode !== null) throw new Fatal(`manager exited: ${p.output()}`);
    if (!existsSync(info)) return null;
    const v = JSON.parse(readFileSync(info, 'utf8'));
    return v.pid === p.child.pid ? v : null;
  }, 10_000, 'manager.json');
  const port = (hp: string) => Number(hp.slice(hp.lastIndexOf(':') + 1));
  return { ...p, dataDir, tcpPort: port(m.tcp), udpPort: port(m.udp), apiPort: port(m.api) };
}

/**
 * Starts an agent; with `enroll` (the default) it shows the manager's enroll token and is accepted
 * at once. The token is read from the manager's own file (--enroll-token-file), as an administrator
 * would copy it, not given on the command line. `env` is added to this process's environment.
 */
export function startAgent(mgr: { tcpPort: number; udpPort: number; dataDir?: string }, extra: string[] = [], stateDir = tempDir('hw-agent-'), enroll = true, env?: NodeJS.ProcessEnv): Proc & { stateDir: string } {
  const token = enroll && mgr.dataDir ? ['--enroll-token-file', join(mgr.dataDir, 'enroll-token')] : [];
  const p = run(AGENT_JS, ['--manager', `127.0.0.1:${mgr.tcpPort}`, '--udp-port', String(mgr.udpPort), '--interval', '1', '--state-dir', stateDir, ...token, ...extra], { ...(env ? { env } : {}) });
  return { ...p, stateDir };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `manager <args> --data-dir <dir>` to completion. */
export function cli(dataDir: string, args: string[], timeoutMs = 20_000): Promise<CliResult> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [MANAGER_JS, ...args, '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

/** `manager <args> --data-dir <dir>` with `input` on its standard input (`user add --password-stdin`). */
export function cliWithInput(dataDir: string, args: string[], input: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [MANAGER_JS, ...args, '--data-dir', dataDir], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => resolvePromise({ code, out }));
    child.stdin.end(input);
  });
}

/** The dashboard's address from the manager's start lines (manager.json is written before them: the line itself is waited for). */
export async function dashboardUrl(mgr: Proc): Promise<string> {
  return (await waitFor(() => /dashboard\s+(http:\/\/\S+)/.exec(mgr.output()), 10_000, 'the dashboard line'))[1]!;
}

/** A dashboard user added through the CLI (`user add --password-stdin`); throws with its output when refused. */
export async function addUser(dataDir: string, name: string, role: 'admin' | 'viewer', password: string): Promise<void> {
  const r = await cliWithInput(dataDir, ['user', 'add', name, '--role', role, '--password-stdin'], `${password}\n`);
  if (r.code !== 0) throw new Error(`manager user add ${name} exited ${r.code}: ${r.out}`);
}

export async function cliJson<T = any>(dataDir: string, args: string[]): Promise<T> {
  const r = await cli(dataDir, [...args, '--json']);
  if (r.code !== 0) throw new Error(`manager ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/**
 * Longer than the agents' backoff cap, with room for a loaded machine: a wait that equals the cap
 * fails whenever the last retry lands on it (an agent may be anywhere in its backoff).
 */
export const ONLINE_WAIT_MS = BACKOFF_CAP_MS + 15_000;
/** After a manager restart: the agent's next attempt may be a full cap away, then it connects. */
export const BACK_AFTER_RESTART_MS = BACKOFF_CAP_MS + 30_000;

/**
 * Waits until `manager agents` lists an online agent named `name` with metrics. On a timeout the
 * error carries the tail of `procs`' output (the agent's and the manager's), to say why.
 */
export async function waitOnline(dataDir: string, name: string, ms = ONLINE_WAIT_MS, ...procs: Proc[]): Promise<any> {
  try {
    return await waitFor(async () => {
      const list = await cliJson<any[]>(dataDir, ['agents']);
      return list.find((a) => a.name === name && a.online && a.metrics?.memPercent != null);
    }, ms, `agent ${name} online`);
  } catch (err) {
    const tails = procs.map((p) => p.output().split('\n').slice(-15).join('\n'));
    throw new Error([(err as Error).message, ...tails].join('\n--- output:\n'));
  }
}

/** GET on the control API of the manager serving `dataDir` (address and token from its files). */
export async function apiJson<T = any>(dataDir: string, path: string): Promise<T> {
  const info = JSON.parse(readFileSync(join(dataDir, 'manager.json'), 'utf8')) as { api: string };
  const token = readFileSync(join(dataDir, 'api-token'), 'utf8').trim();
  const res = await fetch(`http://${info.api}${path}`, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}
