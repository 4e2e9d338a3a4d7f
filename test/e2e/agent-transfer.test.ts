// The agent program's side of a cancelled transfer, measured on the process: the manager (a
// protocol-level one of the test's, so it can hold credit back) asks for a big file, grants no
// credit, then cancels or drops the connection; the agent's descriptor on the file is gone within
// a second (read from /proc/<pid>/fd), and the agent carries on.

import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readlinkSync, realpathSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tempDir, timed, waitFor } from '../harness.helper.ts';
import { cleanupAfterEach } from './inproc.helper.ts';
import type { FileEnd, Response } from '../../common/wire/messages.ts';
import { startAgent } from './procs.helper.ts';
import { wireManager } from './wire-manager.helper.ts';

const { closers } = cleanupAfterEach(test);

/** Descriptors process `pid` holds on `path`. */
function fdsOn(pid: number, path: string): number {
  let n = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`) === path) n++;
    } catch {
      // closed while listing
    }
  }
  return n;
}

test('cancel, then a dropped connection: the agent process closes the file each time', timed(60_000, async () => {
  if (process.platform !== 'linux') return console.log('  (skipped: reads /proc/<pid>/fd)');
  const m = await wireManager();
  closers.push(m.close);
  const dir = realpathSync(tempDir('hw-files-'));
  const file = join(dir, 'big.bin');
  writeFileSync(file, randomBytes(16 * 1024 * 1024)); // far more than the credit window
  const agent = startAgent(m, ['--name', 'transfer', '--files-root', dir], tempDir('hw-agent-'), false);
  const pid = agent.child.pid!;
  await waitFor(() => m.peer() && m.messages.some((x) => x.type === 'hello'), 15_000, 'hello');

  for (const [rid, end] of [[1, 'cancel'], [2, 'cut']] as const) {
    const peer = m.peer()!;
    peer.post({ type: 'req', id: rid, cmd: 'fetch', args: { path: file } });
    await waitFor(() => (m.dataBytes.get(rid) ?? 0) > 0, 10_000, `data of transfer ${rid}`);
    await waitFor(() => fdsOn(pid, file) === 1, 5000, 'the file open in the agent');
    const t0 = performance.now();
    if (end === 'cancel') peer.post({ type: 'cancel', id: rid });
    else peer.stream.destroy();
    // Waited for, not timed (a loaded machine makes any bound race): without credit nothing but the
    // cancel or the cut closes it; the time it took is printed for the record.
    await waitFor(() => fdsOn(pid, file) === 0, 10_000, `the file closed after the ${end}`, 5);
    console.log(`  (${end}: the agent closed the file ${(performance.now() - t0).toFixed(0)} ms after)`);
    if (end === 'cancel') assert.is(m.messages.filter((x) => x.type === 'hello').length, 1, 'closed by the cancel, on the same connection');
    assert.ok((m.dataBytes.get(rid) ?? 0) <= 3 * 1024 * 1024, 'no more than the window was sent without credit');
  }
  await waitFor(() => m.messages.filter((x) => x.type === 'hello').length === 2, 15_000, 'reconnected after the cut');
  assert.is(agent.child.exitCode, null, agent.output());
  assert.match(agent.output(), /file transfer .*big\.bin failed: connection lost during the transfer \[DISCONNECTED\]/);
}));

test('--files-root on the agent program: fetches raced against a folder swapped for a link outside never deliver it', timed(60_000, async () => {
  const m = await wireManager();
  closers.push(m.close);
  const base = realpathSync(tempDir('hw-files-'));
  const root = join(base, 'shared');
  const outside = join(base, 'outside');
  mkdirSync(join(root, 'dir'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(root, 'dir', 'file.txt'), 'the shared file');
  writeFileSync(join(outside, 'file.txt'), 'SECRET, outside the root');
  const secret = createHash('sha256').update('SECRET, outside the root').digest('hex');
  const agent = startAgent(m, ['--name', 'race', '--files-root', root], tempDir('hw-agent-'), false);
  await waitFor(() => m.peer() && m.messages.some((x) => x.type === 'hello'), 15_000, 'hello');
  let swapping = true;
  let swaps = 0;
  const swapper = (async () => {
    while (swapping) {
      renameSync(join(root, 'dir'), join(root, 'dir-real'));
      symlinkSync(outside, join(root, 'dir'));
      await new Promise((r) => setTimeout(r, 0));
      rmSync(join(root, 'dir'));
      renameSync(join(root, 'dir-real'), join(root, 'dir'));
      swaps++;
      await new Promise((r) => setTimeout(r, 0));
    }
  })();
  const fetch = async (rid: number): Promise<Response | FileEnd> => {
    m.peer()!.post({ type: 'req', id: rid, cmd: 'fetch', args: { path: join(root, 'dir', 'file.txt') } });
    return waitFor(() => m.messages.find((x): x is Response | FileEnd => (x.type === 'file-end' || x.type === 'res') && x.id === rid), 10_000, `answer ${rid}`, 2);
  };
  const outcomes = new Map<string, number>();
  try {
    const deadline = Date.now() + 20_000;
    for (let rid = 1; rid <= 300 && Date.now() < deadline; rid++) {
      const end = await fetch(rid);
      const outcome = end.type === 'file-end' ? 'sent' : (end.error?.code ?? 'ok');
      if (end.type === 'file-end') assert.is.not(end.sha256, secret, `transfer ${rid} delivered the file outside the root`);
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
  } finally {
    swapping = false;
    await swapper;
  }
  const summary = JSON.stringify(Object.fromEntries(outcomes));
  console.log(`  (raced fetches on the agent program: ${summary}, ${swaps} swaps)`);
  for (const code of outcomes.keys()) assert.ok(['sent', 'FILE_CHANGED', 'FILE_NOT_FOUND'].includes(code), summary);
  // And at rest, each way once: the real folder is served, the link out is refused.
  assert.is((await fetch(1001)).type, 'file-end');
  renameSync(join(root, 'dir'), join(root, 'dir-real'));
  symlinkSync(outside, join(root, 'dir'));
  const refused = await fetch(1002);
  assert.is(refused.type === 'res' && refused.error?.code, 'FILE_NOT_FOUND', 'outside the root: answered as missing');
  assert.is(agent.child.exitCode, null);
}));

test.run();
