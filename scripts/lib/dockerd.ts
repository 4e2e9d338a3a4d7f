// A real Docker Engine for the tests and the benchmarks: dockerd as a plain process on a private socket in a temp
// folder (its own data and exec roots, vfs storage, no iptables, no bridge), and an image made
// from busybox-static with `docker import` (no registry).

import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './temp.ts';
import { waitFor } from './wait.ts';

export const IMAGE = 'bb:local';

function onPath(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Why a real dockerd cannot run here (the test is skipped and says so), or undefined. */
export function dockerdMissing(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not root (dockerd needs root)';
  if (!onPath('dockerd') || !onPath('docker')) return 'dockerd or docker not installed (apt-get install docker.io)';
  if (!existsSync('/bin/busybox')) return '/bin/busybox missing (apt-get install busybox-static)';
  return undefined;
}

export interface Dockerd {
  socket: string;
  /** runs the docker CLI against this daemon only; resolves with its stdout */
  docker(args: string[], stdin?: string): Promise<string>;
  pid: number;
  stop(): Promise<void>;
}

export async function startDockerd(): Promise<Dockerd> {
  const dir = tempDir('hw-dockerd-');
  const socket = join(dir, 'docker.sock');
  const proc: ChildProcess = spawn('dockerd', [
    '--data-root', join(dir, 'root'), '--exec-root', join(dir, 'exec'), '--pidfile', join(dir, 'dockerd.pid'), '-H', `unix://${socket}`,
    '--storage-driver', 'vfs', '--iptables=false', '--ip6tables=false', '--bridge=none',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  proc.stdout!.on('data', (d) => (log = (log + d).slice(-4000)));
  proc.stderr!.on('data', (d) => (log = (log + d).slice(-4000)));
  const env = { ...process.env, DOCKER_HOST: `unix://${socket}` };
  const docker = (args: string[], stdin?: string) => new Promise<string>((resolve, reject) => {
    const c = spawn('docker', args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (err += d));
    c.on('error', reject);
    c.on('exit', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`docker ${args.join(' ')}: exit ${code}: ${err.trim()}`))));
    c.stdin.end(stdin ?? '');
  });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  try {
    await waitFor(() => docker(['version', '--format', '{{.Server.Version}}']).then(() => true, () => false), 60_000, 'dockerd up');
  } catch (err) {
    proc.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\n${log}`);
  }
  return {
    socket, docker, pid: proc.pid!,
    stop: async () => {
      await docker(['rm', '-f', ...(await docker(['ps', '-aq'])).split('\n').filter(Boolean)]).catch(() => {});
      proc.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000).unref())]);
      if (proc.exitCode === null) proc.kill('SIGKILL');
      // Its data root was mounted while it ran: removed here, once it is gone.
      rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
    },
  };
}

/** A root file system of busybox and a few links to it, imported as IMAGE. */
export async function importBusybox(d: Dockerd): Promise<void> {
  const fs = tempDir('hw-rootfs-');
  mkdirSync(join(fs, 'bin'));
  copyFileSync('/bin/busybox', join(fs, 'bin', 'busybox'));
  for (const l of ['sh', 'sleep', 'yes', 'cat', 'echo', 'true', 'false']) symlinkSync('busybox', join(fs, 'bin', l));
  const tar = execFileSync('tar', ['-C', fs, '-c', '.'], { maxBuffer: 256 * 1024 * 1024 });
  await new Promise<void>((resolve, reject) => {
    const c = spawn('docker', ['import', '-', IMAGE], { env: { ...process.env, DOCKER_HOST: `unix://${d.socket}` }, stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    c.stderr.on('data', (x) => (err += x));
    c.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`docker import: ${err}`))));
    c.stdin.end(tar);
  });
}
