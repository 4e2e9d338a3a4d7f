// Stopping the agent that runs from a state folder when no service manager reaches it (Windows after
// an upgrade: the new agent runs outside the task's instance). Real agent processes; the Windows
// layout under a temporary root with an injected runner for schtasks (Windows itself cannot run here).

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { install, uninstall } from '../../common/agent/install.ts';
import { RUNNING_FILE, STOP_REQUEST_FILE, stopRunningAgent } from '../../common/agent/stop-request.ts';
import { UPGRADE_STATE_FILE } from '../../common/agent/upgrade-switch.ts';
import type { Runner } from '../../common/util/runner.ts';
import { cleanTempDirs, codeOfAsync, tempDir, timed, waitFor } from '../harness.helper.ts';
import { AGENT_JS, killAll, run, type Proc } from '../e2e/procs.helper.ts';

const env = { ProgramFiles: 'C:\\Program Files', ProgramData: 'C:\\ProgramData' };
const yes = async () => true;
const calls: string[][] = [];
const runner: Runner = async (file, args) => { calls.push([file, ...args]); return { stdout: '', stderr: '', code: 0 }; };

test.after(async () => {
  await killAll();
  cleanTempDirs();
});

/** An agent (nothing listens at its manager's address: it retries) running from `state`. */
async function agentIn(state: string): Promise<Proc> {
  mkdirSync(state, { recursive: true });
  const p = run(AGENT_JS, ['--manager', '127.0.0.1:9', '--udp-port', '9', '--interval', '1', '--state-dir', state]);
  await waitFor(() => existsSync(join(state, RUNNING_FILE)) || p.child.exitCode !== null, 20_000, 'the agent writes <state>/running');
  assert.ok(existsSync(join(state, RUNNING_FILE)), p.output());
  return p;
}

function installed(root: string): void {
  const dir = join(root, 'Program Files/hostwatch');
  mkdirSync(dir, { recursive: true });
  for (const f of ['agent.exe', 'agent.exe.previous', 'agent-service.cmd']) writeFileSync(join(dir, f), 'x');
}

test('uninstall (Windows layout) asks the agent running outside the task to stop: it exits 0 and its files go', timed(60_000, async () => {
  const root = tempDir('hw-root-');
  installed(root);
  const state = join(root, 'ProgramData/hostwatch-agent');
  const agent = await agentIn(state);
  const lines: string[] = [];
  calls.length = 0;
  await uninstall({ platform: 'win32', env, root, runner, isAdmin: yes, out: (l) => void lines.push(l) });
  assert.is(await agent.exited, 0, 'a clean stop, as on SIGTERM');
  assert.match(agent.output(), /stop requested/);
  assert.ok(lines.some((l) => /asked the running agent to stop \(pid \d+\)/.test(l)), lines.join('\n'));
  assert.ok(lines.includes('  the running agent stopped'), lines.join('\n'));
  assert.equal(calls, [['schtasks', '/End', '/TN', 'hostwatch-agent'], ['schtasks', '/Delete', '/F', '/TN', 'hostwatch-agent']]);
  assert.not.ok(existsSync(join(root, 'Program Files/hostwatch/agent.exe')));
  assert.not.ok(existsSync(join(state, RUNNING_FILE)), 'the agent removed its marker at exit');
  assert.not.ok(existsSync(join(state, STOP_REQUEST_FILE)), 'the request is removed');
}));

test('a request left from before an agent started does not stop it; a second uninstall finds nothing running', timed(60_000, async () => {
  const state = tempDir('hw-state-');
  writeFileSync(join(state, STOP_REQUEST_FILE), JSON.stringify({ pid: 1, at: Date.now() - 1000 }) + '\n');
  const agent = await agentIn(state);
  // Three checks' worth (one a second) in which it must not leave.
  const until = Date.now() + 3500;
  await waitFor(() => agent.child.exitCode !== null || Date.now() > until, 10_000, 'three seconds');
  assert.is(agent.child.exitCode, null, `a stale request stopped the agent: ${agent.output()}`);
  const lines: string[] = [];
  assert.equal(await stopRunningAgent(state, { out: (l) => void lines.push(l) }), []);
  assert.is(await agent.exited, 0);
  assert.equal(await stopRunningAgent(state, { out: (l) => void lines.push(l) }), [], 'nothing left to stop');
  assert.is(lines.filter((l) => l.includes('asked')).length, 1, lines.join('\n'));
}));

test('install again (Windows layout) stops the running agent and the watcher of an unfinished upgrade; one that does not stop is INSTALL_FAILED', timed(60_000, async () => {
  const root = tempDir('hw-root-');
  installed(root);
  const state = join(root, 'ProgramData/hostwatch-agent');
  const agent = await agentIn(state);
  // The watcher of a switch cut short: a process that ignores the request (it is no agent).
  const stubborn = spawn('sleep', ['60'], { stdio: 'ignore' });
  writeFileSync(join(state, UPGRADE_STATE_FILE), JSON.stringify({ phase: 'probation', from: '0.1.0', to: '0.2.0', exe: 'C:\\Program Files\\hostwatch\\agent.exe', at: Date.now(), deadline: Date.now() + 60_000, watcher: stubborn.pid }) + '\n');
  const exec = join(tempDir('hw-exe-'), 'agent.exe');
  writeFileSync(exec, 'new agent');
  const lines: string[] = [];
  const o = { manager: '10.0.0.5', platform: 'win32' as const, env, root, execPath: exec, runner, isAdmin: yes, waitMs: 0, stopWaitMs: 3000, out: (l: string) => void lines.push(l) };
  assert.is(await codeOfAsync(install(o)), 'INSTALL_FAILED');
  assert.is(await agent.exited, 0, 'the agent itself stopped');
  assert.ok(existsSync(join(state, UPGRADE_STATE_FILE)), 'nothing replaced while a process still runs');
  stubborn.kill('SIGKILL');
  await waitFor(() => stubborn.exitCode !== null || stubborn.signalCode !== null, 5000, 'sleep gone');
  await install(o);
  assert.not.ok(existsSync(join(state, UPGRADE_STATE_FILE)), 'the unfinished upgrade is forgotten: its executables are replaced');
  assert.ok(lines.includes('  forgot the unfinished upgrade from 0.1.0 to 0.2.0'), lines.join('\n'));
}));

test.run();
