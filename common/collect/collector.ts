// What the agent measures: sample() for the periodic report (on Linux only /proc reads and one
// statfs, never a child process) and status() for the full answer to the `status` command.
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { runProgram, type Runner } from '../util/runner.ts';
import { CpuMeter, SharedCpuTimes } from './cpu.ts';
import { SLOW_READING_MAX_AGE_MS, STATFS_TIMEOUT_MS, diskUsage, type MountEntry } from './disk.ts';
import { DEFAULT_PROC_ROOT } from './proc-linux.ts';
import { fresh } from '../util/fresh.ts';
import { readersFor, type NetReading, type PlatformReaders } from './readers.ts';
import { staticInfo, type StaticInfo } from './static-info.ts';
import type { DiskUsage, FullStatus, InterfaceCounters, Metrics, MountUsage, Sample } from './types.ts';

/** When two CPU readings are too close to differ (one jiffy is 10 ms), wait this long and retry. */
const CPU_RETRY_MS = 100;
/** A report's process count stands for this many times what counting took (0.1% of a core at most). */
export const COUNT_COST_FACTOR = 1000;
/** `status` measures CPU and network rates over this window (while it gathers the rest). */
const STATUS_WINDOW_MS = 500;

export interface CollectorOptions {
  platform?: NodeJS.Platform;
  runner?: Runner;
  procRoot?: string;
  now?: () => number;
  /** monotonic ms, for what a reading costs (default performance.now) */
  clock?: () => number;
}


/** A previous reading to compute rates from; sample() and status() each keep their own. */
interface Window {
  cpu: CpuMeter;
  net: Promise<(NetReading & { at: number }) | null>;
}

interface Live {
  metrics: Metrics;
  interfaces: InterfaceCounters[] | null;
  interfacesReason?: string;
  memory: FullStatus['memory'];
  loadavg: number[] | null;
}

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Bytes per second between two counters; null with a reason when there is no honest answer. */
function rate(prev: number | undefined, cur: number, seconds: number): { value: number | null; reason?: string } {
  if (prev === undefined) return { value: null, reason: 'no previous reading' };
  if (seconds <= 0) return { value: null, reason: 'no time elapsed since the previous reading' };
  if (cur < prev) return { value: null, reason: 'counter went backwards (interface reset or wrap)' };
  return { value: Math.round((cur - prev) / seconds) };
}

export class Collector {
  private readonly platform: NodeJS.Platform;
  private readonly procRoot: string;
  private readonly now: () => number;
  private readonly clock: () => number;
  private readonly readers: PlatformReaders;
  private readonly cpuTimes: SharedCpuTimes;
  private readonly sampleWindow: Window;
  private statics: Promise<StaticInfo> | null = null;
  private mounts: MountUsage[] | null = null;
  private mountsRefresh: Promise<void> | null = null;
  private mountsAt = -Infinity;
  /** the reports' process count, counted at most every SLOW_READING_MAX_AGE_MS (longer on huge hosts) */
  private procCount: { at: number; value: Promise<number>; maxAgeMs: number } | null = null;

  constructor(opts: CollectorOptions = {}) {
    this.platform = opts.platform ?? process.platform;
    this.procRoot = opts.procRoot ?? DEFAULT_PROC_ROOT;
    this.now = opts.now ?? Date.now;
    this.clock = opts.clock ?? (() => performance.now());
    this.readers = readersFor(this.platform, { procRoot: this.procRoot, runner: opts.runner ?? runProgram });
    this.cpuTimes = new SharedCpuTimes({ platform: this.platform, procRoot: this.procRoot });
    // First readings now, so the first sample() already has a CPU percent and network rates.
    this.sampleWindow = this.openWindow();
  }

  /**
   * A CPU meter with its own window (the agent's 1 s alert sampler) on the collector's readings of
   * the CPU times: a report due in the same tick reuses the sampler's reading of /proc/stat.
   */
  cpuMeter(): CpuMeter {
    return new CpuMeter({ read: () => this.cpuTimes.read() });
  }

  private openWindow(): Window {
    const cpu = this.cpuMeter();
    const at = this.now();
    const net = this.readers.net().then((r) => ({ ...r, at }), () => null);
    return { cpu, net };
  }

  async sample(): Promise<Sample> {
    // Per-mount usage for the history's per-mount series, refreshed beside the sample and never
    // waited for: a hung network mount must not delay the report (a failed mount is just absent).
    // At most every SLOW_READING_MAX_AGE_MS: filling a disk takes longer than that, and at
    // --interval 1 a statfs of every mount each second was a good part of a report's cost (the
    // headline disk, the root, is still measured for every report).
    const t = this.now();
    if (!this.mountsRefresh && !fresh(this.mountsAt, t, SLOW_READING_MAX_AGE_MS)) {
      this.mountsAt = t;
      this.mountsRefresh = this.disks().then((d) => {
        this.mounts = d.list.map((x) => ({ mount: x.mount, ...(x.type ? { type: x.type } : {}), size: x.size, used: x.used, available: x.available, percent: x.percent }));
      }, () => {}).finally(() => { this.mountsRefresh = null; });
    }
    const live = await this.readLive(this.sampleWindow, this.recentProcessCount());
    const sample: Sample = { at: this.now(), metrics: live.metrics };
    if (live.interfaces) sample.interfaces = live.interfaces;
    if (this.mounts?.length) sample.mounts = this.mounts;
    return sample;
  }

  async processCount(): Promise<{ processCount: number | null; reason?: string }> {
    try {
      return { processCount: await this.readers.processCount() };
    } catch (err) {
      return { processCount: null, reason: reasonOf(err) };
    }
  }

  async status(): Promise<FullStatus> {
    const window = this.openWindow();
    this.statics ??= staticInfo();
    const [statics, disks] = await Promise.all([this.statics, this.disks(), sleep(STATUS_WINDOW_MS)]);
    // A timed-out lookup may work next time; anything else systeminformation said will not change.
    if (statics.timedOut) this.statics = null;
    const live = await this.readLive(window, this.readers.processCount());
    const at = this.now();
    const unavailable: Record<string, string> = { ...statics.unavailable, ...disks.unavailable };
    if (live.interfacesReason) unavailable.interfaces = live.interfacesReason;
    const uptime = live.metrics.uptimeSeconds;
    let bootTime: number | null = null;
    try {
      bootTime = this.readers.bootTime() ?? (uptime !== null ? Math.round(at - uptime * 1000) : null);
    } catch (err) {
      unavailable.bootTime = reasonOf(err);
    }
    const cpus = os.cpus();
    const status: FullStatus = {
      at,
      hostname: os.hostname(),
      platform: this.platform,
      release: os.release(),
      arch: os.arch(),
      metrics: live.metrics,
      disks: disks.list,
      interfaces: live.interfaces ?? [],
      cpu: {
        model: statics.cpuModel ?? cpus[0]?.model ?? 'unknown',
        cores: cpus.length,
        // os.cpus() says 0 where the speed is unknown (VMs): that is not a speed.
        speedMHz: statics.cpuSpeedMHz ?? (cpus[0]?.speed ? cpus[0].speed : null),
        ...(live.loadavg ? { loadavg: live.loadavg } : {}),
      },
      memory: live.memory,
      os: statics.os,
      system: statics.system,
      bootTime,
    };
    if (Object.keys(unavailable).length > 0) status.unavailable = unavailable;
    return status;
  }

  /** Closes the /proc files kept open (Linux); on Windows nothing is held (no PowerShell: see windows.ts). */
  close(): void {
    this.statics = null;
    this.readers.close?.();
    this.cpuTimes.close();
  }

  /** Every real mount (Linux) or drive letter (Windows), each with its own deadline. */
  private async disks(): Promise<{ list: DiskUsage[]; unavailable: Record<string, string> }> {
    let mounts: MountEntry[];
    const unavailable: Record<string, string> = {};
    if (this.platform === 'win32') {
      mounts = 'CDEFGHIJKLMNOPQRSTUVWXYZ'.split('').map((l) => ({ fs: `${l}:`, mount: `${l}:\\`, type: 'drive' }));
    } else {
      try {
        mounts = this.readers.mounts ? this.readers.mounts() : [{ fs: '/', mount: '/', type: '' }];
      } catch (err) {
        return { list: [], unavailable: { disks: reasonOf(err) } };
      }
    }
    const results = await Promise.allSettled(mounts.map((m) => diskUsage(m, { timeoutMs: STATFS_TIMEOUT_MS })));
    const list: DiskUsage[] = [];
    const failed: string[] = [];
    results.forEach((r) => {
      if (r.status === 'fulfilled') list.push(r.value);
      // An absent drive letter is normal on Windows, not worth a line.
      else if (this.platform !== 'win32') failed.push(reasonOf(r.reason));
    });
    if (this.platform === 'win32' && list.length === 0) failed.push(`no drive answered statfs (system drive ${this.readers.rootPath})`);
    if (failed.length > 0) unavailable.disks = failed.join('; ');
    return { list, unavailable };
  }

  /**
   * Counting processes lists /proc (on Windows it runs a program): the dearest reading of a
   * report, for a figure that moves slowly. Reports reuse a count for SLOW_READING_MAX_AGE_MS,
   * or for COUNT_COST_FACTOR times what the count took when that is longer (a host with tens of
   * thousands of processes: counting stays under 0.1% of a core); `status` and the process-count
   * command count afresh. A failed count is not kept.
   */
  private recentProcessCount(): Promise<number> {
    const t = this.now();
    if (this.procCount && fresh(this.procCount.at, t, this.procCount.maxAgeMs)) return this.procCount.value;
    // The work of listing /proc is done within the call (the promise only carries the answer);
    // where a program counts (Windows), its time is not the agent's CPU and is not counted.
    const t0 = this.clock();
    const value = this.readers.processCount();
    const entry = { at: t, value, maxAgeMs: Math.max(SLOW_READING_MAX_AGE_MS, (this.clock() - t0) * COUNT_COST_FACTOR) };
    entry.value.catch(() => {
      if (this.procCount === entry) this.procCount = null;
    });
    this.procCount = entry;
    return entry.value;
  }

  private async readLive(window: Window, processCount: Promise<number>): Promise<Live> {
    const r = this.readers;
    const u: Record<string, string> = {};
    const m: Metrics = {
      cpuPercent: null, memPercent: null, diskPercent: null, netRxBytes: null, netTxBytes: null,
      uptimeSeconds: null, processCount: null,
    };

    // Started together and settled at once, so a failure cannot go unhandled during the CPU retry.
    const pending = Promise.allSettled([r.rootDisk(), r.net(), processCount, window.net]);

    let cpu = window.cpu.measure();
    if (cpu.tooSoon) {
      await sleep(CPU_RETRY_MS);
      cpu = window.cpu.measure();
    }
    if (cpu.percent !== null) m.cpuPercent = cpu.percent;
    else u.cpuPercent = cpu.reason;

    let memory: Live['memory'] = null;
    try {
      const mem = r.memory();
      m.memTotalBytes = mem.totalBytes;
      m.memAvailableBytes = mem.availableBytes;
      if (mem.availableBytes === null) {
        u.memPercent = u.memAvailableBytes = 'MemAvailable missing from /proc/meminfo (kernel older than 3.14)';
      } else {
        m.memPercent = Math.round(((mem.totalBytes - mem.availableBytes) / mem.totalBytes) * 1000) / 10;
      }
      const swapUsed = mem.swapTotalBytes !== null && mem.swapFreeBytes !== null ? mem.swapTotalBytes - mem.swapFreeBytes : null;
      if (mem.swapTotalBytes !== null) m.swapTotalBytes = mem.swapTotalBytes;
      if (swapUsed !== null) m.swapUsedBytes = swapUsed;
      memory = {
        totalBytes: mem.totalBytes,
        availableBytes: mem.availableBytes,
        usedBytes: mem.availableBytes === null ? null : mem.totalBytes - mem.availableBytes,
        swapTotalBytes: mem.swapTotalBytes,
        swapUsedBytes: swapUsed,
      };
    } catch (err) {
      u.memPercent = u.memTotalBytes = u.memAvailableBytes = reasonOf(err);
      m.memTotalBytes = m.memAvailableBytes = null;
    }

    try {
      m.uptimeSeconds = r.uptime();
    } catch (err) {
      u.uptimeSeconds = reasonOf(err);
    }

    let loadavg: number[] | null = null;
    if (r.loadavg) {
      try {
        loadavg = r.loadavg();
        m.load1 = loadavg[0]!;
      } catch (err) {
        m.load1 = null;
        u.load1 = reasonOf(err);
      }
    }

    const [disk, net, procs, prevNet] = await pending;
    if (disk.status === 'fulfilled') {
      m.diskPercent = disk.value.percent;
      m.diskSizeBytes = disk.value.size;
      m.diskAvailBytes = disk.value.available;
    } else {
      m.diskSizeBytes = m.diskAvailBytes = null;
      u.diskPercent = u.diskSizeBytes = u.diskAvailBytes = reasonOf(disk.reason);
    }
    if (procs.status === 'fulfilled') m.processCount = procs.value;
    else u.processCount = reasonOf(procs.reason);

    let interfaces: InterfaceCounters[] | null = null;
    let interfacesReason: string | undefined;
    const at = this.now();
    if (net.status === 'fulfilled') {
      const cur = net.value;
      const prev = prevNet.status === 'fulfilled' ? prevNet.value : null;
      const seconds = prev ? (at - prev.at) / 1000 : 0;
      m.netRxBytes = cur.rxBytes;
      m.netTxBytes = cur.txBytes;
      const rx = rate(prev?.rxBytes, cur.rxBytes, seconds);
      const tx = rate(prev?.txBytes, cur.txBytes, seconds);
      m.netRxRate = rx.value;
      m.netTxRate = tx.value;
      if (rx.reason) u.netRxRate = rx.reason;
      if (tx.reason) u.netTxRate = tx.reason;
      if (cur.interfaces) {
        const before = new Map(prev?.interfaces?.map((i) => [i.name, i]) ?? []);
        interfaces = cur.interfaces.map((i) => ({
          name: i.name,
          rxBytes: i.rxBytes,
          txBytes: i.txBytes,
          rxRate: rate(before.get(i.name)?.rxBytes, i.rxBytes, seconds).value,
          txRate: rate(before.get(i.name)?.txBytes, i.txBytes, seconds).value,
        }));
      } else {
        interfacesReason = cur.interfacesReason;
      }
      window.net = Promise.resolve({ ...cur, at });
    } else {
      const why = reasonOf(net.reason);
      u.netRxBytes = u.netTxBytes = u.netRxRate = u.netTxRate = why;
      m.netRxRate = m.netTxRate = null;
      interfacesReason = why;
    }

    if (Object.keys(u).length > 0) m.unavailable = u;
    return { metrics: m, interfaces, interfacesReason, memory, loadavg };
  }
}
