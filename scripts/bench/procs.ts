// Starting the real programs for the benchmarks (the dev bundles in .build/, as `npm run manager`
// does), on loopback with port 0, and talking to the manager's control API.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { Agent as HttpAgent, request } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanTempDirs, removeAtCleanup, tempDir as makeTempDir } from '../lib/temp.ts';
import { Fatal, sleep, waitFor as waitUntil } from '../lib/wait.ts';

const here = dirname(fileURLToPath(import.meta.url));
/** temporary folders and files to remove at the end */
/** .build/ (this file runs from .build/scripts/bench/) */
export const BUILD = resolve(here, '..', '..');
export const ROOT = resolve(BUILD, '..');
export let MANAGER_JS = join(BUILD, 'manager.mjs');
export let AGENT_JS = join(BUILD, 'agent.mjs');
export let SIM_JS = join(BUILD, 'scripts', 'bench', 'sim.run.mjs');

/**
 * Copies the bundles this run starts (manager, agent, simulator) to a folder of its own under
 * .build/, so a rebuild of .build/ during the run (a test run in the same checkout) cannot change
 * the code under measurement halfway. Packages still resolve from the checkout's node_modules.
 */
export function snapshotBuild(): string {
  const dir = join(BUILD, `bench-run-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const [from, name] of [[MANAGER_JS, 'manager.mjs'], [AGENT_JS, 'agent.mjs'], [SIM_JS, 'sim.run.mjs']] as const) copyFileSync(from, join(dir, name));
  MANAGER_JS = join(dir, 'manager.mjs');
  AGENT_JS = join(dir, 'agent.mjs');
  SIM_JS = join(dir, 'sim.run.mjs');
  removeAtCleanup(dir);
  return dir;
}

/** File descriptors for the processes we start: the shell's 20,000 is short of 10,000 agents. */
export const NOFILE = 65536;

export interface Proc {
  child: ChildProcess;
  pid: number;
  /** the last 64 KiB of stdout and stderr */
  output: () => string;
  exited: Promise<number | null>;
  /** SIGTERM (or `sig`), then SIGKILL after `graceMs` */
  kill: (sig?: NodeJS.Signals, graceMs?: number) => Promise<number | null>;
  startedAt: number;
}

const running = new Set<Proc>();
const KEEP = 64 * 1024;

/** How the open-file limit is raised for our processes, probed once. */
let nofilePlan: { how: 'prlimit' | 'none'; limit: number; note: string } | undefined;

/**
 * The open-file limit our processes get when asking for `want`: raised with prlimit when this
 * process may (root with CAP_SYS_RESOURCE), else the hard limit as it is.
 */
export function nofileLimit(want = NOFILE): { how: 'prlimit' | 'none'; limit: number; note: string } {
  if (nofilePlan) return nofilePlan;
  const sh = (cmd: string) => Number(spawnSync('bash', ['-c', cmd], { encoding: 'utf8' }).stdout.trim()) || 0;
  const soft = sh('ulimit -Sn');
  const hard = sh('ulimit -Hn');
  if (spawnSync('prlimit', [`--nofile=${want}:${want}`, '--', 'true']).status === 0) {
    nofilePlan = { how: 'prlimit', limit: want, note: `raised to ${want} with prlimit (the shell's was ${soft})` };
  } else if (hard > soft && spawnSync('prlimit', [`--nofile=${hard}:${hard}`, '--', 'true']).status === 0) {
    nofilePlan = { how: 'prlimit', limit: hard, note: `${hard}: the hard limit, which cannot be raised here (no CAP_SYS_RESOURCE); soft raised to it` };
  } else {
    nofilePlan = { how: 'none', limit: soft, note: `${soft}: cannot be raised here (no CAP_SYS_RESOURCE, hard limit ${hard})` };
  }
  return nofilePlan;
}

/** Spawns a program; with `nofile` its open-file limit is raised first where that is allowed. */
export function spawnProc(cmd: string, args: string[], opts: { nofile?: number; env?: NodeJS.ProcessEnv; cwd?: string; onLine?: (line: string) => void } = {}): Proc {
  let file = cmd;
  let argv = args;
  if (opts.nofile) {
    const plan = nofileLimit(opts.nofile);
    // prlimit replaces itself with the program (exec): the pid is the program's.
    if (plan.how === 'prlimit') [file, argv] = ['prlimit', [`--nofile=${plan.limit}:${plan.limit}`, '--', cmd, ...args]];
  }
  const child = spawn(file, argv, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let partial = '';
  const take = (d: Buffer) => {
    const s = d.toString();
    out = (out + s).slice(-KEEP);
    if (opts.onLine) {
      const lines = (partial + s).split('\n');
      partial = lines.pop()!.slice(-KEEP);
      for (const l of lines) opts.onLine(l);
    }
  };
  child.stdout!.on('data', take);
  child.stderr!.on('data', (d: Buffer) => { out = (out + d.toString()).slice(-KEEP); });
  child.stdin!.on('error', () => {});
  const exited = new Promise<number | null>((r) => child.on('exit', (code, sig) => r(code ?? (sig ? -1 : null))));
  const p: Proc = {
    child, pid: child.pid ?? -1, output: () => out, exited, startedAt: Date.now(),
    kill: async (sig = 'SIGTERM', graceMs = 10_000) => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(sig);
        const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(t);
      }
      running.delete(p);
      return exited;
    },
  };
  running.add(p);
  void exited.then(() => running.delete(p));
  return p;
}

export function spawnNode(file: string, args: string[], opts: Parameters<typeof spawnProc>[2] & { nodeArgs?: string[] } = {}): Proc {
  return spawnProc(process.execPath, [...(opts.nodeArgs ?? []), file, ...args], opts);
}

/** Kills whatever is still running (the driver calls this when a scenario ends). */
export async function killAll(): Promise<void> {
  await Promise.all([...running].map((p) => p.kill('SIGKILL', 1000)));
}

export const tempDir = (prefix = 'hw-bench-'): string => makeTempDir(prefix);
export { cleanTempDirs };

export { Fatal, sleep };

/** Polls `check` every 100 ms until it returns a truthy value; throws after `ms`, or at once on Fatal. */
export const waitFor = <T>(check: () => T | Promise<T>, ms: number, what: string, everyMs = 100): Promise<NonNullable<T>> =>
  waitUntil(check, ms, what, everyMs);

// ---- the control API -----------------------------------------------------------------------------

export interface ApiResult {
  status: number;
  body: string;
  ms: number;
}

export class Api {
  private readonly agent = new HttpAgent({ keepAlive: true, maxSockets: 16 });
  constructor(readonly port: number, readonly token: string) {}

  call(method: string, path: string, body?: unknown, timeoutMs = 60_000): Promise<ApiResult> {
    const t0 = performance.now();
    const text = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolvePromise, reject) => {
      const req = request({
        host: '127.0.0.1', port: this.port, path, method, agent: this.agent,
        headers: { authorization: `Bearer ${this.token}`, ...(text ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } : {}) },
      }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString('utf8'), ms: performance.now() - t0 }));
        res.on('error', reject);
      });
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(text);
    });
  }

  async json<T = any>(method: string, path: string, body?: unknown): Promise<T> {
    const r = await this.call(method, path, body);
    if (r.status !== 200) throw new Error(`${method} ${path}: HTTP ${r.status} ${r.body.slice(0, 200)}`);
    return JSON.parse(r.body) as T;
  }

  close(): void {
    this.agent.destroy();
  }
}

// ---- the manager and agents ----------------------------------------------------------------------

export interface ManagerProc extends Proc {
  dataDir: string;
  tcpPort: number;
  udpPort: number;
  api: Api;
  enrollToken: string;
}

/** Starts `manager` (auto-accept, no console, ports 0) and waits for its manager.json. */
export async function startManager(o: { extra?: string[]; nofile?: number; nodeArgs?: string[]; dataDir?: string; exe?: string } = {}): Promise<ManagerProc> {
  const dataDir = o.dataDir ?? tempDir('hw-bench-mgr-');
  const args = ['--host', '127.0.0.1', '--port', '0', '--udp-port', '0', '--api', '127.0.0.1:0', '--data-dir', dataDir, '--auto-accept', '--no-console', ...(o.extra ?? [])];
  const opts = { ...(o.nofile ? { nofile: o.nofile } : {}), ...(o.nodeArgs ? { nodeArgs: o.nodeArgs } : {}) };
  // With `exe`, a built single-file executable instead of the dev bundle.
  const p = o.exe ? spawnProc(o.exe, args, opts) : spawnNode(MANAGER_JS, args, opts);
  const info = join(dataDir, 'manager.json');
  const m = await waitFor(() => {
    if (p.child.exitCode !== null) throw new Fatal(`manager exited: ${p.output()}`);
    if (!existsSync(info)) return null;
    const v = JSON.parse(readFileSync(info, 'utf8'));
    return v.pid === p.pid ? v : null;
  }, 20_000, 'the manager to write manager.json');
  const port = (hp: string) => Number(hp.slice(hp.lastIndexOf(':') + 1));
  const token = readFileSync(join(dataDir, 'api-token'), 'utf8').trim();
  const enrollToken = readFileSync(join(dataDir, 'enroll-token'), 'utf8').trim();
  return { ...p, dataDir, tcpPort: port(m.tcp), udpPort: port(m.udp), api: new Api(port(m.api), token), enrollToken };
}

/** Starts a real `agent` process reporting to `mgr`. */
export function startAgentProc(mgr: ManagerProc, name: string, extra: string[] = [], o: { nodeArgs?: string[]; exe?: string; stateDir?: string; env?: NodeJS.ProcessEnv } = {}): Proc & { stateDir: string } {
  const stateDir = o.stateDir ?? tempDir('hw-bench-agent-');
  const args = ['--manager', `127.0.0.1:${mgr.tcpPort}`, '--udp-port', String(mgr.udpPort), '--name', name, '--state-dir', stateDir, ...extra];
  const env = o.env ? { env: o.env } : {};
  const p = o.exe ? spawnProc(o.exe, args, env) : spawnNode(AGENT_JS, args, { ...env, ...(o.nodeArgs ? { nodeArgs: o.nodeArgs } : {}) });
  return { ...p, stateDir };
}

/**
 * Starts an agent as it runs after its first start: once to make its key and pin the manager,
 * stopped, then again with the same state folder (the first start alone loads the certificate
 * library, which then stays in memory).
 */
export async function startSettledAgent(mgr: ManagerProc, name: string, extra: string[] = [], o: { nodeArgs?: string[]; exe?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Proc & { stateDir: string }> {
  const first = startAgentProc(mgr, name, extra, { ...(o.exe ? { exe: o.exe } : {}), ...(o.env ? { env: o.env } : {}) });
  await waitOnline(mgr, name);
  await first.kill('SIGTERM');
  await waitFor(async () => {
    const r = await mgr.api.call('GET', `/api/agents/${encodeURIComponent(name)}`);
    return r.status === 200 && !JSON.parse(r.body).online;
  }, 10_000, `agent ${name} offline after its first start`, 100);
  const p = startAgentProc(mgr, name, extra, { ...o, stateDir: first.stateDir });
  await waitOnline(mgr, name);
  return p;
}

/** Waits until the manager lists `name` online with metrics. */
export async function waitOnline(mgr: ManagerProc, name: string, ms = 20_000): Promise<void> {
  await waitFor(async () => {
    const r = await mgr.api.call('GET', `/api/agents/${encodeURIComponent(name)}`);
    if (r.status !== 200) return false;
    const a = JSON.parse(r.body);
    return a.online && a.metrics?.memPercent != null;
  }, ms, `agent ${name} online`, 200);
}

// ---- small statistics -----------------------------------------------------------------------------

/** The q-quantile (0..1) of `xs`, nearest rank. */
export function quantile(xs: number[], q: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

export const fmt = {
  pct: (v: number, digits = 2) => `${v.toFixed(digits)}%`,
  mib: (kib: number) => `${(kib / 1024).toFixed(1)} MiB`,
  ms: (v: number) => (v < 10 ? `${v.toFixed(2)} ms` : `${v.toFixed(1)} ms`),
  int: (v: number) => Math.round(v).toLocaleString('en-US'),
};
