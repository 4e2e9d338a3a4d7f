// agent install / uninstall under a temporary root: the executable copy, the systemd unit (checked
// by systemd-analyze where it is installed, and against scripts/hostwatch-agent.service's
// directives), the refusal without root (for real, as nobody, where setpriv exists), the Windows
// task's exact schtasks command lines under an injected runner.

import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { install, uninstall } from '../../common/agent/install.ts';
import type { Runner } from '../../common/util/runner.ts';
import { cleanTempDirs, codeOfAsync, tempDir, timed } from '../harness.helper.ts';
import { AGENT_JS } from '../e2e/procs.helper.ts';

const REPO = resolve(AGENT_JS, '..', '..');
const yes = async () => true;
const lines: string[] = [];
const out = (l: string) => void lines.push(l);

function recorder(): { runner: Runner; calls: string[][] } {
  const calls: string[][] = [];
  return { calls, runner: async (file, args) => { calls.push([file, ...args]); return { stdout: '', stderr: '', code: 0 }; } };
}

function fakeExec(): string {
  const f = join(tempDir('hw-exe-'), 'agent-linux-x64');
  writeFileSync(f, 'not really an agent\n');
  return f;
}

function tokenFile(): string {
  const f = join(tempDir('hw-tok-'), 'token');
  writeFileSync(f, 'a'.repeat(64) + '\n', { mode: 0o600 });
  return f;
}

test.after(() => cleanTempDirs());

test('install under --root: the copy, the token (0600), the unit; systemctl enable --now through the runner', timed(20_000, async () => {
  const root = tempDir('hw-root-');
  const exec = fakeExec();
  const r = recorder();
  await install({ manager: '10.0.0.5:6000', udpPort: 6001, managerFingerprint: 'AB'.repeat(32), enrollTokenFile: tokenFile(), labels: ['role=web', 'site=a b'], allowUpgrade: true, root, execPath: exec, runner: r.runner, isAdmin: yes, waitMs: 0, out });
  const copy = join(root, 'usr/local/lib/hostwatch-agent/hostwatch-agent');
  assert.is(readFileSync(copy, 'utf8'), 'not really an agent\n');
  assert.is(statSync(copy).mode & 0o777, 0o755);
  const tok = join(root, 'var/lib/hostwatch-agent/enroll-token');
  assert.is(readFileSync(tok, 'utf8').trim(), 'a'.repeat(64));
  assert.is(statSync(tok).mode & 0o777, 0o600);
  const unit = readFileSync(join(root, 'etc/systemd/system/hostwatch-agent.service'), 'utf8');
  assert.match(unit, `ExecStart=/usr/local/lib/hostwatch-agent/hostwatch-agent --manager 10.0.0.5:6000 --udp-port 6001 --state-dir /var/lib/hostwatch-agent --manager-fingerprint ${'AB'.repeat(32)} --enroll-token-file /var/lib/hostwatch-agent/enroll-token --label role=web --label "site=a b" --allow-upgrade\n`);
  assert.equal(r.calls, [['systemctl', 'daemon-reload'], ['systemctl', 'enable', '--now', 'hostwatch-agent.service']]);
  // /usr stays read-only but for the executable's own folder: the agent can upgrade itself, nothing more.
  assert.equal(unit.split('\n').filter((l) => /^(ProtectSystem|ReadWritePaths)=/.test(l)), ['ProtectSystem=full', 'ReadWritePaths=/usr/local/lib/hostwatch-agent']);
}));

test('installed again: restarted on the new executable; a failing systemctl is INSTALL_FAILED with its message', async () => {
  const root = tempDir('hw-root-');
  await install({ manager: 'm', root, execPath: fakeExec(), isAdmin: yes, out });
  const r = recorder();
  await install({ manager: 'm2', root, execPath: fakeExec(), runner: r.runner, isAdmin: yes, waitMs: 0, out });
  assert.equal(r.calls.slice(1), [['systemctl', 'enable', '--now', 'hostwatch-agent.service'], ['systemctl', 'restart', 'hostwatch-agent.service']]);
  const failing: Runner = async (_f, args) => (args[0] === 'enable' ? { stdout: '', stderr: 'Failed to enable unit: Access denied', code: 1 } : { stdout: '', stderr: '', code: 0 });
  let err: unknown;
  await install({ manager: 'm', root: tempDir('hw-root-'), execPath: fakeExec(), runner: failing, isAdmin: yes, out }).catch((e: unknown) => (err = e));
  assert.is((err as { code?: string }).code, 'INSTALL_FAILED');
  assert.match(String((err as Error).message), 'systemctl enable --now hostwatch-agent.service failed (exit 1): Failed to enable unit: Access denied');
});

test('the unit keeps every directive of scripts/hostwatch-agent.service (hardening included)', async () => {
  const root = tempDir('hw-root-');
  await install({ manager: 'm', root, execPath: fakeExec(), isAdmin: yes, out });
  const unit = readFileSync(join(root, 'etc/systemd/system/hostwatch-agent.service'), 'utf8').split('\n');
  const shipped = readFileSync(join(REPO, 'scripts/hostwatch-agent.service'), 'utf8').split('\n')
    .filter((l) => /^[A-Za-z]+=/.test(l) && !l.startsWith('ExecStart='));
  assert.ok(shipped.length >= 15, 'the shipped unit was read');
  for (const l of shipped) assert.ok(unit.includes(l), `missing: ${l}`);
});

test('systemd-analyze verify passes the unit (and flags a broken one)', timed(30_000, async () => {
  if (spawnSync('systemd-analyze', ['--version']).status !== 0) {
    console.log('  (skipped: systemd-analyze is not installed)');
    return;
  }
  const verify = (root: string) => {
    // Under --root it needs the system's own units (sysinit.target...) and the executable.
    mkdirSync(join(root, 'usr/lib/systemd'), { recursive: true });
    if (!existsSync(join(root, 'usr/lib/systemd/system'))) symlinkSync('/usr/lib/systemd/system', join(root, 'usr/lib/systemd/system'));
    const r = spawnSync('systemd-analyze', ['verify', '--man=no', `--root=${root}`, '/etc/systemd/system/hostwatch-agent.service'], { encoding: 'utf8' });
    return { status: r.status, ours: `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.includes('hostwatch-agent')) };
  };
  const root = tempDir('hw-root-');
  await install({ manager: '10.0.0.5', labels: ['site=50% off'], enrollTokenFile: tokenFile(), root, execPath: fakeExec(), isAdmin: yes, out });
  const good = verify(root);
  assert.is(good.status, 0);
  assert.equal(good.ours, []);
  const unitPath = join(root, 'etc/systemd/system/hostwatch-agent.service');
  writeFileSync(unitPath, readFileSync(unitPath, 'utf8').replace('NoNewPrivileges=yes', 'NoNewPrivileges=yes\nProtectSystm=full'));
  assert.ok(verify(root).ours.some((l) => l.includes('ProtectSystm')), 'a misspelt directive is reported');
}));

test('uninstall removes the unit and the executable, keeps the state unless --purge', async () => {
  const root = tempDir('hw-root-');
  await install({ manager: 'm', enrollTokenFile: tokenFile(), root, execPath: fakeExec(), isAdmin: yes, out });
  const r = recorder();
  await uninstall({ root, runner: r.runner, isAdmin: yes, out });
  assert.not.ok(existsSync(join(root, 'etc/systemd/system/hostwatch-agent.service')));
  assert.not.ok(existsSync(join(root, 'usr/local/lib/hostwatch-agent')), 'the executable\'s folder too');
  assert.ok(existsSync(join(root, 'var/lib/hostwatch-agent/enroll-token')));
  assert.equal(r.calls, [['systemctl', 'disable', '--now', 'hostwatch-agent.service'], ['systemctl', 'daemon-reload']]);
  await uninstall({ root, purge: true, isAdmin: yes, out });
  assert.not.ok(existsSync(join(root, 'var/lib/hostwatch-agent')));
});

test('not root: NOT_ROOT, nothing written', async () => {
  const root = tempDir('hw-root-');
  assert.is(await codeOfAsync(install({ manager: 'm', root, execPath: fakeExec(), isAdmin: async () => false, out })), 'NOT_ROOT');
  assert.is(await codeOfAsync(uninstall({ root, isAdmin: async () => false, out })), 'NOT_ROOT');
  assert.not.ok(existsSync(join(root, 'usr')));
});

test('the built agent as nobody: refused with NOT_ROOT, exit 2', timed(20_000, async () => {
  if (process.getuid?.() !== 0 || spawnSync('setpriv', ['--version']).status !== 0) {
    console.log('  (skipped: needs root and setpriv to become nobody)');
    return;
  }
  const root = tempDir('hw-root-');
  chmodSync(root, 0o777);
  const r = spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, AGENT_JS, 'install', '--manager', '10.0.0.5', '--root', root], { encoding: 'utf8' });
  assert.is(r.status, 2, r.stderr);
  assert.match(r.stderr, /must run as root.*\[NOT_ROOT\]/);
  assert.is(r.stdout, '', 'no "installing..." heading above a refusal');
  assert.not.ok(existsSync(join(root, 'usr')));
}));

test('from a checkout (node itself) the real install refuses: the service would run node', async () => {
  assert.is(await codeOfAsync(install({ manager: 'm', execPath: '/usr/bin/node', isAdmin: yes, runner: recorder().runner, out })), 'INSTALL_FAILED');
});

test('Windows: Program Files, the state folder for SYSTEM and Administrators only, a task at startup as SYSTEM (exact command lines), undone by uninstall', async () => {
  const root = tempDir('hw-root-');
  const r = recorder();
  const env = { ProgramFiles: 'C:\\Program Files', ProgramData: 'C:\\ProgramData' };
  await install({ manager: '10.0.0.5', managerFingerprint: 'CD'.repeat(32), enrollTokenFile: tokenFile(), labels: ['role=web', 'site=a&b 100%'], platform: 'win32', env, root, execPath: fakeExec(), runner: r.runner, isAdmin: yes, waitMs: 0, out });
  assert.ok(existsSync(join(root, 'Program Files/hostwatch/agent.exe')));
  assert.ok(existsSync(join(root, 'ProgramData/hostwatch-agent/enroll-token')));
  const cmdLines = readFileSync(join(root, 'Program Files/hostwatch/agent-service.cmd'), 'utf8').split('\r\n');
  // An upgrade cut between its two renames (agent.exe aside, the new one in): the previous one is put back first.
  assert.is(cmdLines[2], 'if not exist "C:\\Program Files\\hostwatch\\agent.exe" if exist "C:\\Program Files\\hostwatch\\agent.exe.previous" move /y "C:\\Program Files\\hostwatch\\agent.exe.previous" "C:\\Program Files\\hostwatch\\agent.exe" >nul');
  assert.is(cmdLines[3],
    `"C:\\Program Files\\hostwatch\\agent.exe" --manager 10.0.0.5 --state-dir C:\\ProgramData\\hostwatch-agent --manager-fingerprint ${'CD'.repeat(32)} --enroll-token-file C:\\ProgramData\\hostwatch-agent\\enroll-token --label role=web --label "site=a&b 100%%"`);
  assert.equal(r.calls, [
    ['schtasks', '/End', '/TN', 'hostwatch-agent'],
    ['icacls', 'C:\\ProgramData\\hostwatch-agent', '/inheritance:r', '/grant:r', '*S-1-5-18:(OI)(CI)F', '/grant:r', '*S-1-5-32-544:(OI)(CI)F'],
    ['schtasks', '/Create', '/F', '/TN', 'hostwatch-agent', '/SC', 'ONSTART', '/RU', 'SYSTEM', '/RL', 'HIGHEST', '/TR', '"C:\\Program Files\\hostwatch\\agent-service.cmd"'],
    ['schtasks', '/Run', '/TN', 'hostwatch-agent'],
  ]);
  const u = recorder();
  await uninstall({ platform: 'win32', env, root, runner: u.runner, isAdmin: yes, out });
  assert.equal(u.calls, [['schtasks', '/End', '/TN', 'hostwatch-agent'], ['schtasks', '/Delete', '/F', '/TN', 'hostwatch-agent']]);
  assert.not.ok(existsSync(join(root, 'Program Files/hostwatch/agent.exe')));
  assert.not.ok(existsSync(join(root, 'Program Files/hostwatch/agent-service.cmd')));
});

test('Windows: Administrator is asked of `net session` through the runner', async () => {
  const calls: string[][] = [];
  const runner: Runner = async (file, args) => { calls.push([file, ...args]); return { stdout: '', stderr: 'System error 5 has occurred. Access is denied.', code: 2 }; };
  assert.is(await codeOfAsync(install({ manager: 'm', platform: 'win32', root: tempDir('hw-root-'), execPath: fakeExec(), runner, out })), 'NOT_ROOT');
  assert.equal(calls, [['net', 'session']]);
});

test('the install waits for the welcome: <state-dir>/connected written after it started', timed(10_000, async () => {
  const root = tempDir('hw-root-');
  const r = recorder();
  let t = 1000;
  const runner: Runner = async (file, args, o) => {
    // The service "starts" and is welcomed: what the agent's connected-marker.ts writes.
    if (args[0] === 'enable') writeFileSync(join(root, 'var/lib/hostwatch-agent/connected'), JSON.stringify({ at: t + 1, manager: '10.0.0.5:5005', status: 'accepted' }));
    return r.runner(file, args, o);
  };
  lines.length = 0;
  await install({ manager: '10.0.0.5', root, execPath: fakeExec(), runner, isAdmin: yes, waitMs: 5000, out, now: () => t });
  assert.ok(lines.includes('  connected to manager 10.0.0.5:5005'), lines.join('\n'));
  // An old marker (before this install) is not taken for a welcome.
  t = 10_000;
  const stale = (async () => codeOfAsync(install({ manager: '10.0.0.5', root, execPath: fakeExec(), runner: recorder().runner, isAdmin: yes, waitMs: 300, out, now: () => (t += 100) })))();
  assert.is(await stale, 'NOT_CONNECTED');
}));

test('the manager refuses the new agent (an expired token): NOT_CONNECTED at once, with the manager\'s reason', timed(10_000, async () => {
  const root = tempDir('hw-root-');
  const reason = 'ENROLL_TOKEN_EXPIRED: install token 1a2b expired at 2026-12-06T10:00:00.000Z: make a new one (manager install-command)';
  const runner: Runner = async (file, args, o) => {
    if (args[0] === 'enable') writeFileSync(join(root, 'var/lib/hostwatch-agent/connected'), JSON.stringify({ at: Date.now() + 1, manager: '10.0.0.5:5005', status: 'refused', reason }));
    return recorder().runner(file, args, o);
  };
  // waitMs 60 s against the test's 10 s budget: only a refusal read at once ends it in time.
  const err = await install({ manager: '10.0.0.5', root, execPath: fakeExec(), runner, isAdmin: yes, waitMs: 60_000, out }).catch((e) => e);
  assert.is(err.code, 'NOT_CONNECTED');
  assert.is(err.message, `installed and started, but manager 10.0.0.5:5005 refused the agent: ${reason}`);
}));

test.run();
