// The switch and its rollback: B confirmed; B that exits at once or is never welcomed rolled back
// to A (started again); a crash between any two steps leaves a whole A or B at <exe>; and a real
// spawned "new agent" (a small node script) confirming through the state file.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  readUpgradeState, realSwitchFs, UpgradeSwitch, writeUpgradeState, detachedStarter, type Started, type Starter, type SwitchFs,
} from '../../common/agent/upgrade-switch.ts';
import { cleanTempDirs, tempDir, timed } from '../harness.helper.ts';

const test = suite('agent/upgrade-switch');
test.after.each(() => cleanTempDirs());

function setup() {
  const dir = tempDir();
  const exe = join(dir, 'agent');
  writeFileSync(exe, 'A-executable');
  writeFileSync(`${exe}.new`, 'B-executable');
  return { dir, exe };
}

/** A starter whose children do what `behave` says with the file at <exe> when started. */
function fakeStarter(exe: string, behave: (content: string, n: number) => 'confirm' | 'exit' | 'hang', dir: string) {
  const started: string[] = [];
  const killed: string[] = [];
  const start: Starter = () => {
    const content = readFileSync(exe, 'utf8');
    started.push(content);
    let exit!: (c: number | string | null) => void;
    const exited = new Promise<number | string | null>((r) => { exit = r; });
    const what = behave(content, started.length);
    if (what === 'exit') queueMicrotask(() => exit(1));
    if (what === 'confirm') setTimeout(() => writeUpgradeState(dir, { ...readUpgradeState(dir)!, phase: 'confirmed' }), 20);
    const s: Started = { pid: 1000 + started.length, exited, kill: (sig) => { killed.push(`${content}:${sig ?? 'SIGTERM'}`); exit(sig ?? 'SIGTERM'); } };
    return s;
  };
  return { start, started, killed };
}

const opts = (dir: string, exe: string, start: Starter, extra = {}) => ({
  exe, stateDir: dir, command: { cmd: 'x', args: [] }, from: '0.1.0', to: '0.2.0', by: 'admin', start, pollMs: 10, ...extra,
});

test('B welcomed: confirmed, B at <exe>, A kept as .previous', timed(10_000, async () => {
  const { dir, exe } = setup();
  const s = fakeStarter(exe, () => 'confirm', dir);
  const r = await new UpgradeSwitch(opts(dir, exe, s.start)).run();
  assert.equal(r, { ok: true });
  assert.is(readFileSync(exe, 'utf8'), 'B-executable');
  assert.is(readFileSync(`${exe}.previous`, 'utf8'), 'A-executable');
  assert.equal(s.started, ['B-executable']);
  assert.is(readUpgradeState(dir)?.phase, 'confirmed');
}));

test('B exits at once: A put back and started, rolled-back with the reason', timed(10_000, async () => {
  const { dir, exe } = setup();
  const s = fakeStarter(exe, (c) => (c.startsWith('B') ? 'exit' : 'hang'), dir);
  const r = await new UpgradeSwitch(opts(dir, exe, s.start)).run();
  assert.is(r.ok, false);
  assert.match((r as { reason: string }).reason, /exited \(code 1\)/);
  assert.is(readFileSync(exe, 'utf8'), 'A-executable');
  assert.equal(s.started, ['B-executable', 'A-executable']);
  const st = readUpgradeState(dir)!;
  assert.is(st.phase, 'rolled-back');
  assert.is(st.by, 'admin');
}));

test('B never welcomed: stopped at the deadline, A put back and started', timed(10_000, async () => {
  const { dir, exe } = setup();
  const s = fakeStarter(exe, () => 'hang', dir);
  const r = await new UpgradeSwitch(opts(dir, exe, s.start, { probationMs: 200 })).run();
  assert.match((r as { reason: string }).reason, /not connected and welcomed within/);
  assert.equal(s.killed, ['B-executable:SIGTERM']);
  assert.is(readFileSync(exe, 'utf8'), 'A-executable');
  assert.equal(s.started, ['B-executable', 'A-executable']);
}));

test('a crash (kill -9) between any two steps leaves a whole A or B at <exe>, and which one the state says', timed(20_000, async () => {
  for (let stopAt = 1; stopAt <= 12; stopAt++) {
    const { dir, exe } = setup();
    let n = 0;
    const crash = () => { if (++n === stopAt) throw new Error('killed'); };
    const fs: SwitchFs = Object.fromEntries(Object.entries(realSwitchFs).map(([k, f]) => [k, (...a: unknown[]) => { crash(); return (f as (...x: unknown[]) => unknown)(...a); }])) as unknown as SwitchFs;
    const s = fakeStarter(exe, (c) => (c.startsWith('B') ? 'exit' : 'hang'), dir);
    let crashed = false;
    try {
      await new UpgradeSwitch({ ...opts(dir, exe, s.start), fs }).run();
    } catch {
      crashed = true;
    }
    const content = readFileSync(exe, 'utf8');
    assert.ok(content === 'A-executable' || content === 'B-executable', `step ${stopAt}: ${content}`);
    const st = readUpgradeState(dir);
    if (content === 'B-executable') assert.ok(st && (st.phase === 'probation' || st.phase === 'switching'), `step ${stopAt}: B in place is in probation (${st?.phase})`);
    if (!crashed) assert.is(content, 'A-executable', 'a completed rollback');
  }
}));

test('Windows (aside): the running A renamed to .previous, B renamed in; a rollback renames B aside to .failed and A back', timed(10_000, async () => {
  const { dir, exe } = setup();
  const ok = fakeStarter(exe, () => 'confirm', dir);
  assert.equal(await new UpgradeSwitch({ ...opts(dir, exe, ok.start), aside: true }).run(), { ok: true });
  assert.is(readFileSync(exe, 'utf8'), 'B-executable');
  assert.is(readFileSync(`${exe}.previous`, 'utf8'), 'A-executable');

  const b = setup();
  const renames: string[] = [];
  const fs: SwitchFs = { ...realSwitchFs, link: () => { throw new Error('no link in aside mode'); }, rename: (f, t) => { renames.push(`${f.slice(b.exe.length) || '<exe>'}->${t.slice(b.exe.length) || '<exe>'}`); realSwitchFs.rename(f, t); } };
  const s = fakeStarter(b.exe, (c) => (c.startsWith('B') ? 'exit' : 'hang'), b.dir);
  const r = await new UpgradeSwitch({ ...opts(b.dir, b.exe, s.start), aside: true, fs }).run();
  assert.is(r.ok, false);
  // never a rename onto the running executable: each one moves it away or fills a free name
  assert.equal(renames, ['<exe>->.previous', '.new-><exe>', '<exe>->.failed', '.previous-><exe>']);
  assert.is(readFileSync(b.exe, 'utf8'), 'A-executable');
  assert.is(readFileSync(`${b.exe}.failed`, 'utf8'), 'B-executable');
  assert.equal(s.started, ['B-executable', 'A-executable']);
}));

/** What the task's .cmd does before it starts <exe> (install.ts, serviceCmd). */
function taskRecovery(exe: string): void {
  if (!existsSync(exe) && existsSync(`${exe}.previous`)) renameSync(`${exe}.previous`, exe);
}

test('Windows (aside): a crash between any two steps leaves A or B at <exe> once the task\'s .cmd has run', timed(20_000, async () => {
  let missing = 0;
  for (let stopAt = 1; stopAt <= 12; stopAt++) {
    const { dir, exe } = setup();
    let n = 0;
    const fs: SwitchFs = Object.fromEntries(Object.entries(realSwitchFs).map(([k, f]) => [k, (...a: unknown[]) => { if (++n === stopAt) throw new Error('killed'); return (f as (...x: unknown[]) => unknown)(...a); }])) as unknown as SwitchFs;
    const s = fakeStarter(exe, (c) => (c.startsWith('B') ? 'exit' : 'hang'), dir);
    await new UpgradeSwitch({ ...opts(dir, exe, s.start), aside: true, fs }).run().catch(() => {});
    if (!existsSync(exe)) missing++;
    taskRecovery(exe);
    const content = readFileSync(exe, 'utf8');
    assert.ok(content === 'A-executable' || content === 'B-executable', `step ${stopAt}: ${content}`);
    if (content === 'B-executable') assert.ok(['probation', 'switching'].includes(readUpgradeState(dir)?.phase ?? ''), `step ${stopAt}: B in place is in probation`);
  }
  assert.ok(missing >= 1, 'the instant between the two renames was hit');
}));

test('a real process as the new agent: confirms through the state file', timed(15_000, async () => {
  const { dir, exe } = setup();
  const script = join(dir, 'new-agent.mjs');
  writeFileSync(script, `import { readFileSync, writeFileSync, renameSync } from 'node:fs';
const p = ${JSON.stringify(join(dir, 'upgrade.json'))};
const s = JSON.parse(readFileSync(p, 'utf8'));
writeFileSync(p + '.t', JSON.stringify({ ...s, phase: 'confirmed' })); renameSync(p + '.t', p);
`);
  const r = await new UpgradeSwitch({ ...opts(dir, exe, detachedStarter), command: { cmd: process.execPath, args: [script] } }).run();
  assert.equal(r, { ok: true });
  assert.is(readFileSync(exe, 'utf8'), 'B-executable');
}));

test.run();
