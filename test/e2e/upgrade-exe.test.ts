// Upgrades with the real single-file agents: A is dist/agent-linux-x64 (`npm run build`), B the same
// sources built with HOSTWATCH_VERSION=0.2.0 (scripts/build.mjs --programs agent --out
// dist/upgrade-0.2.0: ~12 s for both targets once, then kept while the sources do not change;
// scripts/test-windows.sh uses the same folder). A running A is upgraded to B from a manager (it
// comes back as 0.2.0 with the same id and alert queue), then B back to A.
// Skipped without dist/ unless CI requires it (HOSTWATCH_REQUIRE_EXE=1), as exe.test.ts.

import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cleanTempDirs, tempDir, timed, waitFor } from '../harness.helper.ts';
import { AGENT_JS, cli, cliJson, killAll, type ManagerProc } from './procs.helper.ts';
import { killPids, managerSigning } from './upgrade.helper.ts';

const ROOT = resolve(AGENT_JS, '..', '..');
const A_EXE = join(ROOT, 'dist', 'agent-linux-x64');
const B_VERSION = '0.2.0';
const B_DIR = join(ROOT, 'dist', `upgrade-${B_VERSION}`);
const B_EXE = join(B_DIR, 'agent-linux-x64');
const REQUIRE = process.env.HOSTWATCH_REQUIRE_EXE === '1';

const pids = new Set<number>();
let mgr: ManagerProc;
let signedA: string;
let signedB: string;
let setupError: unknown;

function have(): boolean {
  if (existsSync(A_EXE) && process.platform === 'linux' && process.arch === 'x64') return true;
  assert.not.ok(REQUIRE, `${A_EXE} is missing: npm run build`);
  console.log(`  (skipped: no ${A_EXE}; npm run build makes it)`);
  return false;
}

/** B: built once into dist/upgrade-0.2.0 (build.mjs keeps it while the bundle is the same). */
function buildB(): void {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs'), '--programs', 'agent', '--targets', 'linux-x64,win-x64', '--out', B_DIR], {
    cwd: ROOT, env: { ...process.env, HOSTWATCH_VERSION: B_VERSION }, encoding: 'utf8', timeout: 180_000,
  });
  if (r.status !== 0) throw new Error(`building B failed: ${r.stdout}${r.stderr}`);
  console.log(`  (B ${B_VERSION} built or kept in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}

test.before(async () => {
  if (!existsSync(A_EXE)) return; // each test says it is skipped (or fails under HOSTWATCH_REQUIRE_EXE)
  try {
    buildB();
    const work = tempDir('hw-upexe-');
    signedA = join(work, 'a', 'agent-linux-x64');
    signedB = join(work, 'b', 'agent-linux-x64');
    for (const [from, to] of [[A_EXE, signedA], [B_EXE, signedB]] as const) {
      mkdirSync(join(to, '..'), { recursive: true });
      copyFileSync(from, to);
    }
    mgr = await managerSigning([[signedA, '0.1.0'], [signedB, B_VERSION]]);
  } catch (err) {
    setupError = err;
  }
});

test.after(async () => {
  killPids(pids);
  await killAll();
  cleanTempDirs();
});

/** The agent as a user runs it: its own copy of A, only PATH in its environment. */
function startA(name: string) {
  const dir = tempDir('hw-upexe-host-');
  const exe = join(dir, 'hostwatch-agent');
  copyFileSync(A_EXE, exe);
  const stateDir = join(dir, 'state');
  const child = spawn(exe, ['--manager', `127.0.0.1:${mgr.tcpPort}`, '--udp-port', String(mgr.udpPort), '--interval', '1', '--state-dir', stateDir,
    '--enroll-token-file', join(mgr.dataDir, 'enroll-token'), '--name', name, '--allow-upgrade'], { cwd: dir, env: { PATH: '/usr/bin:/bin' }, stdio: ['ignore', 'pipe', 'pipe'] });
  pids.add(child.pid!);
  let out = '';
  // B and A again are started by the watcher with its stdout: their lines arrive here too.
  const keep = (d: Buffer) => {
    out += d;
    for (const m of out.matchAll(/\(pid (\d+)\)/g)) pids.add(Number(m[1]));
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  return { exe, stateDir, output: () => out };
}

async function agentOn(name: string, version: string): Promise<any> {
  return waitFor(async () => (await cliJson<any[]>(mgr.dataDir, ['agents'])).find((x) => x.name === name && x.online && x.version === version), 60_000, `${name} online on ${version}`);
}

const epochOf = (stateDir: string) => JSON.parse(readFileSync(join(stateDir, 'alerts.json'), 'utf8')).epoch;

test('setup: B built from the same sources with HOSTWATCH_VERSION, A and B signed', () => {
  if (!have()) return;
  if (setupError) throw setupError;
  assert.match(spawnSync(B_EXE, ['--version'], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } }).stdout, `agent/${B_VERSION} `);
});

test('the built agent upgraded from A to B (same id, same alert queue), then from B back to A', timed(240_000, async () => {
  if (!have()) return;
  if (setupError) throw setupError;
  const host = startA('exe-host');
  const a = await agentOn('exe-host', '0.1.0');
  const epoch = epochOf(host.stateDir);

  const up = await cli(mgr.dataDir, ['upgrade', 'exe-host', '--to', signedB, '--json'], 120_000);
  assert.is(up.code, 0, `${up.stdout}\n${up.stderr}\n${host.output()}`);
  const b = await agentOn('exe-host', B_VERSION);
  assert.is(b.id, a.id, 'same id');
  assert.is(epochOf(host.stateDir), epoch, 'same alert queue');
  assert.ok(readFileSync(host.exe).equals(readFileSync(B_EXE)), 'B at the executable\'s path');
  const v = spawnSync(host.exe, ['--version'], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
  assert.match(v.stdout, `agent/${B_VERSION} `);

  const down = await cli(mgr.dataDir, ['upgrade', 'exe-host', '--to', signedA, '--json'], 120_000);
  assert.is(down.code, 0, `${down.stdout}\n${down.stderr}\n${host.output()}`);
  const back = await agentOn('exe-host', '0.1.0');
  assert.is(back.id, a.id, 'same id');
  assert.is(epochOf(host.stateDir), epoch, 'same alert queue');
  assert.ok(readFileSync(host.exe).equals(readFileSync(A_EXE)), 'A at the executable\'s path again');
  assert.ok(readFileSync(`${host.exe}.previous`).equals(readFileSync(B_EXE)), 'B kept as .previous');
}));

test.run();
