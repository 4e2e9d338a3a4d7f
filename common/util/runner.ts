// The default Runner: execFile (no shell, so arguments need no quoting) with a timeout and an output
// cap. A non-zero exit is an answer, not an error: callers decide what the code means.
import { execFile } from 'node:child_process';
import { HwError } from '../errors.ts';

/** A program run through the default Runner (a log reader, a Windows reader): time limit and output cap. */
const RUN_TIMEOUT_MS = 15_000;
const RUN_MAX_BYTES = 8 * 1024 * 1024;

/** Runs a program and returns what it printed; injected so that Windows paths can be tested on Linux. */
export type Runner = (
  file: string,
  args: string[],
  options?: { timeoutMs?: number; maxBytes?: number },
) => Promise<{
  stdout: string;
  stderr: string;
  /** exit code; null when the program was killed (timeout, output too large, signal) */
  code: number | null;
  /** why `code` is null, e.g. "timed out after 10000 ms" */
  error?: string;
}>;

type ExecError = Error & { code?: string | number | null; killed?: boolean; signal?: NodeJS.Signals | null };

export const runProgram: Runner = (file, args, options = {}) => {
  const timeoutMs = options.timeoutMs ?? RUN_TIMEOUT_MS;
  const maxBytes = options.maxBytes ?? RUN_MAX_BYTES;
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { timeout: timeoutMs, maxBuffer: maxBytes, windowsHide: true, encoding: 'utf8' },
      (err: ExecError | null, stdout, stderr) => {
        if (!err) return resolve({ stdout, stderr, code: 0 });
        // The program could not be started at all: there is no answer to return.
        if (err.code === 'ENOENT' || err.code === 'EACCES') {
          return reject(new HwError('UNAVAILABLE', `${file}: ${err.code === 'ENOENT' ? 'not found' : 'not executable'}`, { cause: err }));
        }
        if (typeof err.code === 'number') return resolve({ stdout, stderr, code: err.code });
        let error: string;
        if (err.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') error = `output larger than ${maxBytes} bytes`;
        else if (err.killed && timeoutMs > 0) error = `timed out after ${timeoutMs} ms`;
        else if (err.signal) error = `killed by ${err.signal}`;
        else error = err.message;
        resolve({ stdout, stderr, code: null, error });
      },
    );
  });
};
