// The switch to a verified new executable and the watch that rolls it back. Steps, each leaving a
// runnable executable at <exe> whatever is killed when (the rename is atomic, the folder fsynced):
//
//   idle        <exe> = A                                   no upgrade.json
//   receiving   <exe> = A, <exe>.new growing                (upgrade-receiver.ts; .new removed on loss)
//   switching   <exe> = A, <exe>.previous = A (hard link)   upgrade.json { phase: switching, deadline, watcher }
//   probation   <exe> = B (renamed over), .previous = A     upgrade.json { phase: probation, deadline, watcher }
//               B started (detached); the watcher (A's process, its agent stopped) waits for
//               B to write { phase: confirmed } once welcomed, for B to exit, or for the deadline
//   confirmed   <exe> = B                                   the watcher exits 0: done
//   rolled-back <exe> = A (.previous renamed back)          { phase: rolled-back, reason }; A started
//
// On Windows a running executable cannot be replaced or deleted, only renamed ("aside" mode): the
// switching step renames <exe> (A, running) to <exe>.previous, then <exe>.new to <exe>; a rollback
// renames a running B aside to <exe>.failed before it puts A back. Between those two renames <exe>
// is missing for an instant: the task's .cmd (install.ts, serviceCmd) renames .previous back
// before it starts <exe>, so a restart there still runs A.
//
// The running agent reads upgrade.json at its welcome (upgrades.ts): B in switching/probation
// confirms; A there finds the switch undone and reports it rolled back. B also guards its own
// probation (upgrade-probation.ts): when the watcher is gone (killed, or the host restarted the
// service) and the deadline passes unconfirmed, B puts A back itself.

import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { chmodSync, copyFileSync, existsSync, linkSync, openSync, closeSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { readState, syncDir, writeDurable } from '../fs/durable.ts';

export const UPGRADE_STATE_FILE = 'upgrade.json';
export const DEFAULT_PROBATION_MS = 60_000;

export type UpgradePhase = 'switching' | 'probation' | 'confirmed' | 'rolled-back' | 'reported';

export interface UpgradeState {
  phase: UpgradePhase;
  from: string;
  to: string;
  exe: string;
  at: number;
  deadline?: number;
  /** the pid of the process that does the switch and watches B (A's own) */
  watcher?: number;
  reason?: string;
  /** who asked, as the manager said (for its record) */
  by?: string;
}

export function readUpgradeState(stateDir: string): UpgradeState | undefined {
  return readState(join(stateDir, UPGRADE_STATE_FILE), (t) => {
    const v = JSON.parse(t) as UpgradeState;
    if (typeof v !== 'object' || v === null || typeof v.phase !== 'string' || typeof v.to !== 'string') throw new Error('not an upgrade state');
    return v;
  }, 'delete it: an upgrade in progress is then forgotten (the executable in place runs)');
}

export function writeUpgradeState(stateDir: string, s: UpgradeState): void {
  writeDurable(join(stateDir, UPGRADE_STATE_FILE), JSON.stringify(s) + '\n');
}

/** The file system calls of the switch, injectable to stop it between any two. */
export interface SwitchFs {
  link(from: string, to: string): void;
  rename(from: string, to: string): void;
  rm(path: string): void;
  exists(path: string): boolean;
  syncDir(dir: string): void;
  chmod(path: string, mode: number): void;
  readState(dir: string): UpgradeState | undefined;
  writeState(dir: string, s: UpgradeState): void;
}

export const realSwitchFs: SwitchFs = {
  link: (from, to) => {
    try {
      linkSync(from, to);
    } catch {
      copyFileSync(from, to); // a file system without hard links
      const fd = openSync(to, 'r');
      closeSync(fd);
    }
  },
  rename: (from, to) => renameSync(from, to),
  rm: (p) => rmSync(p, { force: true }),
  exists: (p) => existsSync(p),
  syncDir: (d) => syncDir(d),
  chmod: (p, m) => chmodSync(p, m),
  readState: (d) => readUpgradeState(d),
  writeState: (d, s) => writeUpgradeState(d, s),
};

export interface Started {
  pid: number | undefined;
  /** resolves with the exit code (or the signal's name) when it exits */
  exited: Promise<number | string | null>;
  kill(signal?: NodeJS.Signals): void;
}
export type Starter = (cmd: string, args: string[]) => Started;

/** Starts an agent detached from this process, so it outlives the watcher. */
export const detachedStarter: Starter = (cmd, args) => {
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', 'inherit', 'inherit'] });
  const exited = new Promise<number | string | null>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal));
    child.once('error', () => resolve(null));
  });
  child.unref();
  return { pid: child.pid, exited, kill: (s) => { try { child.kill(s); } catch { /* gone */ } } };
};

/** How this program is started again: the executable (a single-file build) or node and the script. */
export function selfCommand(): { exe: string; cmd: string; args: string[] } {
  const sea = isSea();
  if (sea) return { exe: process.execPath, cmd: process.execPath, args: process.argv.slice(2) };
  const script = process.argv[1]!;
  return { exe: script, cmd: process.execPath, args: [...process.execArgv, script, ...process.argv.slice(2)] };
}

function isSea(): boolean {
  try {
    // node:sea exists from Node 20; createRequire reaches it from an ES module and a bundle alike
    return (createRequire(process.execPath)('node:sea') as { isSea?: () => boolean }).isSea?.() ?? false;
  } catch {
    return false;
  }
}

/** A rename Windows refuses for a moment (a file still open by a process that just exited): tried for up to ~5 s. */
async function retried(step: () => void, tries = 20, waitMs = 250): Promise<void> {
  for (let i = 1; ; i++) {
    try {
      return step();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (i >= tries || (code !== 'EBUSY' && code !== 'EPERM' && code !== 'EACCES')) throw err;
      await new Promise((r) => setTimeout(r, waitMs));
    }
  }
}

export interface SwitchOptions {
  exe: string;
  stateDir: string;
  /** how to start <exe> (A or B: the same command, the file changed) */
  command: { cmd: string; args: string[] };
  /** rename the running <exe> aside instead of over (default: on Windows) */
  aside?: boolean;
  from: string;
  to: string;
  by?: string;
  probationMs?: number;
  pollMs?: number;
  fs?: SwitchFs;
  start?: Starter;
  now?: () => number;
  log?: (line: string) => void;
}

export type SwitchOutcome = { ok: true } | { ok: false; reason: string };

export class UpgradeSwitch {
  private readonly o: SwitchOptions;
  private readonly fs: SwitchFs;
  private readonly now: () => number;

  constructor(o: SwitchOptions) {
    this.o = o;
    this.fs = o.fs ?? realSwitchFs;
    this.now = o.now ?? Date.now;
  }

  get newPath(): string {
    return `${this.o.exe}.new`;
  }

  get previousPath(): string {
    return `${this.o.exe}.previous`;
  }

  private get aside(): boolean {
    return this.o.aside ?? process.platform === 'win32';
  }

  private state(phase: UpgradePhase, extra: Partial<UpgradeState> = {}): void {
    this.fs.writeState(this.o.stateDir, {
      phase, from: this.o.from, to: this.o.to, exe: this.o.exe, at: this.now(), ...(this.o.by ? { by: this.o.by } : {}), ...extra,
    });
  }

  private deadline(): number {
    return this.now() + (this.o.probationMs ?? DEFAULT_PROBATION_MS);
  }

  /**
   * switching: A kept as <exe>.previous (a hard link: <exe> itself never moves). The deadline is
   * written already: a B put in place by the next step finds it even if this process dies before
   * it writes probation.
   */
  keepPrevious(): void {
    this.state('switching', { deadline: this.deadline(), watcher: process.pid });
    this.fs.rm(this.previousPath);
    if (!this.aside) this.fs.link(this.o.exe, this.previousPath);
    this.fs.syncDir(dirname(this.o.exe));
  }

  /** probation: B renamed over <exe> in one step (aside: A renamed to .previous, then B in). */
  swap(): number {
    this.fs.chmod(this.newPath, 0o755);
    if (this.aside) this.fs.rename(this.o.exe, this.previousPath);
    this.fs.rename(this.newPath, this.o.exe);
    this.fs.syncDir(dirname(this.o.exe));
    const deadline = this.deadline();
    this.state('probation', { deadline, watcher: process.pid });
    return deadline;
  }

  /** Starts B and waits for its confirmation, its exit or the deadline; rolls back on the last two. */
  async watch(deadline: number): Promise<SwitchOutcome> {
    const start = this.o.start ?? detachedStarter;
    const b = start(this.o.command.cmd, this.o.command.args);
    this.o.log?.(`started the new agent ${this.o.to} (pid ${b.pid ?? '?'}); waiting until ${new Date(deadline).toISOString()} for it to be welcomed`);
    let exit: number | string | null | undefined;
    let exitedYet = false;
    void b.exited.then((c) => { exit = c; exitedYet = true; });
    const pollMs = this.o.pollMs ?? 250;
    for (;;) {
      const s = this.safeRead();
      if (s?.phase === 'confirmed') return { ok: true };
      if (exitedYet) return this.rollback(`the new agent exited (${exit === null ? 'could not start' : typeof exit === 'number' ? `code ${exit}` : exit}) before it was welcomed`, undefined);
      if (this.now() >= deadline) return this.rollback(`the new agent was not connected and welcomed within ${Math.round((this.o.probationMs ?? DEFAULT_PROBATION_MS) / 1000)} s`, b);
      await new Promise<void>((r) => {
        const t = setTimeout(r, pollMs);
        void b.exited.then(() => { clearTimeout(t); r(); });
      });
    }
  }

  /** Stops B, renames A back over <exe>, starts A. */
  async rollback(reason: string, b: Started | undefined): Promise<SwitchOutcome> {
    this.o.log?.(`rolling back to ${this.o.from}: ${reason}`);
    if (b) {
      b.kill('SIGTERM');
      // Not unref'd: this wait is all that keeps the watcher alive (the child is detached).
      let timer: NodeJS.Timeout | undefined;
      const gone = await Promise.race([b.exited.then(() => true), new Promise<boolean>((r) => { timer = setTimeout(() => r(false), 5000); })]);
      clearTimeout(timer);
      if (!gone) b.kill('SIGKILL');
    }
    if (this.fs.exists(this.previousPath)) {
      // Windows: B's file may stay locked a moment after B exits, and cannot be replaced while
      // B runs (B rolling itself back): it is renamed aside first, which is allowed.
      if (this.aside && this.fs.exists(this.o.exe)) await retried(() => this.fs.rename(this.o.exe, `${this.o.exe}.failed`));
      await retried(() => this.fs.rename(this.previousPath, this.o.exe));
      this.fs.syncDir(dirname(this.o.exe));
    }
    this.state('rolled-back', { reason });
    const start = this.o.start ?? detachedStarter;
    const a = start(this.o.command.cmd, this.o.command.args);
    this.o.log?.(`started the previous agent ${this.o.from} again (pid ${a.pid ?? '?'})`);
    return { ok: false, reason };
  }

  /** The whole switch: keep A, swap in B, watch. */
  async run(): Promise<SwitchOutcome> {
    this.keepPrevious();
    const deadline = this.swap();
    return this.watch(deadline);
  }

  private safeRead(): UpgradeState | undefined {
    try {
      return this.fs.readState(this.o.stateDir);
    } catch {
      return undefined;
    }
  }
}
