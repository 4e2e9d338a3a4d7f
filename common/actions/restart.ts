// The `restart` command's action. The caller refuses it without --allow-restart and acknowledges to
// the manager before calling runRestart(): once shutdown starts there may be no time to answer.
import { spawn } from 'node:child_process';
import { HwError } from '../errors.ts';

export interface RestartCommand {
  file: string;
  args: string[];
  /** true for an operator's override, which is a command line for the platform's shell */
  shell: boolean;
}

export function restartCommand(platform: NodeJS.Platform, override?: string): RestartCommand {
  if (override && override.trim()) return { file: override, args: [], shell: true };
  if (platform === 'win32') return { file: 'shutdown', args: ['/r', '/t', '0'], shell: false };
  return { file: 'shutdown', args: ['-r', 'now'], shell: false };
}

export interface RestartStarted {
  pid: number;
  command: RestartCommand;
  /** Exit code of the command, for logging a refusal (not root...); null when killed by a signal. */
  exit: Promise<number | null>;
}

/**
 * Starts the restart command detached (its own process group, no stdio tied to ours), so that it
 * survives the agent being stopped by the shutdown it began. Rejects with RESTART_FAILED when it
 * cannot be started at all.
 */
export async function runRestart(platform: NodeJS.Platform = process.platform, override?: string): Promise<RestartStarted> {
  const command = restartCommand(platform, override);
  const child = spawn(command.file, command.args, { detached: true, stdio: 'ignore', windowsHide: true, shell: command.shell });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (err) => reject(new HwError('RESTART_FAILED', `cannot run ${command.file}: ${(err as NodeJS.ErrnoException).code ?? err.message}`, { cause: err })));
  });
  child.unref();
  return { pid: child.pid!, command, exit };
}
