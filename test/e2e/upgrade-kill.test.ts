// A kill -9 of the agent in the middle of the switch, at each step, then the host's restart (what
// systemd's Restart= or the Windows task does: the same command line, whatever file is at <exe>):
// the host runs A or B, never neither, and the files on disk let that start finish the switch (B
// confirms at its welcome) or undo it (A reports it rolled back). And the watcher killed during
// probation: a B that is welcomed stays; a B that is not puts A back itself at the deadline.
//
// The switch runs in a child process (this file, run with HW_SWITCH_CHILD) that SIGKILLs itself at
// the step under test; the agents are the dev bundles (A 0.1.0, B the same built as 0.2.0) run by
// node from a copy, as upgrade.test.ts does; the manager is real.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { detachedStarter, readUpgradeState, realSwitchFs, UpgradeSwitch, type SwitchFs } from '../../common/agent/upgrade-switch.ts';
import { cleanTempDirs, timed, waitFor } from '../harness.helper.ts';
import { AGENT_JS, BUILD, cliJson, killAll, run, startManager, waitOnline, type ManagerProc } from './procs.helper.ts';
import { buildAgentVersion, killPids } from './upgrade.helper.ts';

type Step = 'switching' | 'renamed' | 'probation' | 'started';
interface ChildJob { exe: string; stateDir: string; args: string[]; step: Step; probationMs: number; pidFile: string }

/** The child: does the switch A -> B of `exe` and kills itself with SIGKILL at `step`. */
function child(job: ChildJob): void {
  const die = () => process.kill(process.pid, 'SIGKILL');
  const fs: SwitchFs = {
    ...realSwitchFs,
    writeState: (d, s) => {
      if (s.phase === 'probation' && job.step === 'renamed') die(); // B renamed in, probation not yet written
      realSwitchFs.writeState(d, s);
    },
  };
  const sw = new UpgradeSwitch({
    exe: job.exe, stateDir: job.stateDir, command: { cmd: process.execPath, args: [job.exe, ...job.args] }, from: '0.1.0', to: '0.2.0',
    probationMs: job.probationMs, fs, aside: false,
    start: (cmd, args) => {
      const b = detachedStarter(cmd, args);
      writeFileSync(job.pidFile, String(b.pid));
      die(); // the watcher killed while B runs
      return b;
    },
  });
  sw.keepPrevious();
  if (job.step === 'switching') die();
  const deadline = sw.swap();
  if (job.step === 'probation') die();
  void sw.watch(deadline);
}

const CHILD = process.env.HW_SWITCH_CHILD;
if (CHILD) child(JSON.parse(CHILD) as ChildJob);

const work = join(BUILD, `upgrade-kill-${randomBytes(4).toString('hex')}`); // inside .build: the bundle finds node_modules
const B = join(work, 'b', 'agent.mjs');
let mgr: ManagerProc;
let setupError: unknown;

/** Every process whose command line names this test's folder (agents started detached by a switch). */
function ours(): number[] {
  const found: number[] = [];
  for (const p of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      if (Number(p) !== process.pid && readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(work)) found.push(Number(p));
    } catch { /* gone */ }
  }
  return found;
}

if (!CHILD) {
  test.before(async () => {
    try {
      mkdirSync(join(work, 'b'), { recursive: true });
      await buildAgentVersion(B, '0.2.0');
      mgr = await startManager();
    } catch (err) {
      setupError = err;
    }
  });

  test.after(async () => {
    killPids(ours());
    await killAll();
    rmSync(work, { recursive: true, force: true });
    cleanTempDirs();
  });
}

/** An enrolled host on A, stopped, with B received beside it (<exe>.new), as before a switch. */
async function hostReady(name: string, managerPort = mgr.tcpPort) {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  const exe = join(dir, 'agent.mjs');
  copyFileSync(AGENT_JS, exe);
  const stateDir = join(dir, 'state');
  const enroll = ['--manager', `127.0.0.1:${mgr.tcpPort}`, '--udp-port', String(mgr.udpPort), '--interval', '1', '--state-dir', stateDir,
    '--enroll-token-file', join(mgr.dataDir, 'enroll-token'), '--name', name, '--allow-upgrade'];
  const first = run(exe, enroll);
  const rec = await waitOnline(mgr.dataDir, name, undefined, first);
  await first.kill('SIGTERM');
  copyFileSync(B, `${exe}.new`);
  const args = enroll.map((a) => (a === `127.0.0.1:${mgr.tcpPort}` ? `127.0.0.1:${managerPort}` : a));
  return { exe, stateDir, args, id: rec.id as string, epoch: JSON.parse(readFileSync(join(stateDir, 'alerts.json'), 'utf8')).epoch };
}

/** Runs the switch in a child that kills itself (SIGKILL) at `step`; resolves once it is dead. */
async function switchKilledAt(h: { exe: string; stateDir: string; args: string[] }, step: Step, probationMs = 60_000): Promise<number | undefined> {
  const pidFile = join(h.exe, '..', 'b.pid');
  const job: ChildJob = { exe: h.exe, stateDir: h.stateDir, args: h.args, step, probationMs, pidFile };
  const c = spawn(process.execPath, [fileURLToPath(import.meta.url)], { env: { ...process.env, HW_SWITCH_CHILD: JSON.stringify(job) }, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  c.stderr.on('data', (d) => { err += d; });
  const signal = await new Promise<string | null>((r) => c.on('exit', (_code, sig) => r(sig)));
  assert.is(signal, 'SIGKILL', `the switch child died by SIGKILL at ${step}: ${err}`);
  return existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : undefined;
}

const content = (f: string) => readFileSync(f);
const isA = (f: string) => content(f).equals(content(AGENT_JS));
const isB = (f: string) => content(f).equals(content(B));

async function onlineAs(name: string, version: string): Promise<any> {
  return waitFor(async () => (await cliJson<any[]>(mgr.dataDir, ['agents'])).find((x) => x.name === name && x.online && x.version === version), 40_000, `${name} online on ${version}`);
}

if (!CHILD) {
  test('setup: a manager, B built as 0.2.0', () => {
    if (setupError) throw setupError;
  });

  test('killed after B was written (<exe>.new): the restart runs A, which writes the next upgrade over it', timed(60_000, async () => {
    const h = await hostReady('kill-written');
    const r = run(h.exe, h.args);
    const rec = await onlineAs('kill-written', '0.1.0');
    assert.is(rec.id, h.id);
    assert.ok(isA(h.exe));
    assert.is(readUpgradeState(h.stateDir), undefined, 'no switch begun');
    await r.kill('SIGTERM');
  }));

  for (const [step, runs, what] of [
    ['switching', '0.1.0', 'A kept as .previous, <exe> still A: the restart runs A, which reports the switch undone'],
    ['renamed', '0.2.0', 'B renamed in, probation not yet written: the restart runs B, which is welcomed and confirms'],
    ['probation', '0.2.0', 'probation written, B not yet started: the restart runs B, which confirms'],
  ] as const) {
    test(`killed at ${step}: ${what}`, timed(90_000, async () => {
      const name = `kill-${step}`;
      const h = await hostReady(name);
      await switchKilledAt(h, step);
      assert.ok(isA(h.exe) || isB(h.exe), 'a whole A or B at <exe>');
      assert.ok(isA(`${h.exe}.previous`), 'A kept');
      const r = run(h.exe, h.args); // the restart
      const rec = await onlineAs(name, runs);
      assert.is(rec.id, h.id, 'same id');
      assert.is(JSON.parse(readFileSync(join(h.stateDir, 'alerts.json'), 'utf8')).epoch, h.epoch, 'same alert queue');
      const done = await waitFor(() => {
        const s = readUpgradeState(h.stateDir);
        return s && (s.phase === 'confirmed' || s.phase === 'reported') ? s : null;
      }, 20_000, 'the switch finished or undone');
      assert.is(done.phase, runs === '0.2.0' ? 'confirmed' : 'reported');
      assert.ok(runs === '0.2.0' ? isB(h.exe) : isA(h.exe));
      await r.kill('SIGTERM');
    }));
  }

  test('the watcher killed during probation, B welcomed: B stays, confirmed', timed(90_000, async () => {
    const h = await hostReady('kill-started');
    const bPid = await switchKilledAt(h, 'started');
    assert.ok(bPid, 'B was started');
    await onlineAs('kill-started', '0.2.0');
    await waitFor(() => readUpgradeState(h.stateDir)?.phase === 'confirmed', 20_000, 'confirmed by B');
    assert.ok(isB(h.exe));
    process.kill(bPid!, 'SIGTERM');
  }));

  test('the watcher killed during probation, B never welcomed: B puts A back itself at the deadline and starts it', timed(90_000, async () => {
    // The service's command names a port where no manager listens: B cannot be welcomed.
    const closed = await new Promise<number>((r) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => r(p));
      });
    });
    const h = await hostReady('kill-unwelcomed', closed);
    const started = Date.now();
    const bPid = await switchKilledAt(h, 'started', 3000);
    assert.ok(bPid, 'B was started');
    const s = await waitFor(() => {
      const st = readUpgradeState(h.stateDir);
      return st?.phase === 'rolled-back' ? st : null;
    }, 20_000, 'rolled back by B');
    assert.match(s.reason!, /not welcomed by .* and its watcher was gone/);
    assert.ok(Date.now() - started >= 3000, 'not before the deadline');
    assert.ok(isA(h.exe), 'A back at <exe>');
    await waitFor(() => {
      try {
        process.kill(bPid!, 0);
        return false;
      } catch {
        return true;
      }
    }, 15_000, 'B gone');
    // A was started again by B: a process of this host runs A's file.
    await waitFor(() => ours().some((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(join(work, 'kill-unwelcomed'))), 10_000, 'A running');
  }));

  test.run();
}
