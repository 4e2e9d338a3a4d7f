// A container's usage read from its cgroup files (v1 and v2), as cAdvisor does, found through the
// cgroup of its main process (/proc/<pid>/cgroup): works for Docker and Podman, cgroupfs and systemd
// drivers alike, and costs the engine nothing (never one stats stream per container).

import { readFile } from 'node:fs/promises';
import { totalmem } from 'node:os';

export interface CgroupPaths {
  /** where cgroup file systems are mounted (default /sys/fs/cgroup) */
  root: string;
  /** the proc file system (default /proc) */
  proc: string;
}

export interface Usage {
  /** CPU time used since the container started, in ns */
  cpuNs: number | null;
  /** memory in use without the page cache that can be dropped, as `docker stats` counts it */
  memUsedBytes: number | null;
  /** the container's limit, or the host's memory when it has none (as `docker stats`) */
  memLimitBytes: number | null;
  blockReadBytes: number | null;
  blockWriteBytes: number | null;
  netRxBytes: number | null;
  netTxBytes: number | null;
  /** why a value is null, by field */
  reasons: Record<string, string>;
}

async function text(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return null;
  }
}

/** key value lines (memory.stat, cpu.stat) */
function keyed(t: string | null): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of t?.split('\n') ?? []) {
    const [k, v] = line.split(' ');
    if (k && v !== undefined && /^\d+$/.test(v)) m.set(k, Number(v));
  }
  return m;
}

function int(t: string | null): number | null {
  const s = t?.trim();
  return s && /^\d+$/.test(s) ? Number(s) : null;
}

/** The v2 path (0::/...) and the v1 controllers' paths of a process. */
export function parseProcCgroup(t: string): { v2?: string; v1: Map<string, { mount: string; path: string }> } {
  const v1 = new Map<string, { mount: string; path: string }>();
  let v2: string | undefined;
  for (const line of t.split('\n')) {
    const m = /^\d+:([^:]*):(\/.*)$/.exec(line);
    if (!m) continue;
    if (m[1] === '') v2 = m[2]!;
    else for (const c of m[1]!.split(',')) v1.set(c, { mount: m[1]!, path: m[2]! });
  }
  return { ...(v2 !== undefined ? { v2 } : {}), v1 };
}

/** Reads the usage of the container whose main process is `pid` (running containers only). */
export async function readUsage(pid: number, p: CgroupPaths, hostMem = totalmem()): Promise<Usage> {
  const u: Usage = { cpuNs: null, memUsedBytes: null, memLimitBytes: null, blockReadBytes: null, blockWriteBytes: null, netRxBytes: null, netTxBytes: null, reasons: {} };
  const own = await text(`${p.proc}/${pid}/cgroup`);
  if (own === null) {
    for (const k of ['cpuNs', 'memUsedBytes', 'memLimitBytes', 'blockReadBytes', 'blockWriteBytes']) u.reasons[k] = `cannot read ${p.proc}/${pid}/cgroup (the container's process is gone, or another PID namespace)`;
  } else {
    const cg = parseProcCgroup(own);
    // A process under cgroup v1 also has a 0:: line (empty, or the systemd one): v1 wins when its
    // controllers are listed.
    if (cg.v1.has('cpuacct') || cg.v1.has('memory')) await readV1(cg.v1, p.root, u, hostMem);
    else if (cg.v2 !== undefined) await readV2(`${p.root}${cg.v2 === '/' ? '' : cg.v2}`, u, hostMem);
  }
  await readNet(pid, p.proc, u);
  for (const k of ['cpuNs', 'memUsedBytes', 'memLimitBytes', 'blockReadBytes', 'blockWriteBytes', 'netRxBytes', 'netTxBytes'] as const) {
    if (u[k] === null) u.reasons[k] ??= 'not exposed by this host\'s cgroup files';
  }
  return u;
}

async function firstDir(root: string, c: { mount: string; path: string }, name: string): Promise<string> {
  // The mount is named by its controllers (cpu,cpuacct) on most systems, with links by each name.
  const joined = `${root}/${c.mount}${c.path}`;
  return (await text(`${joined}/cgroup.procs`)) !== null ? joined : `${root}/${name}${c.path}`;
}

async function readV1(v1: Map<string, { mount: string; path: string }>, root: string, u: Usage, hostMem: number): Promise<void> {
  const cpu = v1.get('cpuacct');
  if (cpu) u.cpuNs = int(await text(`${await firstDir(root, cpu, 'cpuacct')}/cpuacct.usage`));
  const mem = v1.get('memory');
  if (mem) {
    const dir = await firstDir(root, mem, 'memory');
    const usage = int(await text(`${dir}/memory.usage_in_bytes`));
    const inactive = keyed(await text(`${dir}/memory.stat`)).get('total_inactive_file') ?? 0;
    u.memUsedBytes = usage === null ? null : usage - (inactive < usage ? inactive : 0);
    const limit = int(await text(`${dir}/memory.limit_in_bytes`));
    u.memLimitBytes = limit === null ? null : Math.min(limit, hostMem);
  }
  const blk = v1.get('blkio');
  if (blk) {
    const t = await text(`${await firstDir(root, blk, 'blkio')}/blkio.throttle.io_service_bytes`);
    if (t !== null) {
      let r = 0;
      let w = 0;
      for (const line of t.split('\n')) {
        const [, op, v] = line.split(' ');
        if (op === 'Read') r += Number(v) || 0;
        else if (op === 'Write') w += Number(v) || 0;
      }
      u.blockReadBytes = r;
      u.blockWriteBytes = w;
    }
  }
}

async function readV2(dir: string, u: Usage, hostMem: number): Promise<void> {
  const usec = keyed(await text(`${dir}/cpu.stat`)).get('usage_usec');
  u.cpuNs = usec === undefined ? null : usec * 1000;
  const usage = int(await text(`${dir}/memory.current`));
  const inactive = keyed(await text(`${dir}/memory.stat`)).get('inactive_file') ?? 0;
  u.memUsedBytes = usage === null ? null : usage - (inactive < usage ? inactive : 0);
  const max = (await text(`${dir}/memory.max`))?.trim();
  u.memLimitBytes = max === undefined ? null : max === 'max' ? hostMem : int(max) === null ? null : Math.min(int(max)!, hostMem);
  const io = await text(`${dir}/io.stat`);
  if (io !== null) {
    let r = 0;
    let w = 0;
    for (const m of io.matchAll(/rbytes=(\d+) wbytes=(\d+)/g)) {
      r += Number(m[1]);
      w += Number(m[2]);
    }
    u.blockReadBytes = r;
    u.blockWriteBytes = w;
  }
}

/** The container's network namespace, seen through its process: every interface but loopback. */
async function readNet(pid: number, proc: string, u: Usage): Promise<void> {
  const t = await text(`${proc}/${pid}/net/dev`);
  if (t === null) {
    u.reasons.netRxBytes = u.reasons.netTxBytes = `cannot read ${proc}/${pid}/net/dev`;
    return;
  }
  let rx = 0;
  let tx = 0;
  for (const line of t.split('\n').slice(2)) {
    const m = /^\s*([^:]+):\s*(.*)$/.exec(line);
    if (!m || m[1] === 'lo') continue;
    const f = m[2]!.trim().split(/\s+/);
    rx += Number(f[0]) || 0;
    tx += Number(f[8]) || 0;
  }
  u.netRxBytes = rx;
  u.netTxBytes = tx;
}
