// The `logs` command: the last N lines of given files, or of the system log found by trying the
// sources PACKAGING.md lists in order, moving on when one fails or prints nothing.
import { MAX_LOG_LINES } from '../wire/constants.ts';
import { HwError } from '../errors.ts';
import { runProgram, type Runner } from '../util/runner.ts';
import { readTail as defaultReadTail } from './tail.ts';
import { formatWinEvent, parseWevtutilText } from './wevtutil.ts';

/** Bytes of a file's tail read for one answer; past it the lines are cut (`truncated`). */
export const MAX_LOG_BYTES = 512 * 1024;
/** A log program (journalctl, logread, dmesg, wevtutil): time limit and output read before the tail is cut. */
const LOG_TIMEOUT_MS = 15_000;
const LOG_RUN_MAX_BYTES = 32 * 1024 * 1024;

export interface LogsResult {
  /** where the lines came from, e.g. "journalctl", "/var/log/syslog", "wevtutil System" */
  source: string;
  lines: string[];
  /** true when lines or bytes were capped */
  truncated?: boolean;
}

export type ReadTail = (path: string, maxLines: number, maxBytes: number) => Promise<string[]>;

export interface ReadLogsOptions {
  lines: number;
  logFiles?: string[];
  platform?: NodeJS.Platform;
  runner?: Runner;
  readTail?: ReadTail;
}

const SYSLOG_FILES = ['/var/log/syslog', '/var/log/messages', '/var/log/kern.log'];
/** What journalctl prints instead of entries when it has none; not log lines. */
const JOURNAL_NOISE = /^(No journal files were found\.?|-- No entries --)$/;

/** Keeps the newest lines that fit in `maxBytes` (counting a newline each); cuts a lone huge line. */
export function capBytes(lines: string[], maxBytes: number): { lines: string[]; truncated: boolean } {
  let total = 0;
  let i = lines.length;
  while (i > 0) {
    const size = Buffer.byteLength(lines[i - 1]!) + 1;
    if (total + size > maxBytes) break;
    total += size;
    i--;
  }
  if (i === 0) return { lines, truncated: false };
  if (i === lines.length) {
    // Even the newest line alone is too big: keep its end, cut on a character boundary.
    const buf = Buffer.from(lines[lines.length - 1]!).subarray(-(maxBytes - 1));
    let s = 0;
    while (s < buf.length && (buf[s]! & 0xc0) === 0x80) s++;
    return { lines: [buf.subarray(s).toString('utf8')], truncated: true };
  }
  return { lines: lines.slice(i), truncated: true };
}

/** Why a source failed, without repeating its name (errors from tail and the runner start with it). */
function whyFailed(name: string, err: unknown): string {
  if (err instanceof HwError && err.code === 'FILE_NOT_FOUND') return 'not found';
  const msg = err instanceof Error ? err.message : String(err);
  // "wevtutil System" fails with "wevtutil: not found": strip the program name too.
  for (const prefix of [`${name}: `, `${name.split(' ')[0]}: `]) if (msg.startsWith(prefix)) return msg.slice(prefix.length);
  return msg;
}

/** Runs a log program; its non-empty output lines, or throws saying why there are none. */
async function runLines(runner: Runner, file: string, args: string[]): Promise<string[]> {
  const r = await runner(file, args, { timeoutMs: LOG_TIMEOUT_MS, maxBytes: LOG_RUN_MAX_BYTES });
  const stderr = r.stderr.trim().split(/\r?\n/)[0] ?? '';
  if (r.code !== 0) {
    const why = r.code === null ? (r.error ?? 'killed') : `exit code ${r.code}`;
    throw new Error(`${why}${stderr ? ` (${stderr})` : ''}`);
  }
  const lines = r.stdout.split(/\r?\n/).filter((l) => l.trim() !== '' && !JOURNAL_NOISE.test(l.trim()));
  if (lines.length === 0) throw new Error(`printed nothing${stderr ? ` (${stderr})` : ''}`);
  return lines;
}

interface Source {
  name: string;
  read: () => Promise<string[]>;
}

function linuxSources(n: number, runner: Runner, readTail: ReadTail): Source[] {
  return [
    { name: 'journalctl', read: () => runLines(runner, 'journalctl', ['-n', String(n), '-q', '--no-pager', '-o', 'short-iso']) },
    ...SYSLOG_FILES.map((path) => ({
      name: path,
      read: async () => {
        const lines = await readTail(path, n, MAX_LOG_BYTES + 1);
        if (lines.length === 0) throw new Error('empty');
        return lines;
      },
    })),
    // busybox logread and dmesg print their whole buffer; the tail is taken after.
    { name: 'logread', read: () => runLines(runner, 'logread', []) },
    { name: 'dmesg', read: () => runLines(runner, 'dmesg', []) },
  ];
}

function windowsSources(n: number, runner: Runner): Source[] {
  return [
    {
      name: 'wevtutil System',
      read: async () => {
        const out = await runLines(runner, 'wevtutil', ['qe', 'System', `/c:${n}`, '/rd:true', '/f:text']);
        const events = parseWevtutilText(out.join('\n'));
        if (events.length === 0) throw new Error('printed no events');
        // /rd:true lists newest first; reverse so the newest is last, as every other source has it.
        return events.reverse().map(formatWinEvent);
      },
    },
  ];
}

async function readFiles(files: string[], n: number, readTail: ReadTail): Promise<string[]> {
  if (files.length === 1) return readTail(files[0]!, n, MAX_LOG_BYTES + 1);
  // Several files: each one's tail under a header, as `tail -n N a b` prints them.
  const out: string[] = [];
  for (const f of files) out.push(`==> ${f} <==`, ...(await readTail(f, n, MAX_LOG_BYTES + 1)));
  return out;
}

export async function readLogs(opts: ReadLogsOptions): Promise<LogsResult> {
  if (!Number.isInteger(opts.lines) || opts.lines < 1) throw new HwError('BAD_ARGS', `lines must be a positive integer, got ${opts.lines}`);
  const n = Math.min(opts.lines, MAX_LOG_LINES);
  const linesCapped = opts.lines > MAX_LOG_LINES;
  const runner = opts.runner ?? runProgram;
  const readTail = opts.readTail ?? defaultReadTail;
  const finish = (source: string, lines: string[], linesTruncated: boolean): LogsResult => {
    const capped = capBytes(lines, MAX_LOG_BYTES);
    const truncated = linesTruncated || capped.truncated;
    return truncated ? { source, lines: capped.lines, truncated } : { source, lines: capped.lines };
  };

  if (opts.logFiles && opts.logFiles.length > 0) {
    const all = await readFiles(opts.logFiles, n, readTail);
    return finish(opts.logFiles.join(', '), all.slice(-MAX_LOG_LINES), linesCapped || all.length > MAX_LOG_LINES);
  }

  const platform = opts.platform ?? process.platform;
  const sources = platform === 'win32' ? windowsSources(n, runner) : linuxSources(n, runner, readTail);
  const tried: string[] = [];
  for (const s of sources) {
    try {
      return finish(s.name, (await s.read()).slice(-n), linesCapped);
    } catch (err) {
      tried.push(`${s.name}: ${whyFailed(s.name, err)}`);
    }
  }
  throw new HwError('LOGS_UNAVAILABLE', `no system log could be read; tried ${tried.join('; ')}`);
}
