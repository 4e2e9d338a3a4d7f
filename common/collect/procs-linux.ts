// The host's processes now, like `top`, from /proc, read incrementally: each reading keeps every
// process's CPU ticks and I/O bytes, so the next one gives CPU % and I/O rate as deltas over the time
// between the two readings; there is no sleep between two samples. A process seen for the first time
// (every process at the first reading) gets its lifetime average, which is exact for a process born
// since the previous reading. Only /proc/<pid>/stat is read for every process (and io when the
// order is by I/O); status (user, name), cmdline and io only for the rows returned, the I/O rate
// then over the time since that process's previous io reading. Files are read into one reused buffer.
import { closeSync, openSync, opendirSync, readFileSync, readSync, type Dir } from 'node:fs';
import { join } from 'node:path';
import { HwError } from '../errors.ts';
import { DEFAULT_PROC_ROOT } from './proc-linux.ts';
import type { ProcessRow, ProcessSort, TopProcesses } from './types.ts';

/** `maxAgeMs`: the previous reading may answer when it is younger than this (another order of it). */
export interface TopQuery { n: number; sort: ProcessSort; maxAgeMs?: number }

/** Processes tracked at most (a host has fewer: pid_max defaults to 32,768 or 4,194,304 on big ones). */
export const MAX_TRACKED_PIDS = 65_536;
/** Rows in one answer at most. */
export const TOP_MAX = 100;
/** A command line is cut to this many characters. */
export const COMMAND_MAX_CHARS = 256;
/**
 * Two readings closer than this keep the earlier figures (the delta goes on to the next reading):
 * ticks are 10 ms, so a delta over a few ms (the dashboard and a CLI `top` at once) would be noise.
 */
const MIN_DELTA_MS = 1000;
/** USER_HZ: the unit of /proc/<pid>/stat's times; 100 on every Linux architecture Node runs on. */
const CLK_TCK = 100;

export interface LinuxProcessesOptions {
  procRoot?: string;
  passwdPath?: string;
  /** bytes of a memory page; found from /proc/self by default */
  pageSize?: number;
  maxTracked?: number;
  /** monotonic ms, for the time between two readings */
  clock?: () => number;
  now?: () => number;
}

interface Seen {
  /** starttime in ticks: a pid reused by a new process is a new process */
  start: number;
  ticks: number;
  /** read_bytes + write_bytes, -1 when not readable, IO_NOT_READ before the first reading */
  io: number;
  /** when io was read (the clock's ms) */
  ioAt: number;
  rssPages: number;
  state: number;
  cpu: number | null;
  ioRate: number | null;
  /** the reading that last saw it */
  gen: number;
  /** when (the clock's ms) */
  at: number;
}

interface Scan { dir: Dir; gen: number; uptimeTicks: number; total: number; untracked: number; ioDenied: boolean; withIo: boolean }
interface Last { total: number; unavailable: Record<string, string>; withIo: boolean; uptimeTicks: number }

/** Seen.io before its first reading. */
const IO_NOT_READ = -3;
const IO_DENIED_REASON = 'needs privilege (the I/O of some processes, usually other users\' ones, is not readable by the agent\'s user)';

/** Processes read between two yields to the event loop (topAsync). */
const SCAN_CHUNK = 1000;

const SP = 32;
const NL = 10;

export class LinuxProcesses {
  private readonly root: string;
  private readonly passwdPath: string;
  private readonly maxTracked: number;
  private readonly clock: () => number;
  private readonly now: () => number;
  private pageSize: number | undefined;
  private readonly seen = new Map<number, Seen>();
  private gen = 0;
  private scanning = false;
  private queue: Promise<unknown> = Promise.resolve();
  private last: Last = { total: 0, unavailable: {}, withIo: false, uptimeTicks: 0 };
  /** when (the clock's ms) the last reading ended */
  private lastAt = -Infinity;
  private bootMs: number | undefined;
  private users: Map<number, string> | undefined;
  private readonly buf = Buffer.allocUnsafeSlow(4096);
  private readonly cmdBuf = Buffer.allocUnsafeSlow(COMMAND_MAX_CHARS * 4);

  constructor(o: LinuxProcessesOptions = {}) {
    this.root = o.procRoot ?? DEFAULT_PROC_ROOT;
    this.passwdPath = o.passwdPath ?? '/etc/passwd';
    this.maxTracked = o.maxTracked ?? MAX_TRACKED_PIDS;
    this.clock = o.clock ?? (() => performance.now());
    this.now = o.now ?? Date.now;
    this.pageSize = o.pageSize;
  }

  /**
   * The first `n` (1 to 100) by `sort`, read at once (an alert's cause). While a readAsync() is
   * under way, its figures so far are answered instead of reading /proc a second time over it.
   * Throws HwError UNAVAILABLE when /proc cannot be listed.
   */
  top(o: TopQuery): TopProcesses {
    if (this.scanning || this.recent(o)) return this.answer(o, this.last);
    const scan = this.open(o.sort === 'io');
    try {
      while (this.step(scan, Number.MAX_SAFE_INTEGER));
    } finally {
      scan.dir.closeSync();
    }
    return this.answer(o, this.end(scan));
  }

  /**
   * The same, yielding to the event loop every SCAN_CHUNK processes, so that a host with tens of
   * thousands of them does not hold up the agent's reports and alerts. Readings run one at a time.
   */
  topAsync(o: TopQuery): Promise<TopProcesses> {
    const run = this.queue.then(async () => {
      // Another order of a reading just made (the history's two lists): no second pass over /proc.
      if (this.recent(o)) return this.answer(o, this.last);
      const scan = this.open(o.sort === 'io');
      this.scanning = true;
      try {
        while (this.step(scan, SCAN_CHUNK)) await new Promise((r) => setImmediate(r));
      } finally {
        this.scanning = false;
        scan.dir.closeSync();
      }
      return this.answer(o, this.end(scan));
    });
    this.queue = run.catch(() => {});
    return run;
  }

  /** The last reading may answer `o` (by I/O only when it read io). */
  private recent(o: TopQuery): boolean {
    return o.maxAgeMs !== undefined && this.clock() - this.lastAt < o.maxAgeMs && (o.sort !== 'io' || this.last.withIo);
  }

  private open(withIo: boolean): Scan {
    let dir;
    try {
      dir = opendirSync(this.root, { bufferSize: 256 });
    } catch (err) {
      throw new HwError('UNAVAILABLE', `cannot list ${this.root}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    return { dir, gen: ++this.gen, uptimeTicks: this.uptimeTicks(), total: 0, untracked: 0, ioDenied: false, withIo };
  }

  /** Reads up to `max` processes; false when the listing is done. */
  private step(scan: Scan, max: number): boolean {
    const t = this.clock();
    const { gen, uptimeTicks } = scan;
    for (let k = 0; k < max; k++) {
      const d = scan.dir.readSync();
      if (!d) return false;
      const pid = pidOf(d.name);
      if (pid < 0) continue;
      scan.total++;
      let s = this.seen.get(pid);
      if (!s && this.seen.size >= this.maxTracked) {
        scan.untracked++;
        continue;
      }
      if (!this.readStat(pid)) {
        scan.total--; // gone since the listing: ordinary churn, not a process left out
        continue;
      }
      const start = statField.start;
      const ticks = statField.ticks;
      if (!s || s.start !== start) {
        // Never seen: its lifetime average (all of it falls since the previous reading if it is new).
        const age = Math.max(1, uptimeTicks - start);
        const cpu = uptimeTicks > 0 ? (ticks / age) * 100 : null;
        if (!s) {
          s = { start, ticks, io: IO_NOT_READ, ioAt: t, rssPages: 0, state: 0, cpu, ioRate: null, gen, at: t };
          this.seen.set(pid, s);
        } else {
          Object.assign(s, { start, ticks, io: IO_NOT_READ, ioAt: t, cpu, ioRate: null });
        }
        s.at = t;
      } else if (t - s.at >= MIN_DELTA_MS) {
        s.cpu = ((ticks - s.ticks) / CLK_TCK / ((t - s.at) / 1000)) * 100;
        s.ticks = ticks;
        s.at = t;
      }
      if (scan.withIo && this.readIoOf(pid, s, t, uptimeTicks) === -2) scan.ioDenied = true;
      s.rssPages = statField.rss;
      s.state = statField.state;
      s.gen = gen;
    }
    return true;
  }

  private end(scan: Scan): Last {
    for (const [pid, s] of this.seen) if (s.gen !== scan.gen) this.seen.delete(pid);
    const unavailable: Record<string, string> = {};
    if (scan.untracked) unavailable.processes = `${scan.untracked} of ${scan.total} processes not tracked (at most ${this.maxTracked} are)`;
    if (scan.ioDenied) unavailable.io = IO_DENIED_REASON;
    this.last = { total: scan.total, unavailable, withIo: scan.withIo, uptimeTicks: scan.uptimeTicks };
    this.lastAt = this.clock();
    return this.last;
  }

  private answer(o: { n: number; sort: ProcessSort }, last: Last): TopProcesses {
    const n = Math.max(1, Math.min(TOP_MAX, Math.floor(o.n)));
    const key = o.sort === 'cpu' ? (s: Seen) => s.cpu : o.sort === 'mem' ? (s: Seen) => s.rssPages : (s: Seen) => s.ioRate;
    const page = this.pageBytes();
    const processes: ProcessRow[] = [];
    let ioDenied = false;
    const t = this.clock();
    for (const [pid, s] of pickTop(this.seen, n, key)) {
      // A reading without io: the rows' own, read now.
      if (!last.withIo && this.readIoOf(pid, s, t, last.uptimeTicks) === -2) ioDenied = true;
      const row = this.row(pid, s, page);
      if (row) processes.push(row);
    }
    const unavailable = ioDenied ? { ...last.unavailable, io: IO_DENIED_REASON } : last.unavailable;
    return { at: this.now(), total: last.total, processes, ...(Object.keys(unavailable).length ? { unavailable: { ...unavailable } } : {}) };
  }

  private row(pid: number, s: Seen, page: number): ProcessRow | null {
    const st = this.readStatus(pid);
    if (!st) return null;
    const boot = this.bootTime();
    return {
      pid, name: st.name, user: st.uid === null ? null : this.userName(st.uid), command: this.readCmdline(pid),
      cpuPercent: s.cpu === null ? null : Math.round(s.cpu * 10) / 10, memBytes: s.rssPages * page,
      ioBytesPerSec: s.ioRate === null ? null : Math.round(s.ioRate), state: s.state ? String.fromCharCode(s.state) : null,
      startedAt: boot === null ? null : Math.round(boot + (s.start / CLK_TCK) * 1000),
    };
  }

  /** Reads a file into the shared buffer; the bytes read, or -1 (gone), -2 (not allowed). */
  private readInto(path: string, buf: Buffer): number {
    return readProcInto(path, buf);
  }

  private readStat(pid: number): boolean {
    const len = this.readInto(`${this.root}/${pid}/stat`, this.buf);
    return len > 0 && parseStat(this.buf, len);
  }

  /**
   * Reads a process's io at `t` into its Seen: the rate over the time since its previous io
   * reading (kept when that is under MIN_DELTA_MS), or its lifetime average at the first. Returns
   * what readIo returned.
   */
  private readIoOf(pid: number, s: Seen, t: number, uptimeTicks: number): number {
    if (s.io >= 0 && t - s.ioAt < MIN_DELTA_MS) return s.io;
    const io = this.readIo(pid);
    if (io < 0) s.ioRate = null;
    else if (s.io >= 0) s.ioRate = io >= s.io ? (io - s.io) / ((t - s.ioAt) / 1000) : null;
    else s.ioRate = uptimeTicks > 0 ? io / (Math.max(1, uptimeTicks - s.start) / CLK_TCK) : null;
    s.io = io;
    s.ioAt = t;
    return io;
  }

  /** read_bytes + write_bytes; -1 unreadable, -2 not allowed. */
  private readIo(pid: number): number {
    const len = this.readInto(`${this.root}/${pid}/io`, this.buf);
    if (len < 0) return len;
    const r = fieldAfter(this.buf, len, 'read_bytes:');
    const w = fieldAfter(this.buf, len, 'write_bytes:');
    return r < 0 || w < 0 ? -1 : r + w;
  }

  private readStatus(pid: number): { name: string; uid: number | null } | null {
    const len = this.readInto(`${this.root}/${pid}/status`, this.buf);
    if (len <= 0) return null;
    const text = this.buf.toString('utf8', 0, len);
    const name = /^Name:\t(.*)$/m.exec(text)?.[1] ?? '';
    const uid = /^Uid:\t\d+\t(\d+)/m.exec(text)?.[1];
    return { name: name.replace(/\\n/g, '\n').replace(/\\\\/g, '\\'), uid: uid === undefined ? null : Number(uid) };
  }

  /** NULs to spaces, cut; null for a kernel thread (empty cmdline) or a process gone. */
  private readCmdline(pid: number): string | null {
    const len = this.readInto(`${this.root}/${pid}/cmdline`, this.cmdBuf);
    if (len <= 0) return null;
    let end = len;
    while (end > 0 && this.cmdBuf[end - 1] === 0) end--;
    for (let i = 0; i < end; i++) if (this.cmdBuf[i] === 0) this.cmdBuf[i] = SP;
    const s = this.cmdBuf.toString('utf8', 0, end);
    return s.length > COMMAND_MAX_CHARS ? s.slice(0, COMMAND_MAX_CHARS) : s;
  }

  private uptimeTicks(): number {
    const len = this.readInto(join(this.root, 'uptime'), this.buf);
    if (len <= 0) return 0;
    const secs = Number.parseFloat(this.buf.toString('latin1', 0, len));
    return Number.isFinite(secs) ? Math.round(secs * CLK_TCK) : 0;
  }

  /** Boot time in ms since the epoch, from /proc/stat's btime (read once). */
  private bootTime(): number | null {
    if (this.bootMs === undefined) {
      try {
        const m = /^btime (\d+)$/m.exec(readFileSync(join(this.root, 'stat'), 'latin1'));
        this.bootMs = m ? Number(m[1]) * 1000 : Number.NaN;
      } catch {
        this.bootMs = Number.NaN;
      }
    }
    return Number.isNaN(this.bootMs) ? null : this.bootMs;
  }

  /**
   * The page size, from this process's own figures (statm counts pages, status says kB), read
   * once: Node has no sysconf. 4096 when they cannot be read.
   */
  private pageBytes(): number {
    if (this.pageSize !== undefined) return this.pageSize;
    this.pageSize = 4096;
    try {
      const pages = Number(readFileSync(join(this.root, 'self/statm'), 'latin1').split(' ')[1]);
      const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(join(this.root, 'self/status'), 'latin1'))?.[1]);
      const guess = (kb * 1024) / pages;
      // The two files are read a moment apart: the nearest power of two is the page.
      if (Number.isFinite(guess) && guess > 0) this.pageSize = 2 ** Math.round(Math.log2(guess));
    } catch {
      // a copy of /proc without self: keep 4096
    }
    return this.pageSize;
  }

  /** A uid's name from /etc/passwd, read once; the number itself when it is not there. */
  private userName(uid: number): string {
    if (!this.users) {
      this.users = new Map();
      try {
        for (const line of readFileSync(this.passwdPath, 'utf8').split('\n')) {
          const f = line.split(':');
          if (f.length >= 3 && /^\d+$/.test(f[2]!)) this.users.set(Number(f[2]), f[0]!);
        }
      } catch {
        // no passwd file (a container): uids are shown as numbers
      }
    }
    return this.users.get(uid) ?? String(uid);
  }
}

/** Reads a /proc file into `buf` (at most its length): the bytes read, or -1 (gone), -2 (not allowed). */
export function readProcInto(path: string, buf: Buffer): number {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'EACCES' || code === 'EPERM' ? -2 : -1;
  }
  try {
    let len = 0;
    while (len < buf.length) {
      const got = readSync(fd, buf, len, buf.length - len, len);
      if (got === 0) break;
      len += got;
    }
    return len;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'EACCES' || code === 'EPERM' ? -2 : -1;
  } finally {
    closeSync(fd);
  }
}

/** A /proc entry's pid, or -1 for any other entry. */
export function pidOf(name: string): number {
  if (name.length === 0 || name.length > 10) return -1;
  let v = 0;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    v = v * 10 + (c - 48);
  }
  return v;
}

/** What parseStat found (one object, reused). */
const statField = { state: 0, ticks: 0, start: 0, rss: 0 };

/**
 * `pid (comm) S ppid ...`: comm may hold spaces and parentheses, so fields are counted from the
 * last ')'. After it, field 3 (state) is the first; utime 14, stime 15, starttime 22, rss 24.
 */
export function parseStat(b: Buffer, len: number): boolean {
  let i = b.lastIndexOf(41 /* ')' */, len - 1);
  if (i < 0) return false;
  i += 2;
  statField.state = b[i]!;
  let field = 3;
  let utime = -1;
  let stime = -1;
  for (i++; i < len && field < 24;) {
    while (i < len && b[i] === SP) i++;
    field++;
    let v = 0;
    let neg = false;
    if (b[i] === 45) {
      neg = true;
      i++;
    }
    while (i < len && b[i]! >= 48 && b[i]! <= 57) v = v * 10 + (b[i++]! - 48);
    while (i < len && b[i] !== SP && b[i] !== NL) i++;
    if (neg) v = -v;
    if (field === 14) utime = v;
    else if (field === 15) stime = v;
    else if (field === 22) statField.start = v;
    else if (field === 24) statField.rss = Math.max(0, v);
  }
  if (field < 24 || utime < 0 || stime < 0) return false;
  statField.ticks = utime + stime;
  return true;
}

/** The number after `label` at a line start, or -1. */
function fieldAfter(b: Buffer, len: number, label: string): number {
  let i = 0;
  while (i < len) {
    if (startsAt(b, i, len, label)) {
      let j = i + label.length;
      while (j < len && b[j] === SP) j++;
      let v = 0;
      const from = j;
      while (j < len && b[j]! >= 48 && b[j]! <= 57) v = v * 10 + (b[j++]! - 48);
      return j === from ? -1 : v;
    }
    const nl = b.indexOf(NL, i);
    if (nl < 0 || nl >= len) return -1;
    i = nl + 1;
  }
  return -1;
}

function startsAt(b: Buffer, i: number, len: number, s: string): boolean {
  if (i + s.length > len) return false;
  for (let k = 0; k < s.length; k++) if (b[i + k] !== s.charCodeAt(k)) return false;
  return true;
}

/** The n entries with the largest key (null last), largest first, without sorting them all. */
function pickTop(seen: Map<number, Seen>, n: number, key: (s: Seen) => number | null): [number, Seen][] {
  const best: [number, Seen, number][] = [];
  for (const [pid, s] of seen) {
    const k = key(s) ?? -1;
    if (best.length === n && k <= best[n - 1]![2]) continue;
    let at = best.length;
    while (at > 0 && best[at - 1]![2] < k) at--;
    best.splice(at, 0, [pid, s, k]);
    if (best.length > n) best.pop();
  }
  return best.map(([pid, s]) => [pid, s]);
}
