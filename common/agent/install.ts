// `agent install` and `agent uninstall`: the running executable copied to its standard place, the
// service written (a systemd unit on Linux, a scheduled task at startup as SYSTEM on Windows),
// enabled and started; then a wait until the agent writes <state-dir>/connected at its welcome
// (connected-marker.ts). `root` installs under a folder (tests): no service manager is called then
// unless a runner is given, and nothing is waited for.

import { chmodSync, copyFileSync, existsSync, mkdirSync, renameSync, rmdirSync, rmSync } from 'node:fs';
import { basename, dirname, join, win32 } from 'node:path';
import { HwError } from '../errors.ts';
import { writeDurable } from '../fs/durable.ts';
import { runProgram, type Runner } from '../util/runner.ts';
import { readConnectedMarker, type ConnectedMarker } from './connected-marker.ts';
import { resolveEnrollToken } from './enroll-token.ts';
import { systemdUnit, UNIT_NAME } from './install-unit.ts';
import { stopRunningAgent } from './stop-request.ts';
import { readUpgradeState, UPGRADE_STATE_FILE } from './upgrade-switch.ts';

export const TASK_NAME = 'hostwatch-agent';
const DEFAULT_WAIT_MS = 60_000;
const POLL_MS = 250;

export interface InstallOptions {
  /** host[:port],... as `agent --manager` takes it */
  manager: string;
  udpPort?: number;
  managerFingerprint?: string;
  enrollTokenFile?: string;
  labels?: string[];
  /** the service runs with --allow-upgrade (the manager may replace the executable) */
  allowUpgrade?: boolean;
  root?: string;
  /** how long to wait for the welcome (default 60 s; 0: do not wait) */
  waitMs?: number;
  platform?: NodeJS.Platform;
  execPath?: string;
  env?: NodeJS.ProcessEnv;
  runner?: Runner;
  /** is this root / an Administrator? (default: uid 0; on Windows `net session` succeeds) */
  isAdmin?: () => Promise<boolean>;
  out: (line: string) => void;
  now?: () => number;
  /** how long to wait for a running agent to stop when asked (default 20 s) */
  stopWaitMs?: number;
}

export interface Layout {
  exec: string;
  stateDir: string;
  /** the systemd unit (Linux) */
  unit?: string;
}

/** Where things go, as the service will see them (without the test root). */
export function layout(platform: NodeJS.Platform, env: NodeJS.ProcessEnv = process.env): Layout {
  if (platform === 'win32') {
    return {
      exec: win32.join(env.ProgramFiles ?? 'C:\\Program Files', 'hostwatch', 'agent.exe'),
      stateDir: win32.join(env.ProgramData ?? 'C:\\ProgramData', 'hostwatch-agent'),
    };
  }
  // A folder of its own: the unit makes it (and no other part of /usr) writable, so the agent can
  // put an upgrade beside itself (install-unit.ts, ReadWritePaths=).
  return { exec: '/usr/local/lib/hostwatch-agent/hostwatch-agent', stateDir: '/var/lib/hostwatch-agent', unit: `/etc/systemd/system/${UNIT_NAME}` };
}

/** A service path under the test root (a Windows path loses its drive). */
function under(root: string | undefined, p: string): string {
  return root ? join(root, p.replace(/^[A-Za-z]:/, '').replace(/\\/g, '/')) : p;
}

async function checkAdmin(o: Pick<InstallOptions, 'isAdmin' | 'platform' | 'runner'>, what: string): Promise<void> {
  const platform = o.platform ?? process.platform;
  const admin = o.isAdmin ? await o.isAdmin()
    : platform === 'win32' ? (await (o.runner ?? runProgram)('net', ['session']).catch(() => ({ code: 1 }))).code === 0
      : process.getuid?.() === 0;
  if (!admin) {
    throw new HwError('NOT_ROOT', platform === 'win32'
      ? `agent ${what} must run as Administrator: open PowerShell with "Run as Administrator"`
      : `agent ${what} must run as root: sudo agent ${what} ...`);
  }
}

/** The service's command line (after the executable). */
export function serviceArgs(o: InstallOptions, l: Layout, tokenFile: string | undefined): string[] {
  return ['--manager', o.manager, ...(o.udpPort ? ['--udp-port', String(o.udpPort)] : []), '--state-dir', l.stateDir,
    ...(o.managerFingerprint ? ['--manager-fingerprint', o.managerFingerprint] : []),
    ...(tokenFile ? ['--enroll-token-file', tokenFile] : []), ...(o.labels ?? []).flatMap((x) => ['--label', x]),
    ...(o.allowUpgrade ? ['--allow-upgrade'] : [])];
}

/**
 * The .cmd file the task runs (schtasks takes a /TR of at most 261 characters: a fingerprint and a
 * token path alone pass that): the executable and each argument double-quoted where needed, % doubled.
 * Its third line first puts the previous executable back when an upgrade was cut between its two
 * renames (upgrade-switch.ts: on Windows the running agent.exe is renamed aside, then the new one in).
 */
export function serviceCmd(exec: string, args: string[]): string {
  const word = (a: string, i: number) => {
    const w = a.replace(/%/g, '%%');
    return i === 0 || /[\s"&|<>^()]/.test(w) ? `"${w.replace(/"/g, '""')}"` : w;
  };
  const exe = word(exec, 0);
  const previous = word(`${exec}.previous`, 0);
  return [
    '@echo off',
    'rem Written by `agent install`; removed by `agent uninstall`.',
    `if not exist ${exe} if exist ${previous} move /y ${previous} ${exe} >nul`,
    [exec, ...args].map(word).join(' '),
    '',
  ].join('\r\n');
}

async function run(runner: Runner, file: string, args: string[], out: (l: string) => void, okCodes = [0]): Promise<void> {
  out(`  ran ${[file, ...args].join(' ')}`);
  const r = await runner(file, args, { timeoutMs: 60_000 });
  if (r.code === null || !okCodes.includes(r.code)) {
    throw new HwError('INSTALL_FAILED', `${file} ${args.join(' ')} failed (${r.error ?? `exit ${r.code}`}): ${(r.stderr || r.stdout).trim().slice(0, 300)}`);
  }
}

export async function install(o: InstallOptions): Promise<Layout> {
  const platform = o.platform ?? process.platform;
  await checkAdmin(o, 'install');
  const l = layout(platform, o.env);
  const now = o.now ?? Date.now;
  const started = now();
  const token = o.enrollTokenFile !== undefined ? resolveEnrollToken({ file: o.enrollTokenFile }, o.out, platform) : undefined;
  const runner = o.runner ?? (o.root ? undefined : runProgram);
  const sep = platform === 'win32' ? win32 : { join: (...p: string[]) => p.join('/') };
  const tokenFile = token ? sep.join(l.stateDir, 'enroll-token') : undefined;

  // A reinstall on Windows: the running agent.exe cannot be replaced. After an upgrade the agent
  // runs outside the task's instance, so it is asked itself too (stop-request.ts).
  if (platform === 'win32') {
    if (runner) await run(runner, 'schtasks', ['/End', '/TN', TASK_NAME], o.out, [0, 1]);
    await stopAgent(under(o.root, l.stateDir), o, o.stopWaitMs);
  }
  const exec = under(o.root, l.exec);
  const source = o.execPath ?? process.execPath;
  // From a checkout this is `node`: the service would run node with no program.
  if (!o.root && /^node(\.exe)?$/i.test(basename(source))) {
    throw new HwError('INSTALL_FAILED', `agent install copies the running executable, here ${source}: run it from the single-file agent (npm run build: dist/agent-linux-x64), not from a checkout`);
  }
  mkdirSync(dirname(exec), { recursive: true });
  // A new executable ends a switch that was never finished (its watcher and B are stopped above on
  // Windows; on Linux systemctl restarts the unit on this one below).
  dropUnfinishedUpgrade(under(o.root, l.stateDir), o.out);
  if (source !== exec) {
    const tmp = `${exec}.tmp-${process.pid}`;
    copyFileSync(source, tmp);
    chmodSync(tmp, 0o755);
    renameSync(tmp, exec);
  }
  o.out(`  copied ${source} to ${exec}`);
  const state = under(o.root, l.stateDir);
  mkdirSync(state, { recursive: true, mode: 0o700 });
  // %ProgramData% lets every user read what is made in it: the state folder (key, token) is
  // narrowed to SYSTEM and Administrators, as 0700 does on Linux.
  if (platform === 'win32' && runner) await run(runner, 'icacls', [l.stateDir, '/inheritance:r', '/grant:r', '*S-1-5-18:(OI)(CI)F', '/grant:r', '*S-1-5-32-544:(OI)(CI)F'], o.out);
  if (token && tokenFile) {
    writeDurable(under(o.root, tokenFile), token + '\n', { mode: 0o600 });
    o.out(`  wrote the enroll token to ${under(o.root, tokenFile)} (mode 0600)`);
  }
  const args = serviceArgs(o, l, tokenFile);
  if (platform === 'win32') {
    const cmd = win32.join(win32.dirname(l.exec), 'agent-service.cmd');
    writeDurable(under(o.root, cmd), serviceCmd(l.exec, args), { mode: 0o644 });
    o.out(`  wrote ${under(o.root, cmd)}`);
    const create = ['/Create', '/F', '/TN', TASK_NAME, '/SC', 'ONSTART', '/RU', 'SYSTEM', '/RL', 'HIGHEST', '/TR', `"${cmd}"`];
    if (runner) {
      await run(runner, 'schtasks', create, o.out);
      await run(runner, 'schtasks', ['/Run', '/TN', TASK_NAME], o.out);
    } else o.out(`  (under --root: would run schtasks ${create.join(' ')})`);
  } else {
    const unit = under(o.root, l.unit!);
    const again = existsSync(unit);
    mkdirSync(dirname(unit), { recursive: true });
    writeDurable(unit, systemdUnit(l.exec, args, l.stateDir), { mode: 0o644 });
    o.out(`  wrote ${unit}`);
    if (runner) {
      await run(runner, 'systemctl', ['daemon-reload'], o.out);
      await run(runner, 'systemctl', ['enable', '--now', UNIT_NAME], o.out);
      // Installed before: --now leaves the old process running, on the old executable and unit.
      if (again) await run(runner, 'systemctl', ['restart', UNIT_NAME], o.out);
    } else o.out('  (under --root: systemctl not called)');
  }
  const waitMs = o.waitMs ?? (o.root ? 0 : DEFAULT_WAIT_MS);
  if (waitMs > 0) {
    const m = await waitConnected(state, started, waitMs, now);
    if (!m) {
      throw new HwError('NOT_CONNECTED', `installed and started, but not connected within ${Math.round(waitMs / 1000)} s: ${platform === 'win32'
        ? 'see the task in Task Scheduler, or run the agent by hand to read its log'
        : `journalctl -u ${UNIT_NAME} says why (an expired or used token: ENROLL_TOKEN_EXPIRED, ENROLL_TOKEN_USED)`}`);
    }
    // The manager's reason, at once (the service goes on retrying: it connects once that is fixed).
    if (m.status === 'refused') throw new HwError('NOT_CONNECTED', `installed and started, but manager ${m.manager} refused the agent: ${m.reason}`);
    o.out(m.status === 'pending'
      ? `  connected to manager ${m.manager}, pending: on the manager run \`manager accept <this host>\` (no enroll token, or one that was revoked)`
      : `  connected to manager ${m.manager}`);
  }
  return l;
}

/** Polls <state>/connected for a welcome (or a refusal) after `since`. */
async function waitConnected(state: string, since: number, waitMs: number, now: () => number): Promise<ConnectedMarker | undefined> {
  const deadline = now() + waitMs;
  for (;;) {
    const m = readConnectedMarker(state);
    if (m && m.at >= since) return m;
    if (now() >= deadline) return undefined;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

export interface UninstallOptions {
  root?: string;
  purge?: boolean;
  platform?: NodeJS.Platform;
  env?: NodeJS.ProcessEnv;
  runner?: Runner;
  isAdmin?: () => Promise<boolean>;
  out: (line: string) => void;
  /** how long to wait for a running agent to stop when asked (default 20 s) */
  stopWaitMs?: number;
}

/**
 * Asks the agent running from the state folder, and an upgrade's watcher, to stop (stop-request.ts);
 * one still running after the wait is named with the way to end it (its pid may be reused: not killed).
 */
async function stopAgent(state: string, o: { out: (line: string) => void }, waitMs: number | undefined): Promise<void> {
  const s = upgradeStateOf(state);
  const watcher = s && (s.phase === 'switching' || s.phase === 'probation') ? s.watcher : undefined;
  const left = await stopRunningAgent(state, { out: o.out, ...(watcher ? { alsoPids: [watcher] } : {}), ...(waitMs !== undefined ? { waitMs } : {}) });
  if (left.length) {
    throw new HwError('INSTALL_FAILED', `the running agent did not stop when asked (pid ${left.join(', ')}): if that is the agent, end it (taskkill /F /PID ${left[0]}) and run this again; if it is another program (the pid in ${join(state, 'running')} is left from a crash), remove that file and run this again`);
  }
}

function upgradeStateOf(state: string): ReturnType<typeof readUpgradeState> {
  try {
    return readUpgradeState(state);
  } catch {
    return undefined;
  }
}

/** An upgrade cut before it was confirmed names executables that are being replaced or removed: forgotten. */
function dropUnfinishedUpgrade(state: string, out: (line: string) => void): void {
  const s = upgradeStateOf(state);
  if (!s || (s.phase !== 'switching' && s.phase !== 'probation')) return;
  rmSync(join(state, UPGRADE_STATE_FILE), { force: true });
  out(`  forgot the unfinished upgrade from ${s.from} to ${s.to}`);
}

/** Stops and removes the service and the executable; the state folder too with `purge`. */
export async function uninstall(o: UninstallOptions): Promise<Layout> {
  const platform = o.platform ?? process.platform;
  await checkAdmin(o, 'uninstall');
  const l = layout(platform, o.env);
  const runner = o.runner ?? (o.root ? undefined : runProgram);
  if (platform === 'win32') {
    if (runner) {
      await run(runner, 'schtasks', ['/End', '/TN', TASK_NAME], o.out, [0, 1]);
      await run(runner, 'schtasks', ['/Delete', '/F', '/TN', TASK_NAME], o.out, [0, 1]);
    }
    await stopAgent(under(o.root, l.stateDir), o, o.stopWaitMs);
  } else {
    // Absent already (exit 1, 5): nothing to stop.
    if (runner) await run(runner, 'systemctl', ['disable', '--now', UNIT_NAME], o.out, [0, 1, 5]);
    rmSync(under(o.root, l.unit!), { force: true });
    o.out(`  removed ${under(o.root, l.unit!)}`);
    if (runner) await run(runner, 'systemctl', ['daemon-reload'], o.out);
  }
  if (platform === 'win32') rmSync(under(o.root, win32.join(win32.dirname(l.exec), 'agent-service.cmd')), { force: true });
  rmSync(under(o.root, l.exec), { force: true });
  // What upgrades leave beside it (upgrade-switch.ts): the previous executable, a cut transfer.
  for (const x of ['.previous', '.new', '.failed']) rmSync(under(o.root, l.exec + x), { force: true });
  dropUnfinishedUpgrade(under(o.root, l.stateDir), o.out);
  o.out(`  removed ${under(o.root, l.exec)}`);
  const folder = under(o.root, platform === 'win32' ? win32.dirname(l.exec) : dirname(l.exec));
  try {
    rmdirSync(folder); // the executable's own folder, when nothing else was put there
  } catch { /* not empty, or gone */ }
  if (o.purge) {
    rmSync(under(o.root, l.stateDir), { recursive: true, force: true });
    o.out(`  removed ${under(o.root, l.stateDir)} (--purge)`);
  } else o.out(`  kept ${under(o.root, l.stateDir)} (the agent's id and key: --purge removes it)`);
  return l;
}
