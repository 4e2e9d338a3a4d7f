// A real terminal for a test: a private tmux server (its own socket and config in a temp folder,
// never the user's tmux) runs one program in a fixed-size window; the test types keys and reads
// the screen back.

import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { tempDir, waitFor } from '../harness.helper.ts';

const exec = promisify(execFile);

/** Throws a one-line reason when tmux cannot run here (CI installs it: apt-get install tmux). */
export function requireTmux(): void {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
  } catch {
    throw new Error('tmux is needed for the console test and was not found: apt-get install tmux');
  }
}

export interface Cursor {
  x: number;
  y: number;
}

export class Terminal {
  private readonly dir = tempDir('hw-tmux-');
  private readonly socket = join(this.dir, 'sock');
  private readonly conf = join(this.dir, 'tmux.conf');
  private readonly statusFile = join(this.dir, 'status');
  private readonly pane = 'hw:0.0';

  /** Starts the program `argv` (as is: no shell line to quote) in a detached window of exactly
   *  `width` x `height`. */
  async start(argv: string[], opts: { width?: number; height?: number; cwd?: string } = {}): Promise<void> {
    // remain-on-exit keeps the last screen after the program ends, for the failure messages.
    writeFileSync(this.conf, 'set -g remain-on-exit on\nset -g status off\nset -g history-limit 10000\n');
    // tmux 3.3 sometimes marks the pane dead without ever learning the exit status
    // (#{pane_dead_status} stays empty), so a shell waits for the program and writes it down.
    const wrapper = ['sh', '-c', 'file=$1; shift; "$@"; echo $? > "$file"', 'sh', this.statusFile];
    await this.tmux('new-session', '-d', '-s', 'hw', '-x', String(opts.width ?? 200), '-y', String(opts.height ?? 50),
      ...(opts.cwd ? ['-c', opts.cwd] : []), '--', ...wrapper, ...argv);
  }

  /** Types text as is (no key names). */
  async type(text: string): Promise<void> {
    await this.tmux('send-keys', '-t', this.pane, '-l', text);
  }

  /** Presses named keys: Enter, Tab, C-u... */
  async press(...keys: string[]): Promise<void> {
    await this.tmux('send-keys', '-t', this.pane, ...keys);
  }

  /** The visible screen, one string a row, trailing spaces trimmed by tmux. */
  async screen(): Promise<string[]> {
    return (await this.tmux('capture-pane', '-p', '-t', this.pane)).replace(/\n$/, '').split('\n');
  }

  /** Everything printed so far: scrolled-off history then the screen, wrapped rows joined. */
  async history(): Promise<string[]> {
    return (await this.tmux('capture-pane', '-p', '-J', '-S', '-', '-t', this.pane)).replace(/\n$/, '').split('\n');
  }

  async cursor(): Promise<Cursor> {
    const [x, y] = (await this.tmux('display-message', '-p', '-t', this.pane, '#{cursor_x} #{cursor_y}')).trim().split(' ').map(Number);
    return { x: x!, y: y! };
  }

  /** The pane's title, as a program sets it with OSC 0 or 2 (tmux starts it as the host name). */
  async title(): Promise<string> {
    return (await this.tmux('display-message', '-p', '-t', this.pane, '#{pane_title}')).replace(/\n$/, '');
  }

  /** How the program ended ("exit 0", "signal 9"), or null while it runs. */
  ended(): string | null {
    const text = existsSync(this.statusFile) ? readFileSync(this.statusFile, 'utf8') : '';
    if (!text.endsWith('\n')) return null;
    const code = Number(text);
    return code > 128 ? `signal ${code - 128}` : `exit ${code}`;
  }

  /** Polls the screen (or the whole history) until `check` returns a truthy value; on timeout the
   *  error shows what the terminal showed. */
  async until<T>(check: (rows: string[]) => T | Promise<T>, what: string, opts: { ms?: number; history?: boolean } = {}): Promise<NonNullable<T>> {
    let last: string[] = [];
    try {
      return await waitFor(async () => check((last = opts.history ? await this.history() : await this.screen())), opts.ms ?? 10_000, what);
    } catch (err) {
      const shown = last.join('\n').trimEnd().split('\n').slice(-20).join('\n');
      throw new Error(`${(err as Error).message}; the terminal showed:\n${shown}`);
    }
  }

  /** Ends the server and whatever still runs in it. */
  async kill(): Promise<void> {
    await this.tmux('kill-server').catch(() => {});
  }

  private async tmux(...args: string[]): Promise<string> {
    const env = { ...process.env };
    delete env.TMUX; // started from inside a user's tmux: still our own server
    delete env.TMUX_PANE;
    const { stdout } = await exec('tmux', ['-S', this.socket, '-f', this.conf, ...args], { env, timeout: 5000 });
    return stdout;
  }
}
