// One set of cheap live readers per platform, so the Collector does not branch on the OS for every
// value. Every reader throws an HwError whose message is the reason the value is unavailable.
import os from 'node:os';
import { HwError } from '../errors.ts';
import type { DiskUsage } from './types.ts';
import type { Runner } from '../util/runner.ts';
import { join } from 'node:path';
import { diskUsage, MountTable, type MountEntry } from './disk.ts';
import { ProcFile } from './proc-file.ts';
import {
  countProcesses, parseBootTime, parseLoadavg, parseMeminfo, parseNetDev, parseUptime, readProc,
  type MemInfo, type NetDevCounters,
} from './proc-linux.ts';
import { countWindowsProcesses, readWindowsNet, systemDrive } from './windows.ts';

export interface NetReading {
  /** Totals of every interface but loopback. */
  rxBytes: number;
  txBytes: number;
  /** Per interface (loopback included); null where the platform gives totals only. */
  interfaces: NetDevCounters[] | null;
  interfacesReason?: string;
}

export interface PlatformReaders {
  /** Where the headline disk percent comes from: `/` or the Windows system drive. */
  rootPath: string;
  memory(): MemInfo;
  net(): Promise<NetReading>;
  uptime(): number;
  processCount(): Promise<number>;
  rootDisk(): Promise<DiskUsage>;
  /** Absent where there is no load average (Windows reports a fake 0). */
  loadavg?: () => [number, number, number];
  bootTime(): number | null;
  /** The real mounts (Linux); absent where the collector lists drives itself. */
  mounts?: () => MountEntry[];
  /** Releases what the readers hold open. */
  close?: () => void;
}

const LOOPBACK = new Set(['lo']);

/**
 * The /proc files stay open and are read into reused buffers (proc-file.ts); close() releases
 * them. `/proc/stat` is read by the CPU meters (cpu.ts), not here.
 */
export function linuxReaders(procRoot: string): PlatformReaders {
  const file = (rel: string) => new ProcFile(join(procRoot, rel));
  const meminfo = file('meminfo');
  const netDev = file('net/dev');
  const uptime = file('uptime');
  const loadavg = file('loadavg');
  const mounts = new MountTable(procRoot);
  return {
    rootPath: '/',
    memory: () => parseMeminfo(meminfo.read()),
    net: async () => {
      const interfaces = parseNetDev(netDev.read());
      let rxBytes = 0;
      let txBytes = 0;
      for (const i of interfaces) {
        if (LOOPBACK.has(i.name)) continue;
        rxBytes += i.rxBytes;
        txBytes += i.txBytes;
      }
      return { rxBytes, txBytes, interfaces };
    },
    uptime: () => parseUptime(uptime.read()),
    processCount: async () => countProcesses(procRoot),
    // The type decides whether statfs may run inline (a local filesystem) or needs a deadline.
    rootDisk: () => diskUsage({ fs: '/', mount: '/', type: mounts.typeOf('/') }),
    mounts: () => mounts.list(),
    loadavg: () => parseLoadavg(loadavg.read()),
    bootTime: () => parseBootTime(readProc(procRoot, 'stat')),
    close: () => {
      for (const f of [meminfo, netDev, uptime, loadavg]) f.close();
      mounts.close();
    },
  };
}

/** os.totalmem() and os.freemem() on Windows are GlobalMemoryStatusEx's total and *available*. */
function osMemory(): MemInfo {
  const totalBytes = os.totalmem();
  if (!totalBytes) throw new HwError('UNAVAILABLE', 'os.totalmem() returned 0');
  return { totalBytes, availableBytes: os.freemem(), freeBytes: null, swapTotalBytes: null, swapFreeBytes: null };
}

function osUptime(): number {
  const u = os.uptime();
  if (!(u > 0)) throw new HwError('UNAVAILABLE', `os.uptime() returned ${u}`);
  return u;
}

export function windowsReaders(runner: Runner, env: NodeJS.ProcessEnv = process.env): PlatformReaders {
  const drive = systemDrive(env);
  return {
    rootPath: `${drive}\\`,
    memory: osMemory,
    net: async () => ({
      ...(await readWindowsNet(runner)),
      interfaces: null,
      interfacesReason: 'per-interface counters need PowerShell or WMI; netstat -e gives totals only',
    }),
    uptime: osUptime,
    processCount: () => countWindowsProcesses(runner),
    rootDisk: async () => ({ ...(await diskUsage({ fs: drive, mount: `${drive}\\`, type: '' })), mount: drive }),
    bootTime: () => null,
  };
}

/** macOS, BSDs: only what Node gives portably; the rest is named unavailable rather than guessed. */
export function otherReaders(platform: NodeJS.Platform): PlatformReaders {
  const no = (what: string) => new HwError('UNAVAILABLE', `${what} is not implemented on ${platform}`);
  return {
    rootPath: '/',
    // os.freemem() there is free memory, not available memory: percent would be far too high.
    memory: () => { throw no('available memory'); },
    net: async () => { throw no('network counters'); },
    uptime: osUptime,
    processCount: async () => { throw no('process count'); },
    rootDisk: () => diskUsage({ fs: '/', mount: '/', type: '' }),
    loadavg: () => os.loadavg() as [number, number, number],
    bootTime: () => null,
  };
}

export function readersFor(platform: NodeJS.Platform, opts: { procRoot: string; runner: Runner }): PlatformReaders {
  if (platform === 'linux') return linuxReaders(opts.procRoot);
  if (platform === 'win32') return windowsReaders(opts.runner);
  return otherReaders(platform);
}
