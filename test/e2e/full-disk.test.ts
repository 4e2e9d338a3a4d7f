// A full disk under the manager's data folder, for real: a small tmpfs mounted as the data folder
// (the tests run as root; skipped with a message otherwise), filled up while a real agent raises
// alerts. The manager keeps serving from memory and says so, acknowledges nothing it could not
// write (the agent keeps the alerts), and once space is back writes what it held: every alert
// exactly once in `alerts --json` and in events.jsonl, and a `storage` event in the record.
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tempDir, timed, waitFor } from '../harness.helper.ts';
import { apiJson, cliJson, startManager } from './procs.helper.ts';
import { cleanupAfterEach, drivenDeps, testAgent } from './inproc.helper.ts';

const { agents, closers } = cleanupAfterEach(test);

const root = process.platform === 'linux' && process.getuid?.() === 0;

/** Mounts a tmpfs of `size` at a new folder; unmounted after the test. */
function smallDisk(size: string): string {
  const dir = join(tempDir('hw-tmpfs-'), 'data');
  mkdirSync(dir);
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir]);
  closers.push(() => { execFileSync('umount', ['-l', dir]); });
  return dir;
}

/** Appends to `file` until the disk refuses: ENOSPC. Bounded by the disk's size. */
function fill(file: string): void {
  const chunk = Buffer.alloc(64 * 1024, 1);
  for (let i = 0; i < 100_000; i++) {
    try {
      appendFileSync(file, chunk);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
      throw err;
    }
  }
  // The last pages too: small appends until not even a byte fits.
  for (let i = 0; i < 10_000; i++) {
    try {
      appendFileSync(file, 'x'.repeat(512));
    } catch {
      break;
    }
  }
}

const alertLines = (dir: string) => readFileSync(join(dir, 'events.jsonl'), 'utf8').split('\n')
  .filter((l) => l.includes('"event":"alert"')).flatMap((l) => { try { return [JSON.parse(l).alert]; } catch { return []; } });

test('a full disk under the data folder: served from memory, nothing acknowledged, every alert exactly once after', timed(90_000, async () => {
  if (!root) {
    process.stdout.write('\n    (skipped: mounting a tmpfs needs root on Linux)\n');
    return;
  }
  const dataDir = smallDisk('4m');
  const m = await startManager(['--auto-accept'], dataDir);
  closers.unshift(() => void m.kill()); // stopped before the disk is unmounted
  const deps = drivenDeps();
  const agent = await testAgent(m, deps, { name: 'hot', cpuForS: 0.1, alertRetryMs: 200 });
  agents.push(agent);
  await waitFor(() => agent.connected, 10_000, 'connected');
  let raised = 0;
  agent.on('alert', () => raised++);
  // One alert on a healthy disk first.
  deps.cpu = 99;
  await waitFor(() => raised === 1 && agent.pendingAlerts() === 0, 10_000, 'first alert acknowledged');

  fill(join(dataDir, 'filler'));
  // Alerts while full. The record's last page may still take a line or two, so flip until the
  // manager says it cannot write (at most 40 alerts), then two more.
  const flip = async () => {
    deps.cpu = deps.cpu === 99 ? 1 : 99;
    const want = raised + 1;
    await waitFor(() => raised === want, 10_000, `alert ${want}`);
  };
  for (let i = 0; i < 40 && !/STORAGE: cannot write/.test(m.output()); i++) await flip();
  assert.match(m.output(), /STORAGE: cannot write .*events\.jsonl \(ENOSPC\)/, 'the notice');
  await flip();
  await flip();
  const total = raised;
  // Served from memory and said so; nothing the disk did not take was acknowledged.
  const stats = await apiJson(dataDir, '/api/stats');
  assert.is(stats.storage.ok, false);
  assert.is(stats.storage.error, 'ENOSPC');
  assert.ok(stats.storage.heldRecords >= 3, `held ${stats.storage.heldRecords}`);
  const listed = (await cliJson<any[]>(dataDir, ['alerts'])).filter((a) => a.agent === 'hot');
  assert.is(listed.length, total, 'shown at once, from memory, each once');
  // Resent (every 200 ms) meanwhile, never acknowledged: still queued on the agent.
  await waitFor(() => agent.pendingAlerts() >= 3, 5000, 'unacknowledged alerts kept by the agent');
  const queued = agent.pendingAlerts();
  assert.is(m.child.exitCode, null, 'the manager is running');

  rmSync(join(dataDir, 'filler'));
  await waitFor(() => agent.pendingAlerts() === 0, 20_000, 'acknowledged once written');
  await waitFor(() => /STORAGE: .* is written again/.test(m.output()), 5000, 'the recovery notice');
  assert.ok((await apiJson(dataDir, '/api/stats')).storage.ok);
  const after = (await cliJson<any[]>(dataDir, ['alerts'])).filter((a) => a.agent === 'hot');
  const seqs = Array.from({ length: total }, (_, i) => i + 1);
  assert.equal(after.map((a) => a.seq), seqs, '`alerts --json`: each exactly once');
  const logged = alertLines(dataDir).filter((a: any) => a.agent === 'hot').map((a: any) => a.seq);
  assert.equal(logged, seqs, 'events.jsonl: each exactly once');
  process.stdout.write(`\n    full disk: ${total} alerts, ${queued} held unacknowledged while full, each once after\n`);
  const events = readFileSync(join(dataDir, 'events.jsonl'), 'utf8');
  assert.match(events, /"event":"storage","state":"failing","error":"ENOSPC"/);
  assert.match(events, /"event":"storage","state":"recovered"/);
  await m.kill();
}));

test.run();
