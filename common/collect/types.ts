// Shapes of what the agent measures. A value that could not be read is `null`, and its field name
// appears in `unavailable` with the reason; never a made-up 0.

import type { SampleContainers } from '../wire/container-usage.ts';

export interface Metrics {
  /** CPU busy percent over the report interval, all cores. */
  cpuPercent: number | null;
  /** (total - available) / total, as `free` shows it. */
  memPercent: number | null;
  /** Used percent of the root filesystem (Linux) or the system drive (Windows), as `df` shows it. */
  diskPercent: number | null;
  /** Bytes received / sent since boot, all interfaces but loopback. */
  netRxBytes: number | null;
  netTxBytes: number | null;
  uptimeSeconds: number | null;
  processCount: number | null;
  /** Extra headline values; add freely. */
  memTotalBytes?: number | null;
  memAvailableBytes?: number | null;
  netRxRate?: number | null;
  netTxRate?: number | null;
  load1?: number | null;
  swapTotalBytes?: number | null;
  swapUsedBytes?: number | null;

  /** The filesystem of diskPercent: size, and bytes available to unprivileged users (df's Avail). */
  diskSizeBytes?: number | null;
  diskAvailBytes?: number | null;
  /** field name -> why it is null */
  unavailable?: Record<string, string>;
}

export interface DiskUsage {
  mount: string;
  fs: string;
  type: string;
  size: number;
  used: number;
  available: number;
  /** used / (used + available) * 100, rounded up like df */
  percent: number;
}

export interface InterfaceCounters {
  name: string;
  rxBytes: number;
  txBytes: number;
  /** bytes per second since the previous sample; null on the first one */
  rxRate: number | null;
  txRate: number | null;
}

/** One mount's usage in a periodic sample (the full DiskUsage is for `status`). */
export interface MountUsage {
  mount: string;
  /** filesystem type from the mount table (ext4, xfs, nfs4...); absent from older agents */
  type?: string;
  size: number;
  used: number;
  /** bytes unprivileged users may still write (df's Avail); absent from older agents */
  available?: number;
  percent: number;
}

/** One periodic sample, sent as a report every --interval seconds. */
export interface Sample {
  at: number;
  metrics: Metrics;
  interfaces?: InterfaceCounters[];
  mounts?: MountUsage[];
  /** the top processes by CPU and by memory, on one sample a minute (--processes-every) */
  processes?: SampleProcesses;
  /** the containers' usage, on one sample every --containers-every */
  containerUsage?: SampleContainers;
}

/** The complete status, answered to the `status` command. */
export interface FullStatus {
  at: number;
  hostname: string;
  platform: string;
  release: string;
  arch: string;
  metrics: Metrics;
  disks: DiskUsage[];
  interfaces: InterfaceCounters[];
  cpu?: { model: string; cores: number; speedMHz?: number | null; loadavg?: number[] } | null;
  memory?: { totalBytes: number | null; availableBytes: number | null; usedBytes: number | null; swapTotalBytes?: number | null; swapUsedBytes?: number | null } | null;
  os?: { distro?: string; release?: string; kernel?: string; codename?: string } | null;
  system?: { manufacturer?: string; model?: string; virtual?: boolean } | null;
  bootTime?: number | null;
  unavailable?: Record<string, string>;
  /** the agent's delivery of its samples since it started (added by the agent, not collected) */
  samples?: {
    epoch: string; taken: number; lastAt: number | null; unacked: number; inFlight: number; lost: number; acknowledged: boolean;
  };
}

/** How `top` orders processes. */
export type ProcessSort = 'cpu' | 'mem' | 'io';

/**
 * One process as `top` shows it. CPU % is over the time since the previous reading (100 = one
 * core); a value the OS does not expose (another user's I/O without privilege) is null, with its
 * reason in the answer's `unavailable`. `command` is cut, and shown only to admins.
 */
export interface ProcessRow {
  pid: number;
  name: string;
  user: string | null;
  command: string | null;
  cpuPercent: number | null;
  memBytes: number | null;
  /** bytes read and written per second (null where the OS does not say) */
  ioBytesPerSec: number | null;
  state: string | null;
  /** ms since the epoch */
  startedAt: number | null;
}

/** The answer to `top`: the first `n` by the sort asked, and how many processes there were. */
export interface TopProcesses {
  at: number;
  total: number;
  processes: ProcessRow[];
  unavailable?: Record<string, string>;
}

/** A process named in an alert as its cause: CPU % over the last readings, resident memory. */
export interface AlertTop { pid: number; name: string; cpuPercent: number | null; memBytes: number | null }
/** The top processes a sample carries (history of who): each list sorted, at most 50 rows. */
export interface SampleProcesses {
  byCpu: ProcessRow[];
  byMem: ProcessRow[];
}
