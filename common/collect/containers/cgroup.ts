// A container's usage read from its cgroup files (v1 and v2), as cAdvisor does, found through the
// cgroup of its main process (/proc/<pid>/cgroup): works for Docker and Podman, cgroupfs and systemd
// drivers alike, and costs the engine nothing (never one stats stream per container). The files are
// read synchronously into one reused buffer (each is a few hundred bytes, made by the kernel on
// read), and where a container's cgroup folders are is kept between readings.

import { closeSync, existsSync, openSync, readSync } from 'node:fs';
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

/** Largest cgroup or net file read (memory.stat is about 1.5 KiB; io.stat a line a disk). */
const FILE_MAX = 64 * 1024;
const buf = Buffer.allocUnsafeSlow(FILE_MAX);

/** The file's text (cut at FILE_MAX), or null when it cannot be read. */
function text(path: string): string | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return null;
  }
  try {
    let len = 0;
    for (;;) {
      const n = readSync(fd, buf, len, FILE_MAX - len, len);
      if (n === 0 || (len += n) >= FILE_MAX) break;
    }
    return buf.toString('latin1', 0, len);
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/** Where a container's usage files are, found once from /proc/<pid>/cgroup. */
export type CgroupDirs = { v2: string } | { cpu?: string; mem?: string; blk?: string };
/** Cache of CgroupDirs, by a key the caller chooses (the container's id and pid). */
export type CgroupDirCache = Map<string, CgroupDirs>;

/** The value of one `key value` line (memory.stat, cpu.stat) without splitting the rest, or null. */
function statValue(t: string | null, key: string): number | null {
  if (t === null) return null;
  let at = t.startsWith(`${key} `) ? 0 : t.indexOf(`\n${key} `);
  if (at < 0) return null;
  if (at > 0) at++;
  const end = t.indexOf('\n', at);
  const v = t.slice(at + key.length + 1, end < 0 ? undefined : end);
  return /^\d+$/.test(v) ? Number(v) : null;
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

/** The folders of a process's cgroups, or null when /proc/<pid>/cgroup cannot be read. */
function findDirs(pid: number, p: CgroupPaths): CgroupDirs | null {
  const own = text(`${p.proc}/${pid}/cgroup`);
  if (own === null) return null;
  const cg = parseProcCgroup(own);
  // A process under cgroup v1 also has a 0:: line (empty, or the systemd one): v1 wins when its
  // controllers are listed.
  if (cg.v1.has('cpuacct') || cg.v1.has('memory')) {
    const at = (name: string) => {
      const c = cg.v1.get(name);
      return c ? firstDir(p.root, c, name) : undefined;
    };
    const d: { cpu?: string; mem?: string; blk?: string } = {};
    const cpu = at('cpuacct');
    const mem = at('memory');
    const blk = at('blkio');
    if (cpu) d.cpu = cpu;
    if (mem) d.mem = mem;
    if (blk) d.blk = blk;
    return d;
  }
  return cg.v2 !== undefined ? { v2: `${p.root}${cg.v2 === '/' ? '' : cg.v2}` } : {};
}

/** Caches hold at most this many containers' folders (the caller also drops the ones gone). */
const DIR_CACHE_MAX = 4096;

export interface ReadUsageOptions {
  /** the host's memory, the limit of a container without one (default os.totalmem()) */
  hostMem?: number;
  /** where the container's cgroup folders are kept, found once per `key` (the caller's container id and pid) */
  cache?: CgroupDirCache;
  key?: string;
  /** only what a live report carries: CPU time and memory in use (no limit, block or network I/O) */
  reportOnly?: boolean;
}

/** Reads the usage of the container whose main process is `pid` (running containers only). */
export async function readUsage(pid: number, p: CgroupPaths, o: ReadUsageOptions = {}): Promise<Usage> {
  const hostMem = o.hostMem ?? totalmem();
  const cache = o.cache;
  const key = o.key ?? String(pid);
  const all = !o.reportOnly;
  const u: Usage = { cpuNs: null, memUsedBytes: null, memLimitBytes: null, blockReadBytes: null, blockWriteBytes: null, netRxBytes: null, netTxBytes: null, reasons: {} };
  let dirs = cache?.get(key) ?? null;
  if (!dirs) {
    dirs = findDirs(pid, p);
    if (dirs && cache) {
      if (cache.size >= DIR_CACHE_MAX) cache.clear();
      cache.set(key, dirs);
    }
  }
  if (dirs === null) {
    for (const k of ['cpuNs', 'memUsedBytes', 'memLimitBytes', 'blockReadBytes', 'blockWriteBytes']) u.reasons[k] = `cannot read ${p.proc}/${pid}/cgroup (the container's process is gone, or another PID namespace)`;
  } else if ('v2' in dirs) readV2(dirs.v2, u, hostMem, all);
  else readV1(dirs, u, hostMem, all);
  if (all) readNet(pid, p.proc, u);
  else {
    const skipped = 'not read for a live report (it carries CPU and memory in use)';
    for (const k of ['memLimitBytes', 'blockReadBytes', 'blockWriteBytes', 'netRxBytes', 'netTxBytes'] as const) if (u[k] === null) u.reasons[k] = skipped;
  }
  for (const k of ['cpuNs', 'memUsedBytes', 'memLimitBytes', 'blockReadBytes', 'blockWriteBytes', 'netRxBytes', 'netTxBytes'] as const) {
    if (u[k] === null) u.reasons[k] ??= 'not exposed by this host\'s cgroup files';
  }
  return u;
}

function firstDir(root: string, c: { mount: string; path: string }, name: string): string {
  // The mount is named by its controllers (cpu,cpuacct) on most systems, with links by each name.
  const joined = `${root}/${c.mount}${c.path}`;
  return existsSync(`${joined}/cgroup.procs`) ? joined : `${root}/${name}${c.path}`;
}

function readV1(d: { cpu?: string; mem?: string; blk?: string }, u: Usage, hostMem: number, all: boolean): void {
  if (d.cpu) u.cpuNs = int(text(`${d.cpu}/cpuacct.usage`));
  if (d.mem) {
    const dir = d.mem;
    const usage = int(text(`${dir}/memory.usage_in_bytes`));
    const inactive = statValue(text(`${dir}/memory.stat`), 'total_inactive_file') ?? 0;
    u.memUsedBytes = usage === null ? null : usage - (inactive < usage ? inactive : 0);
    if (!all) return;
    const limit = int(text(`${dir}/memory.limit_in_bytes`));
    u.memLimitBytes = limit === null ? null : Math.min(limit, hostMem);
  }
  if (d.blk && all) {
    const t = text(`${d.blk}/blkio.throttle.io_service_bytes`);
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

function readV2(dir: string, u: Usage, hostMem: number, all: boolean): void {
  const usec = statValue(text(`${dir}/cpu.stat`), 'usage_usec');
  u.cpuNs = usec === null ? null : usec * 1000;
  const usage = int(text(`${dir}/memory.current`));
  const inactive = statValue(text(`${dir}/memory.stat`), 'inactive_file') ?? 0;
  u.memUsedBytes = usage === null ? null : usage - (inactive < usage ? inactive : 0);
  if (!all) return;
  const max = text(`${dir}/memory.max`)?.trim();
  u.memLimitBytes = max === undefined ? null : max === 'max' ? hostMem : int(max) === null ? null : Math.min(int(max)!, hostMem);
  const io = text(`${dir}/io.stat`);
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
function readNet(pid: number, proc: string, u: Usage): void {
  const t = text(`${proc}/${pid}/net/dev`);
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
