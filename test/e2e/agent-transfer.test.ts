// The agent program's side of a cancelled transfer, measured on the process: the manager (a
// protocol-level one of the test's, so it can hold credit back) asks for a big file, grants no
// credit, then cancels or drops the connection; the agent's descriptor on the file is gone within
// a second (read from /proc/<pid>/fd), and the agent carries on.

import { randomBytes } from 'node:crypto';
import { readdirSync, readlinkSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tempDir, timed, waitFor } from '../harness.helper.ts';
import { cleanupAfterEach } from './inproc.helper.ts';
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

test('cancel, then a dropped connection: the agent process closes the file within a second each time', timed(40_000, async () => {
  if (process.platform !== 'linux') return console.log('  (skipped: reads /proc/<pid>/fd)');
  const m = await wireManager();
  closers.push(m.close);
  const dir = realpathSync(tempDir('hw-files-'));
  const file = join(dir, 'big.bin');
  writeFileSync(file, randomBytes(16 * 1024 * 1024)); // far more than the credit window
  const agent = startAgent(m, ['--name', 'transfer'], tempDir('hw-agent-'), false);
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
    await waitFor(() => fdsOn(pid, file) === 0, 1000, `the file closed after the ${end}`, 5);
    console.log(`  (${end}: the agent closed the file ${(performance.now() - t0).toFixed(0)} ms after)`);
    assert.ok((m.dataBytes.get(rid) ?? 0) <= 3 * 1024 * 1024, 'no more than the window was sent without credit');
  }
  await waitFor(() => m.messages.filter((x) => x.type === 'hello').length === 2, 15_000, 'reconnected after the cut');
  assert.is(agent.child.exitCode, null, agent.output());
  assert.match(agent.output(), /file transfer .*big\.bin failed: connection lost during the transfer \[DISCONNECTED\]/);
}));

test.run();
