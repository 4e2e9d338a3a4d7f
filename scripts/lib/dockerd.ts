// A real Docker Engine for the tests and the benchmarks: dockerd as a plain process on a private socket in a temp
// folder (its own data and exec roots, vfs storage, no iptables, no bridge), and an image made
// from busybox-static with `docker import` (no registry). What Podman shares is in engine-daemon.ts.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './temp.ts';
import { busyboxTar, engineCli, IMAGE, onPath, startEngineDaemon } from './engine-daemon.ts';

export { IMAGE };

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
  docker(args: string[], stdin?: string | Buffer): Promise<string>;
  pid: number;
  stop(): Promise<void>;
}

export async function startDockerd(): Promise<Dockerd> {
  const dir = tempDir('hw-dockerd-');
  const socket = join(dir, 'docker.sock');
  const docker = engineCli('docker', [], { ...process.env, DOCKER_HOST: `unix://${socket}` });
  const d = await startEngineDaemon({
    dir, cmd: 'dockerd', cli: docker, upArgs: ['version', '--format', '{{.Server.Version}}'],
    args: [
      '--data-root', join(dir, 'root'), '--exec-root', join(dir, 'exec'), '--pidfile', join(dir, 'dockerd.pid'), '-H', `unix://${socket}`,
      '--storage-driver', 'vfs', '--iptables=false', '--ip6tables=false', '--bridge=none',
    ],
    removeAll: async (cli) => cli(['rm', '-f', ...(await cli(['ps', '-aq'])).split('\n').filter(Boolean)]),
  });
  return { socket, docker, pid: d.pid, stop: d.stop };
}

/** A root file system of busybox and a few links to it, imported as IMAGE. */
export async function importBusybox(d: Dockerd): Promise<void> {
  await d.docker(['import', '-', IMAGE], busyboxTar());
}
