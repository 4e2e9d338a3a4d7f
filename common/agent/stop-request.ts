// Stopping the agent that runs from a state folder without a service manager's help. After an
// upgrade on Windows the new agent runs outside the scheduled task's instance that started the old
// one (the old process exits once the new one is confirmed), so `schtasks /End` does not reach it,
// and its executable cannot be removed or replaced while it runs. So each agent process writes
// <state>/running (its pid) and looks for <state>/stop-request once a second; `agent uninstall`
// and `agent install` (again) write the request, wait for the processes to be gone, and remove it.
// A request older than a process's start is not for it (one left behind must not stop the next).
// No process is killed by pid: a pid from a file may be another program's by now.

import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeDurable } from '../fs/durable.ts';
import { processAlive as alive } from './upgrade-probation.ts';

export const RUNNING_FILE = 'running';
export const STOP_REQUEST_FILE = 'stop-request';
/** How often a running agent looks for a request. */
const CHECK_MS = 1000;
/** How long install/uninstall wait for the agent to finish what it writes and exit. */
export const DEFAULT_STOP_WAIT_MS = 20_000;
const POLL_MS = 200;

interface Stamp {
  pid: number;
  at: number;
}

function readStamp(path: string): Stamp | undefined {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as Partial<Stamp>;
    return Number.isSafeInteger(v.pid) && v.pid! > 0 && typeof v.at === 'number' ? { pid: v.pid!, at: v.at } : undefined;
  } catch {
    return undefined;
  }
}

/** True once a stop request written after `since` is in the state folder. */
export function stopRequested(stateDir: string, since: number): boolean {
  const r = readStamp(join(stateDir, STOP_REQUEST_FILE));
  return !!r && r.at >= since;
}

/**
 * For a running agent: writes <state>/running, calls `onStop` once when a request for it comes,
 * and removes the file at exit (when it is still this process's). The returned function ends the
 * watch (tests).
 */
export function watchStopRequest(stateDir: string, onStop: () => void, now: () => number = Date.now): () => void {
  const started = now();
  const running = join(stateDir, RUNNING_FILE);
  try {
    writeDurable(running, JSON.stringify({ pid: process.pid, at: started }) + '\n');
  } catch {
    // A full disk: install/uninstall cannot ask this process to stop (they say so); it reports on.
  }
  const timer = setInterval(() => {
    if (!stopRequested(stateDir, started)) return;
    clearInterval(timer);
    onStop();
  }, CHECK_MS);
  timer.unref();
  const onExit = () => {
    if (readStamp(running)?.pid === process.pid) rmSync(running, { force: true });
  };
  process.once('exit', onExit);
  return () => {
    clearInterval(timer);
    process.removeListener('exit', onExit);
    onExit();
  };
}

export interface StopRunningOptions {
  /** other processes of this agent that must be gone too (an upgrade's watcher) */
  alsoPids?: number[];
  waitMs?: number;
  out: (line: string) => void;
  now?: () => number;
}

/**
 * Asks the agent running from `stateDir` (if any) to stop and waits until it has exited. Resolves
 * with the pids still running after the wait (empty: none left), so the caller can say what to do.
 */
export async function stopRunningAgent(stateDir: string, o: StopRunningOptions): Promise<number[]> {
  const now = o.now ?? Date.now;
  const stamp = readStamp(join(stateDir, RUNNING_FILE));
  const pids = [...new Set([...(stamp ? [stamp.pid] : []), ...(o.alsoPids ?? [])])].filter((p) => p !== process.pid && alive(p));
  if (!pids.length) return [];
  const request = join(stateDir, STOP_REQUEST_FILE);
  writeDurable(request, JSON.stringify({ pid: process.pid, at: now() }) + '\n');
  o.out(`  asked the running agent to stop (pid ${pids.join(', ')})`);
  const deadline = now() + (o.waitMs ?? DEFAULT_STOP_WAIT_MS);
  let left = pids;
  try {
    while ((left = left.filter(alive)).length && now() < deadline) await new Promise((r) => setTimeout(r, POLL_MS));
  } finally {
    rmSync(request, { force: true });
  }
  if (!left.length) o.out('  the running agent stopped');
  return left;
}
