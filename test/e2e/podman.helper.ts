// A real Podman for the tests: a rootful `podman system service` as a plain process (no systemd) on
// a private socket, everything in a temp folder (root, runroot, tmpdir, network config, volumes;
// vfs storage, cgroupfs, events in a file), and the busybox image made with `podman import` (no
// registry). What it shares with dockerd is in scripts/lib/engine-daemon.ts.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../harness.helper.ts';
import { busyboxTar, engineCli, IMAGE, onPath, startEngineDaemon, type EngineCli } from '../../scripts/lib/engine-daemon.ts';

/** Podman names an imported image without a registry as localhost's. */
export const PODMAN_IMAGE = `localhost/${IMAGE}`;

/** CI installs podman (.ci/run): there a missing podman fails the test instead of skipping it. */
export const PODMAN_REQUIRED = !!process.env.CI || process.env.HOSTWATCH_REQUIRE_EXE === '1';

/** Why a real Podman cannot run here, or undefined. */
export function podmanMissing(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not root (the rootful Podman service is tested)';
  if (!onPath('podman')) return 'podman not installed (apt-get install podman)';
  if (!existsSync('/bin/busybox')) return '/bin/busybox missing (apt-get install busybox-static)';
  return undefined;
}

export interface Podman {
  socket: string;
  /** the podman client against this service only (`podman --url unix://<socket> ...`); resolves with its stdout */
  podman: EngineCli;
  /** the service's version (`podman version`, server side) */
  version: string;
  /** the OCI runtime it runs containers with (crun or runc) and its version's first line */
  runtime: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * Rootful Podman gives a container RLIMIT_NOFILE and RLIMIT_NPROC of 1048576 unless told, and a
 * host (or a container) whose hard limits are lower refuses that ("error setting rlimit type 7:
 * operation not permitted"); the service also lowers its own RLIMIT_NPROC (to 32768 here), so a
 * container cannot have this process's either. Containers get this process's open files and at
 * most NPROC_MAX processes of root's (a count over the whole host: ample for the tests).
 */
const NPROC_MAX = 4096;
function ulimitsConf(): string {
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const hard = (label: string) => {
    const v = new RegExp(`^${label}\\s+\\S+\\s+(\\S+)`, 'm').exec(limits)?.[1];
    return v === undefined || v === 'unlimited' ? Infinity : Number(v);
  };
  const nofile = Math.min(hard('Max open files'), 1_048_576);
  const nproc = Math.min(hard('Max processes'), NPROC_MAX);
  return `[containers]\ndefault_ulimits = ["nofile=${nofile}:${nofile}", "nproc=${nproc}:${nproc}"]\n`;
}

/**
 * runc where it is installed (docker.io brings it): crun, Podman's first choice, refuses a host
 * with cgroup v1 controllers and a cgroup v2 line ("cgroups in hybrid mode not supported"), as
 * in some containers and VMs; runc runs there and everywhere else.
 */
function runtimeFlags(): string[] {
  return onPath('runc') ? ['--runtime', 'runc'] : [];
}

export async function startPodman(): Promise<Podman> {
  const dir = tempDir('hw-podman-');
  const socket = join(dir, 'podman.sock');
  writeFileSync(join(dir, 'containers.conf'), ulimitsConf());
  const podman = engineCli('podman', ['--url', `unix://${socket}`], process.env);
  const d = await startEngineDaemon({
    dir, cmd: 'podman', cli: podman, upArgs: ['version', '--format', '{{.Server.Version}}'],
    env: { ...process.env, CONTAINERS_CONF: join(dir, 'containers.conf') },
    args: [
      '--root', join(dir, 'root'), '--runroot', join(dir, 'run'), '--tmpdir', join(dir, 'tmp'),
      '--network-config-dir', join(dir, 'net'), '--volumepath', join(dir, 'volumes'),
      '--storage-driver', 'vfs', '--cgroup-manager', 'cgroupfs', '--events-backend', 'file', ...runtimeFlags(),
      'system', 'service', '--time', '0', `unix://${socket}`,
    ],
    removeAll: (cli) => cli(['rm', '--all', '--force', '--time', '0']),
  });
  const version = await podman(['version', '--format', '{{.Server.Version}}']);
  const runtime = await podman(['info', '--format', '{{.Host.OCIRuntime.Name}} {{.Host.OCIRuntime.Version}}']);
  return { socket, podman, version, runtime: runtime.split('\n')[0]!, pid: d.pid, stop: d.stop };
}

/** The busybox root file system imported as PODMAN_IMAGE. */
export async function importBusyboxPodman(p: Podman): Promise<void> {
  await p.podman(['import', '-', IMAGE], busyboxTar());
}
