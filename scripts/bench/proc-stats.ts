// What a process costs, read from /proc: CPU ticks of a process tree (children included), RSS,
// peak RSS and PSS. Linux only, like the benchmarks.

import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** Clock ticks a second, the unit of utime/stime in /proc/<pid>/stat. */
export const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

export interface StatLine {
  pid: number;
  ppid: number;
  /** utime + stime + cutime + cstime: the process's own CPU and that of its reaped children */
  ticks: number;
  /** stime + cstime: the part spent in the kernel */
  sys: number;
}

export function readStat(pid: number): StatLine | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name is in parentheses and may hold spaces: the fields start after the last ')'.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { pid, ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]), sys: Number(f[12]) + Number(f[14]) };
}

/** `pid` and every live descendant. */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = readStat(Number(name));
    if (!s) continue;
    let list = children.get(s.ppid);
    if (!list) children.set(s.ppid, (list = []));
    list.push(s.pid);
  }
  const out: number[] = [];
  const todo = [pid];
  while (todo.length && out.length < 10_000) {
    const p = todo.pop()!;
    out.push(p);
    todo.push(...(children.get(p) ?? []));
  }
  return out;
}

/**
 * CPU ticks of a whole tree. Summing utime+stime+cutime+cstime over the live processes counts
 * each tick once: a child's ticks move into its parent's cutime only when it is reaped (and gone).
 */
export function treeTicks(pid: number): number {
  return treeTicksSplit(pid).ticks;
}

/** Like treeTicks, with the kernel's share. */
export function treeTicksSplit(pid: number): { ticks: number; sys: number } {
  let ticks = 0;
  let sys = 0;
  for (const p of processTree(pid)) {
    const s = readStat(p);
    ticks += s?.ticks ?? 0;
    sys += s?.sys ?? 0;
  }
  return { ticks, sys };
}

function statusKiB(pid: number, field: string): number | null {
  try {
    const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Resident set size now, KiB. */
export const rssKiB = (pid: number): number | null => statusKiB(pid, 'VmRSS');
/** Peak resident set size since the process started (VmHWM), KiB. */
export const hwmKiB = (pid: number): number | null => statusKiB(pid, 'VmHWM');

/** Proportional set size, KiB: shared pages split among the processes sharing them (forked workers). */
export function pssKiB(pid: number): number | null {
  try {
    const m = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8').match(/^Pss:\s+(\d+) kB/m);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** RSS and PSS summed over a process tree, KiB. */
export function treeMemory(pid: number): { rssKiB: number; pssKiB: number; processes: number } {
  const pids = processTree(pid);
  let rss = 0;
  let pss = 0;
  for (const p of pids) {
    rss += rssKiB(p) ?? 0;
    pss += pssKiB(p) ?? 0;
  }
  return { rssKiB: rss, pssKiB: pss, processes: pids.length };
}

/**
 * Nanoseconds on a CPU of every live thread of a process tree, by thread id, from
 * /proc/<pid>/task/<tid>/schedstat (the scheduler's exact run time, not ticks). Empty where the
 * kernel has no schedstat.
 */
export function treeRunNs(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const p of processTree(pid)) {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${p}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      try {
        out.set(Number(tid), Number(readFileSync(`/proc/${p}/task/${tid}/schedstat`, 'utf8').split(' ')[0]));
      } catch {
        // the thread ended between the listing and the read
      }
    }
  }
  return out;
}

/**
 * CPU use of a process tree between start() and read(), as a percent of one core: in ticks
 * (utime+stime, 1/CLK_TCK s each, which is what top and ps show) and exactly (the scheduler's run
 * time of the threads alive at read(); a thread that ended in between is not counted).
 */
export class CpuMeter {
  private t0 = 0;
  private ticks0 = 0;
  private sys0 = 0;
  private run0 = new Map<number, number>();
  constructor(readonly pid: number) {}

  start(): this {
    this.t0 = performance.now();
    const s = treeTicksSplit(this.pid);
    this.ticks0 = s.ticks;
    this.sys0 = s.sys;
    this.run0 = treeRunNs(this.pid);
    return this;
  }

  /**
   * Ticks used (and in the kernel), seconds elapsed since start(), the percent of one core from
   * the ticks, and `exactPercent` from the run time (null without schedstat).
   */
  read(): { ticks: number; sysTicks: number; seconds: number; percent: number; exactPercent: number | null } {
    const s = treeTicksSplit(this.pid);
    const run = treeRunNs(this.pid);
    const ticks = s.ticks - this.ticks0;
    const seconds = (performance.now() - this.t0) / 1000;
    let ns = 0;
    for (const [tid, v] of run) ns += Math.max(0, v - (this.run0.get(tid) ?? 0));
    return { ticks, sysTicks: s.sys - this.sys0, seconds, percent: (ticks / CLK_TCK / seconds) * 100, exactPercent: run.size ? (ns / 1e9 / seconds) * 100 : null };
  }
}

/** The machine, for the report's header. */
export function machine(): { cpu: string; cores: number; memGiB: number; os: string; kernel: string } {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = cpuinfo.match(/^model name\s*:\s*(.+)$/m)?.[1] ?? 'unknown CPU';
  const cores = cpuinfo.split('\n').filter((l) => l.startsWith('processor')).length;
  const memKiB = Number(readFileSync('/proc/meminfo', 'utf8').match(/^MemTotal:\s+(\d+)/m)?.[1] ?? 0);
  let os = 'Linux';
  try {
    os = readFileSync('/etc/os-release', 'utf8').match(/^PRETTY_NAME="?([^"\n]+)"?/m)?.[1] ?? os;
  } catch {
    // keep "Linux"
  }
  const kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  return { cpu: model, cores, memGiB: Math.round((memKiB / 1024 / 1024) * 10) / 10, os, kernel };
}

/** Local TCP ports a process listens on, from the socket inodes in its fd table. */
export function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSafe(`/proc/${pid}/fd/${fd}`));
        if (m) inodes.add(m[1]!);
      } catch {
        // closed meanwhile
      }
    }
  } catch {
    return [];
  }
  const ports: number[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // f[1] local address:port (hex), f[3] state (0A = LISTEN), f[9] inode
      if (f.length > 9 && f[3] === '0A' && inodes.has(f[9]!)) ports.push(parseInt(f[1]!.split(':')[1]!, 16));
    }
  }
  return ports;
}

function readlinkSafe(p: string): string {
  try {
    return readlinkSync(p);
  } catch {
    return '';
  }
}

/** Busy ticks of the whole machine (all cores), from the first line of /proc/stat. */
function machineBusyTicks(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: busy is all but idle and iowait
  return f.slice(0, 8).reduce((a, b) => a + b, 0) - f[3]! - f[4]!;
}

/** CPU used by the whole machine between start() and read(), in % of one core (up to cores x 100). */
export class MachineMeter {
  private t0 = 0;
  private ticks0 = 0;
  start(): this {
    this.t0 = performance.now();
    this.ticks0 = machineBusyTicks();
    return this;
  }
  read(): number {
    return ((machineBusyTicks() - this.ticks0) / CLK_TCK / ((performance.now() - this.t0) / 1000)) * 100;
  }
}
