// Counts the processes whose name or command line matches globs, for `metric: process` rules.
// Linux: lists /proc and reads each process's comm (its name: the cheapest file there) into one
// reused buffer; its command line only when a rule globs command lines, or when the name is 15
// characters long (the kernel cuts names there: argv[0]'s base name is then tried too); its stat
// only when it matched, to leave zombies out (they no longer run). Windows: `tasklist /fo csv /nh` (no /v: names only, far cheaper
// than the top listing), case-insensitive, "nginx" matching nginx.exe; command lines are not
// readable there, so a match_cmdline rule is not judged on Windows.
import { opendirSync } from 'node:fs';
import { HwError } from '../errors.ts';
import { globMatch } from '../rules/selector.ts';
import type { Runner } from '../util/runner.ts';
import { DEFAULT_PROC_ROOT } from './proc-linux.ts';
import { pidOf, readProcInto } from './procs-linux.ts';
import { parseTasklistVerbose } from './procs-windows.ts';

/** One rule's globs: on the name, or on the command line. */
export interface ProcessQuery {
  names?: string[];
  cmdlines?: string[];
}

export interface ProcessCounter {
  /** For each query, how many processes match (null: it cannot be told on this host). */
  count(queries: ProcessQuery[]): Promise<(number | null)[]>;
  /** why a command-line query is null here (Windows), for the log */
  cmdlineUnreadable?: string;
}

/** The kernel keeps this many characters of a name (TASK_COMM_LEN - 1). */
const COMM_MAX = 15;
/** Bytes of a command line matched (the rest is cut); comm and stat fit in the smaller buffer. */
const CMDLINE_MAX = 4096;
const STAT_MAX = 1024;
/** Processes read between two yields to the event loop. */
const SCAN_CHUNK = 1000;
const TASKLIST_TIMEOUT_MS = 10_000;
const TASKLIST_MAX_BYTES = 16 * 1024 * 1024;

export class LinuxProcessCounter implements ProcessCounter {
  private readonly root: string;
  /** comm and stat, one at a time */
  private readonly buf = Buffer.allocUnsafeSlow(STAT_MAX);
  private readonly cmd = Buffer.allocUnsafeSlow(CMDLINE_MAX);

  constructor(o: { procRoot?: string } = {}) {
    this.root = o.procRoot ?? DEFAULT_PROC_ROOT;
  }

  /**
   * Yields to the event loop every SCAN_CHUNK processes, so that a host with tens of thousands of
   * them does not hold up the agent's reports and alerts. One count at a time (the buffers are
   * shared). Throws HwError UNAVAILABLE when /proc cannot be listed.
   */
  async count(queries: ProcessQuery[]): Promise<number[]> {
    const counts = queries.map(() => 0);
    let dir;
    try {
      dir = opendirSync(this.root, { bufferSize: 256 });
    } catch (err) {
      throw new HwError('UNAVAILABLE', `cannot list ${this.root}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    try {
      let n = 0;
      for (let d = dir.readSync(); d; d = dir.readSync()) {
        if (++n % SCAN_CHUNK === 0) await new Promise((r) => setImmediate(r));
        const pid = pidOf(d.name);
        if (pid < 0) continue;
        const name = this.nameOf(pid);
        if (name === null) continue; // gone since the listing
        let cmd: { argv0: string; line: string } | null | undefined;
        const cmdline = () => (cmd !== undefined ? cmd : (cmd = this.cmdlineOf(pid)));
        let alive: boolean | undefined;
        for (const [i, q] of queries.entries()) {
          let hit = false;
          if (q.names) {
            hit = q.names.some((g) => globMatch(g, name));
            if (!hit && name.length === COMM_MAX) {
              const a0 = cmdline()?.argv0;
              hit = !!a0 && a0.startsWith(name) && q.names.some((g) => globMatch(g, a0));
            }
          } else if (q.cmdlines) {
            const line = cmdline()?.line;
            hit = line !== undefined && q.cmdlines.some((g) => globMatch(g, line));
          }
          if (hit && (alive ??= this.running(pid))) counts[i]!++;
        }
      }
    } finally {
      dir.closeSync();
    }
    return counts;
  }

  /** The kernel's name of the process (comm), or null when it is gone. */
  private nameOf(pid: number): string | null {
    const len = readProcInto(`${this.root}/${pid}/comm`, this.buf);
    if (len <= 0) return null;
    return this.buf.toString('utf8', 0, this.buf[len - 1] === 10 ? len - 1 : len);
  }

  /** Not a zombie (nor dead, nor gone): `pid (name) S ...`, the state after the last ')'. */
  private running(pid: number): boolean {
    const len = readProcInto(`${this.root}/${pid}/stat`, this.buf);
    const close = len > 0 ? this.buf.lastIndexOf(41 /* ) */, len - 1) : -1;
    if (close < 0) return false;
    const state = this.buf[close + 2];
    return state !== 90 /* Z */ && state !== 88 /* X */;
  }

  /** argv[0]'s base name and the arguments joined by spaces; null for a kernel thread or a process gone. */
  private cmdlineOf(pid: number): { argv0: string; line: string } | null {
    const len = readProcInto(`${this.root}/${pid}/cmdline`, this.cmd);
    if (len <= 0) return null;
    let end = len;
    while (end > 0 && this.cmd[end - 1] === 0) end--;
    const nul = this.cmd.indexOf(0);
    const first = this.cmd.toString('utf8', 0, nul < 0 || nul > end ? end : nul);
    for (let i = 0; i < end; i++) if (this.cmd[i] === 0) this.cmd[i] = 32;
    return { argv0: first.slice(first.lastIndexOf('/') + 1), line: this.cmd.toString('utf8', 0, end) };
  }
}

export class WindowsProcessCounter implements ProcessCounter {
  readonly cmdlineUnreadable = 'command lines are not readable on Windows (tasklist does not say): match_cmdline rules are not judged here';

  constructor(private readonly runner: Runner) {}

  async count(queries: ProcessQuery[]): Promise<(number | null)[]> {
    const r = await this.runner('tasklist', ['/fo', 'csv', '/nh'], { timeoutMs: TASKLIST_TIMEOUT_MS, maxBytes: TASKLIST_MAX_BYTES });
    if (r.code !== 0) throw new HwError('UNAVAILABLE', `tasklist failed: ${r.code === null ? (r.error ?? 'killed') : `exit code ${r.code}`}`);
    const names = parseTasklistVerbose(r.stdout).map((p) => p.name.toLowerCase());
    return queries.map((q) => {
      if (!q.names) return null;
      const globs = q.names.map((g) => g.toLowerCase());
      return names.filter((n) => globs.some((g) => globMatch(g, n) || (n.endsWith('.exe') && globMatch(g, n.slice(0, -4))))).length;
    });
  }
}

/** The counter for this platform; none elsewhere (the agent then does not name process-rules). */
export function processCounter(platform: NodeJS.Platform, runner: Runner): ProcessCounter | undefined {
  if (platform === 'linux') return new LinuxProcessCounter();
  if (platform === 'win32') return new WindowsProcessCounter(runner);
  return undefined;
}
