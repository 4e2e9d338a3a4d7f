// Runs a cac program the way every command of ours behaves: one-line errors with a code, no stack
// for expected ones, and an exit code per kind of failure.

import type { CAC } from 'cac';
import { HwError, isHwError } from '../errors.ts';
import { durationMs, sizeBytes } from '../util/units.ts';
import { exitCodeFor } from './exit-codes.ts';
import { inert } from '../util/inert.ts';

export async function runCli(cli: CAC, argv: string[], program: string): Promise<void> {
  // `manager agents | head`: a reader that goes away is not an error worth a stack trace.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw err;
    });
  }
  try {
    cli.parse(argv, { run: false });
    if (cli.options.help || cli.options.version) return;
    await cli.runMatchedCommand();
  } catch (err) {
    const e = isHwError(err) ? err : fromCac(err);
    // One line, and inert: a message may quote an agent's name or words.
    process.stderr.write(`${program}: ${inert(e.message)} [${inert(e.code)}]\n`);
    if (e.code === 'INTERNAL' && process.env.HOSTWATCH_DEBUG) process.stderr.write(`${(err as Error).stack}\n`);
    process.exitCode = exitCodeFor(e.code);
  }
}

function fromCac(err: unknown): HwError {
  const e = err as Error;
  if (e?.name === 'CACError') {
    let msg = e.message.replace(/`/g, '');
    const unused = /^Unused args: (.*)$/.exec(msg);
    if (unused) msg = `unexpected argument(s) ${unused[1]}: see --help`;
    else msg = `${msg.charAt(0).toLowerCase()}${msg.slice(1)}: see --help`;
    return new HwError('BAD_FLAG', msg);
  }
  return new HwError('INTERNAL', e?.message ?? String(err));
}

/** A flag given twice arrives as an array; for single-valued flags the last one wins, as usual. */
export function last(v: unknown): unknown {
  return Array.isArray(v) ? v[v.length - 1] : v;
}

/** A numeric flag within bounds (whole with `integer`), or a BAD_FLAG error naming it. */
export function numberFlag(v: unknown, flag: string, min: number, max: number, integer = false): number {
  const n = typeof v === 'number' || (typeof v === 'string' && v.trim() !== '') ? Number(v) : NaN;
  if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw new HwError('BAD_FLAG', `${flag}: "${String(v)}" must be a ${integer ? 'whole ' : ''}number from ${min} to ${max}`);
  }
  return n;
}

/** On SIGINT or SIGTERM (the first only): say so, run `stop`, then exit 0. */
export function exitOnSignal(what: string, stop: () => Promise<void>): (why: string) => void {
  let stopping = false;
  const onSignal = (sig: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n${sig}: stopping${what ? ` (${what})` : ''}\n`);
    void stop().then(() => process.exit(0));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // The same stop for a reason other than a signal (a stop request).
  return onSignal;
}

/** A duration flag (retention, timeouts) within bounds in ms, else BAD_FLAG naming the flag. */
export function durationFlag(v: unknown, flag: string, min: number, max: number): number {
  let ms: number;
  try {
    ms = durationMs(v, flag);
  } catch (err) {
    throw new HwError('BAD_FLAG', (err as Error).message);
  }
  if (ms < min || ms > max) throw new HwError('BAD_FLAG', `${flag}: "${String(v)}" must be from ${spoken(min)} to ${spoken(max)}`);
  return ms;
}

/** A size flag in bytes (64k, 32M, 1G or a number) within bounds, else BAD_FLAG naming the flag. */
export function sizeFlag(v: unknown, flag: string, min: number, max: number): number {
  let n: number;
  try {
    n = sizeBytes(v, flag);
  } catch (err) {
    throw new HwError('BAD_FLAG', (err as Error).message);
  }
  if (n < min || n > max) throw new HwError('BAD_FLAG', `${flag}: "${String(v)}" must be from ${min} to ${max} bytes`);
  return n;
}

/** 90 s, 10 min, 1 h, 30 days: a bound as a person would say it. */
function spoken(ms: number): string {
  for (const [unit, size] of [['days', 86_400_000], ['h', 3_600_000], ['min', 60_000], ['s', 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size} ${unit}`;
  }
  return `${ms / 1000} s`;
}

/** A repeatable flag's values (each given a value). */
export function list(v: unknown, flag: string): string[] {
  if (v === undefined) return [];
  return [v].flat().map((x) => {
    if (x === true || x === '') throw new HwError('BAD_FLAG', `${flag} needs a value`);
    return String(x);
  });
}

type HelpSection = { title?: string; body: string };

/**
 * cac's help made to answer questions: a `--no-x` flag loses the "(default: true)" that reads as
 * "x is off by default" (its description says what the default is), the serve command without a
 * name is called "(no command)" (or, when it is the only one, not listed), one line says how to get
 * a command's help instead of one per command, examples shown as commands, and no line ends in spaces.
 */
export function tidyHelp(program: string, extra: HelpSection[] = []): (sections: HelpSection[]) => HelpSection[] {
  return (sections) => {
    const out: HelpSection[] = [];
    const commands = sections.find((s) => s.title === 'Commands');
    const onlyNameless = !!commands && commands.body.split('\n').every((r) => /^ {3}/.test(r));
    for (const s of sections) {
      if (s.title === 'Commands') {
        if (onlyNameless) continue;
        // Names and descriptions re-aligned: "(no command)" may be longer than every name.
        const rows = s.body.split('\n').map((r) => {
          if (/^ {3}/.test(r)) return { name: '(no command)', text: r.trim() };
          const gap = 2 + r.slice(2).search(/ {2}\S/);
          return { name: r.slice(2, gap), text: r.slice(gap).trim() };
        });
        const width = Math.max(...rows.map((x) => x.name.length));
        out.push({ ...s, body: rows.map((x) => `  ${x.name.padEnd(width)}  ${x.text}`).join('\n') });
      } else if (s.title?.startsWith('For more info')) {
        if (!onlyNameless) out.push({ title: 'Help on one command', body: `  $ ${program} <command> --help` });
      } else if (s.title === 'Options') {
        out.push({ ...s, body: s.body.split('\n').map((r) => (/^\s+--no-/.test(r) ? r.replace(/ \(default: true\)\s*$/, '') : r).trimEnd()).join('\n') });
      } else if (s.title === 'Examples') {
        out.push({ ...s, body: s.body.split('\n').map((r) => (r.startsWith(' ') ? r : `  $ ${r}`)).join('\n') });
      } else {
        out.push(s);
      }
    }
    return [...out, ...extra];
  };
}
