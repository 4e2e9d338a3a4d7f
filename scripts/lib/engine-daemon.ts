// What a container engine run as a plain process for the tests and the benchmarks shares, Docker's
// or Podman's: its CLI pointed at its private socket, the daemon started and waited for, stopped
// with its containers and its temp folder, and the busybox image's root file system.

import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './temp.ts';
import { waitFor } from './wait.ts';

/** The image every engine test runs: busybox-static and a few links to it, imported. */
export const IMAGE = 'bb:local';

export function onPath(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Runs the engine's CLI against one daemon only; resolves with its stdout (trimmed). */
export type EngineCli = (args: string[], stdin?: string | Buffer) => Promise<string>;

/** `cmd ...base args` with `env`: the CLI of the daemon at one socket. */
export function engineCli(cmd: string, base: string[], env: NodeJS.ProcessEnv): EngineCli {
  return (args, stdin) => new Promise<string>((resolve, reject) => {
    const c = spawn(cmd, [...base, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (err += d));
    c.on('error', reject);
    c.on('exit', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`${cmd} ${args.join(' ')}: exit ${code}: ${err.trim()}`))));
    c.stdin.end(stdin ?? '');
  });
}

export interface EngineDaemonOptions {
  /** the daemon's temp folder: removed once it has stopped */
  dir: string;
  cmd: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cli: EngineCli;
  /** CLI arguments that succeed once the daemon answers */
  upArgs: string[];
  /** removes every container (before the daemon is stopped) */
  removeAll: (cli: EngineCli) => Promise<unknown>;
  upWithinMs?: number;
}

export interface EngineDaemon {
  pid: number;
  stop(): Promise<void>;
}

/** Starts the daemon and waits until its CLI gets an answer; on failure, kills it and throws with its log. */
export async function startEngineDaemon(o: EngineDaemonOptions): Promise<EngineDaemon> {
  const proc: ChildProcess = spawn(o.cmd, o.args, { env: o.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  proc.stdout!.on('data', (d) => (log = (log + d).slice(-4000)));
  proc.stderr!.on('data', (d) => (log = (log + d).slice(-4000)));
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  try {
    await waitFor(() => o.cli(o.upArgs).then(() => true, () => false), o.upWithinMs ?? 60_000, `${o.cmd} up`);
  } catch (err) {
    proc.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\n${log}`);
  }
  return {
    pid: proc.pid!,
    stop: async () => {
      await o.removeAll(o.cli).catch(() => {});
      proc.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000).unref())]);
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      // What the engine started outlives it a little (Podman's conmon runs `podman container
      // cleanup` once its container is gone, writing in the data root): waited for by the folder
      // in their arguments.
      await waitFor(() => !runningWith(o.dir), 20_000, `the processes of ${o.dir} gone`).catch(() => {});
      // Its data root may have been mounted while it ran: removed here, once it is gone.
      rmSync(o.dir, { recursive: true, force: true, maxRetries: 5 });
    },
  };
}

/** Whether a process has `dir` in its command line (Linux: /proc/<pid>/cmdline). */
function runningWith(dir: string): boolean {
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes(dir)) return true;
    } catch {
      // gone while listing
    }
  }
  return false;
}

/** A tar of a root file system: /bin/busybox and a few links to it (the image IMAGE is made from it). */
export function busyboxTar(): Buffer {
  const fs = tempDir('hw-rootfs-');
  mkdirSync(join(fs, 'bin'));
  copyFileSync('/bin/busybox', join(fs, 'bin', 'busybox'));
  for (const l of ['sh', 'sleep', 'yes', 'cat', 'echo', 'true', 'false']) symlinkSync('busybox', join(fs, 'bin', l));
  return execFileSync('tar', ['-C', fs, '-c', '.'], { maxBuffer: 256 * 1024 * 1024 });
}
