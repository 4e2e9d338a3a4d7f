// The host the agent-cost scenario measures on: a few hundred sleeping processes (children of one
// shell, in a process group of their own, killed together) and running containers on a private
// dockerd (scripts/lib/dockerd.ts), plus Glances, the per-process monitor, as a peer.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dockerdMissing, importBusybox, IMAGE, startDockerd, type Dockerd } from '../lib/dockerd.ts';
import { GLANCES } from './peers.ts';
import { spawnProc, waitFor, type Proc } from './procs.ts';

/** glances in its standalone mode without the curses screen: every plugin, the process list included, updated each second. */
export const GLANCES_ARGS = ['-q', '-t', '1'];

/** Processes on the host now (numeric entries of /proc). */
export function hostProcesses(): number {
  return readdirSync('/proc').filter((n) => /^\d+$/.test(n)).length;
}

export interface Sleepers {
  count: number;
  stop: () => void;
}

/** `n` sleeping processes, children of one shell in its own process group; stop() kills the group. */
export async function startSleepers(n: number): Promise<Sleepers> {
  const sh: ChildProcess = spawn('sh', ['-c', `i=0; while [ $i -lt ${n} ]; do sleep 86400 & i=$((i+1)); done; wait`], { detached: true, stdio: 'ignore' });
  const pgid = sh.pid!;
  const stop = () => {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  process.once('exit', stop);
  const children = () => spawnSync('pgrep', ['-c', '-g', String(pgid)], { encoding: 'utf8' }).stdout.trim();
  await waitFor(() => Number(children()) > n, 60_000, `${n} sleeping processes`, 200);
  return { count: n, stop };
}

export interface Containers {
  dockerd: Dockerd;
  running: number;
  stop: () => Promise<void>;
}

/** Why containers cannot run here (then the scenario says so and goes on without), or undefined. */
export const containersMissing = (): string | undefined => dockerdMissing();

/** A private dockerd with `n` running containers (busybox `sleep`, no network). */
export async function startContainers(n: number): Promise<Containers> {
  const d = await startDockerd();
  try {
    await importBusybox(d);
    const BATCH = 5;
    for (let i = 0; i < n; i += BATCH) {
      await Promise.all(Array.from({ length: Math.min(BATCH, n - i) }, (_, k) =>
        d.docker(['run', '-d', '--name', `load-${i + k}`, '--network', 'none', IMAGE, 'sleep', '86400'])));
    }
    const running = (await d.docker(['ps', '-q'])).split('\n').filter(Boolean).length;
    return { dockerd: d, running, stop: () => d.stop() };
  } catch (err) {
    await d.stop();
    throw err;
  }
}

/** Glances, or why it is not measured (it is not installed by the bench: `apt-get install glances`). */
export function startGlances(): Proc | string {
  if (!existsSync(GLANCES)) return `Glances not installed (\`apt-get install glances\`; a full run installs it, quick mode does not): not measured`;
  // Started without DOCKER_HOST: the private engine is not at the default socket, so it reads no containers.
  return spawnProc(GLANCES, GLANCES_ARGS);
}
