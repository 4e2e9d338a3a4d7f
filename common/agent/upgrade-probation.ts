// B guards its own probation. The watcher (A's process) normally rolls B back when B is not
// welcomed in time; but the watcher can be gone: killed, or the service restarted (systemd kills
// the whole unit when its main process dies and starts <exe>, which is B by then). So every agent
// checks upgrade.json at start: when it is the new version of a switch not yet confirmed, it waits
// for its welcome until the switch's deadline, and past it, if the watcher is not alive, puts the
// previous executable back and starts it (UpgradeSwitch.rollback), then leaves. A start after the
// deadline (the host was down) rolls back at once: B was not welcomed in time.

import { DEFAULT_PROBATION_MS, readUpgradeState, type UpgradeState } from './upgrade-switch.ts';

/** How long after the deadline B waits for a live watcher to act before it acts itself. */
export const WATCHER_GRACE_MS = 3_000;
const POLL_MS = 500;

export interface ProbationGuardOptions {
  stateDir: string;
  version: string;
  /** called once when B must roll back: stop the agent, put A back, start it, leave */
  rollback: (s: UpgradeState, reason: string) => void;
  now?: () => number;
  alive?: (pid: number) => boolean;
  pollMs?: number;
  log?: (line: string) => void;
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The switch this process is on probation for, if any: B started while upgrade.json is not confirmed. */
export function probationOf(stateDir: string, version: string): UpgradeState | undefined {
  let s: UpgradeState | undefined;
  try {
    s = readUpgradeState(stateDir);
  } catch {
    return undefined; // a broken file: upgrades.ts says so at the welcome
  }
  if (!s || (s.phase !== 'switching' && s.phase !== 'probation')) return undefined;
  return s.to === version && s.from !== version ? s : undefined;
}

/** Starts the guard; stop() ends it (the agent leaving). Nothing runs when there is no probation. */
export function guardProbation(o: ProbationGuardOptions): { stop(): void } {
  const first = probationOf(o.stateDir, o.version);
  if (!first) return { stop: () => {} };
  const now = o.now ?? Date.now;
  const alive = o.alive ?? processAlive;
  const deadline = first.deadline ?? first.at + DEFAULT_PROBATION_MS;
  o.log?.(`on probation after the upgrade from ${first.from}: to be welcomed by ${new Date(deadline).toISOString()}, else ${first.from} is put back`);
  let timer: NodeJS.Timeout | undefined;
  let done = false;
  const late = now() >= deadline;
  const check = () => {
    if (done) return;
    const s = probationOf(o.stateDir, o.version);
    if (!s) return void (done = true); // confirmed (or undone by the watcher)
    const t = now();
    const watcher = s.watcher !== undefined && s.watcher !== process.pid && alive(s.watcher);
    // A live watcher acts at the deadline itself (it stops B): B acts only if it does not.
    if (t < deadline || (watcher && t < deadline + WATCHER_GRACE_MS)) {
      timer = setTimeout(check, o.pollMs ?? POLL_MS);
      timer.unref?.();
      return;
    }
    done = true;
    const by = new Date(deadline).toISOString();
    o.rollback(s, late ? `the new agent was started after its probation ended (${by}) and had not been welcomed`
      : `the new agent was not welcomed by ${by} and its watcher ${watcher ? 'did not act' : 'was gone'}`);
  };
  check();
  return { stop: () => { done = true; clearTimeout(timer); } };
}
