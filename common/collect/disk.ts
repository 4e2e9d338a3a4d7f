// Disk usage per mount through fs.statfs (a syscall, no `df` process), with df's arithmetic, and the
// list of real mounts from /proc/self/mounts.
import { statfs } from 'node:fs/promises';
import { statfsSync, type StatsFs } from 'node:fs';
import { join } from 'node:path';
import { fresh } from '../util/fresh.ts';
import { SAME_TICK_MS, ProcFile } from './proc-file.ts';
import { HwError } from '../errors.ts';
import type { DiskUsage } from './types.ts';
import { DEFAULT_PROC_ROOT, readProc } from './proc-linux.ts';

/** statfs on a hung network mount never returns; give up on that mount after this long. */
export const STATFS_TIMEOUT_MS = 3000;
/**
 * A report's process count and per-mount usage are at most this old: counting lists all of /proc
 * and each mount is a statfs, the dearest readings of a report at --interval 1, for figures that
 * move slowly. `status` and `procs` read afresh; the root disk is measured for every report.
 */
export const SLOW_READING_MAX_AGE_MS = 5000;

export interface MountEntry {
  fs: string;
  mount: string;
  type: string;
}

/**
 * Types that are not storage. The first group is df's own "dummy" list (coreutils ME_DUMMY) plus
 * the zero-sized kernel filesystems df hides because they have no blocks. The second group df does
 * show, but a monitor should not: tmpfs/devtmpfs usage is RAM (already in memPercent), and squashfs
 * images (snaps) are read-only and always 100% full, which would only raise false disk alerts.
 */
const PSEUDO = new Set([
  'autofs', 'proc', 'subfs', 'debugfs', 'devpts', 'fusectl', 'fuse.portal', 'mqueue', 'rpc_pipefs',
  'sysfs', 'devfs', 'kernfs', 'ignore', 'none', 'cgroup', 'cgroup2', 'securityfs', 'pstore', 'bpf',
  'tracefs', 'configfs', 'efivarfs', 'binfmt_misc', 'hugetlbfs', 'nsfs', 'selinuxfs', 'rootfs',
  'fuse.gvfsd-fuse', 'fuse.lxcfs', 'ramfs',
  'tmpfs', 'devtmpfs', 'squashfs',
]);

/** Mount paths escape space, tab, newline and backslash as octal (`\040`). */
function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Parses /proc/self/mounts (fstab format: fs mount type options dump pass). */
export function parseMounts(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 3) continue;
    out.push({ fs: unescapeMount(f[0]!), mount: unescapeMount(f[1]!), type: f[2]! });
  }
  return out;
}

/**
 * Keeps storage mounts once each. A mount point listed twice shows its last (topmost) mount; a
 * device mounted at several places (bind mounts, containers' /etc/hosts) is kept at its shortest
 * path, as df does.
 */
export function realMounts(entries: MountEntry[]): MountEntry[] {
  const byMount = new Map<string, MountEntry>();
  for (const e of entries) {
    if (PSEUDO.has(e.type)) continue;
    byMount.delete(e.mount); // re-insert so order follows the topmost mount
    byMount.set(e.mount, e);
  }
  const byDevice = new Map<string, MountEntry>();
  const out: MountEntry[] = [];
  for (const e of byMount.values()) {
    if (!e.fs.startsWith('/')) {
      out.push(e); // overlay, server:/export...: not a device, nothing to dedupe on
      continue;
    }
    const seen = byDevice.get(e.fs);
    if (!seen || e.mount.length < seen.mount.length) byDevice.set(e.fs, e);
  }
  out.push(...byDevice.values());
  return out.sort((a, b) => a.mount.localeCompare(b.mount));
}

export function readMounts(procRoot = DEFAULT_PROC_ROOT): MountEntry[] {
  return realMounts(parseMounts(readProc(procRoot, 'self/mounts')));
}

/**
 * The mount table read on every report (once: the root's type and the per-mount list in the same
 * tick share the read) but parsed only when its bytes changed (mounts change rarely; comparing a
 * kilobyte is cheaper than splitting it into lines and fields again).
 */
export class MountTable {
  private readonly file: ProcFile;
  private readonly now: () => number;
  /** the bytes of the last successful read, and whether that read is recent enough to reuse */
  private prev: Buffer | null = null;
  private last: Buffer | null = null;
  private readAt = -Infinity;
  private all: MountEntry[] = [];
  private real: MountEntry[] = [];

  constructor(procRoot = DEFAULT_PROC_ROOT, now: () => number = () => performance.now()) {
    this.file = new ProcFile(join(procRoot, 'self/mounts'));
    this.now = now;
  }

  /** Real mounts as readMounts() gives them; throws HwError UNAVAILABLE. */
  list(): MountEntry[] {
    this.refresh();
    return this.real;
  }

  /**
   * The type of what is mounted at `mount` ('' when unknown: then statfs keeps its deadline). A
   * report asks it for the root each time, so a table up to SLOW_READING_MAX_AGE_MS old answers:
   * generating /proc/self/mounts (every cgroup's options) was a tenth of the kernel time of an
   * agent at --interval 1, for an answer that changes only with a remount.
   */
  typeOf(mount: string): string {
    try {
      this.refresh(SLOW_READING_MAX_AGE_MS);
    } catch {
      return '';
    }
    for (let i = this.all.length - 1; i >= 0; i--) if (this.all[i]!.mount === mount) return this.all[i]!.type;
    return '';
  }

  close(): void {
    this.file.close();
  }

  private refresh(maxAgeMs = SAME_TICK_MS): void {
    const t = this.now();
    if (this.last && fresh(this.readAt, t, maxAgeMs)) return;
    this.last = null; // a failed read must not leave a stale table behind
    const b = this.file.read();
    this.readAt = t;
    if (this.prev?.equals(b)) {
      this.last = this.prev;
      return;
    }
    this.all = parseMounts(b.toString('latin1'));
    this.real = realMounts(this.all);
    this.last = this.prev = Buffer.from(b);
  }
}

/**
 * Local filesystems, whose statfs answers from memory at once: asked inline, without the thread
 * pool and the deadline timer. Any other type (NFS, CIFS, FUSE, or unknown) may hang, so it keeps
 * the asynchronous call with a deadline.
 */
const LOCAL_FS = new Set([
  'ext2', 'ext3', 'ext4', 'xfs', 'btrfs', 'zfs', 'f2fs', 'jfs', 'reiserfs', 'bcachefs', 'overlay', 'vfat', 'exfat', 'ntfs3', 'iso9660', 'udf',
]);

/**
 * df's Use%: used / (used + available) rounded up, where available is what non-root users may
 * still write, so reserved blocks count as neither. Null when the filesystem has no blocks.
 */
export function dfPercent(usedBlocks: number, availBlocks: number): number | null {
  const total = usedBlocks + availBlocks;
  if (total <= 0) return null;
  const u100 = usedBlocks * 100;
  return Math.floor(u100 / total) + (u100 % total !== 0 ? 1 : 0);
}

type StatfsFn = (path: string) => Promise<StatsFs>;

/** statfs with a deadline; a timeout or failure is HwError UNAVAILABLE naming the path. */
export async function statfsTimed(path: string, timeoutMs = STATFS_TIMEOUT_MS, fn: StatfsFn = (p) => statfs(p)): Promise<StatsFs> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HwError('UNAVAILABLE', `statfs ${path}: no answer in ${timeoutMs} ms`)), timeoutMs);
    timer.unref();
  });
  try {
    return await Promise.race([fn(path), deadline]);
  } catch (err) {
    if (err instanceof HwError) throw err;
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new HwError('UNAVAILABLE', `statfs ${path}: ${code}`, { cause: err });
  } finally {
    clearTimeout(timer);
  }
}

function statfsNow(path: string): StatsFs {
  try {
    return statfsSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new HwError('UNAVAILABLE', `statfs ${path}: ${code}`, { cause: err });
  }
}

/**
 * Usage of one mount in bytes. Node's statfs exposes f_bsize but not f_frsize; they are equal on
 * the filesystems that matter (ext4, xfs, btrfs, NTFS) and the percent uses block counts anyway.
 */
export async function diskUsage(entry: MountEntry, opts: { timeoutMs?: number; statfs?: StatfsFn } = {}): Promise<DiskUsage> {
  const s = !opts.statfs && LOCAL_FS.has(entry.type) ? statfsNow(entry.mount) : await statfsTimed(entry.mount, opts.timeoutMs, opts.statfs);
  const usedBlocks = s.blocks - s.bfree;
  const percent = dfPercent(usedBlocks, s.bavail);
  if (percent === null) throw new HwError('UNAVAILABLE', `${entry.mount} has no blocks`);
  return {
    mount: entry.mount,
    fs: entry.fs,
    type: entry.type,
    size: s.blocks * s.bsize,
    used: usedBlocks * s.bsize,
    available: s.bavail * s.bsize,
    percent,
  };
}
