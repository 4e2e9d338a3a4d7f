// Runs a cac program the way every command of ours behaves: one-line errors with a code, no stack
// for expected ones, and an exit code per kind of failure.

import type { CAC } from 'cac';
import { HwError, isHwError } from '../errors.ts';
import { exitCodeFor } from './exit-codes.ts';

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
    process.stderr.write(`${program}: ${e.message} [${e.code}]\n`);
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
export function exitOnSignal(what: string, stop: () => Promise<void>): void {
  let stopping = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n${sig}: stopping${what ? ` (${what})` : ''}\n`);
    void stop().then(() => process.exit(0));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

/** A duration flag (retention): a duration like 36h or 30d within bounds, else BAD_FLAG. */
export function durationFlag(v: unknown, flag: string, min: number, max: number): number {
  let ms: number;
  try {
    ms = parseDuration(v, flag);
  } catch (err) {
    throw new HwError('BAD_FLAG', (err as Error).message);
  }
  if (ms < min || ms > max) throw new HwError('BAD_FLAG', `${flag} must be from ${min / 3600_000} h to ${max / 86400_000} days`);
  return ms;
}

/** A repeatable flag's values (each given a value). */
export function list(v: unknown, flag: string): string[] {
  if (v === undefined) return [];
  return [v].flat().map((x) => {
    if (x === true || x === '') throw new HwError('BAD_FLAG', `${flag} needs a value`);
    return String(x);
  });
}

/** A duration flag like 30s, 10m, 2h or 1d (seconds without a unit), in ms. */
export function parseDuration(v: unknown, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(s|m|h|d)?$/.exec(String(v).trim());
  if (!m) throw new HwError('BAD_ARGS', `${flag}: "${String(v)}" is not a duration like 30s, 10m, 2h or 1d`);
  const unit = { s: 1, m: 60, h: 3600, d: 86400 }[(m[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit * 1000;
}
