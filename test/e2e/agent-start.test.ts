// The agent program at start-up, as an administrator meets it: a broken pin file or alerts.json
// stops it with one line naming the file and the fix, before it connects anywhere; a bad
// --files-root stops it before any key or state is made.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tempDir, timed } from '../harness.helper.ts';
import { cleanupAfterEach, serveTest } from './inproc.helper.ts';
import { startAgent } from './procs.helper.ts';

const { closers } = cleanupAfterEach(test);

async function exits(p: { exited: Promise<number | null>; kill: () => Promise<number | null> }, ms: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<'timeout'>((r) => { timer = setTimeout(() => r('timeout'), ms); });
  const code = await Promise.race([p.exited, t]);
  clearTimeout(timer);
  if (code === 'timeout') {
    await p.kill();
    throw new Error(`the agent did not exit within ${ms} ms`);
  }
  return code;
}

for (const [file, content, fix] of [
  ['manager-pins.json', '{"127.0.0.1:5005": "AB:CD', /--manager-fingerprint/],
  ['alerts.json', '{"epoch":"e1","nextSeq":4,"pending":[{"type":"alert"', /move it away/],
] as const) {
  test(`a broken ${file} stops the agent at start with one line naming it, and nothing is sent`, timed(30_000, async () => {
    const s = await serveTest();
    closers.push(s.close);
    const stateDir = tempDir('hw-agent-');
    writeFileSync(join(stateDir, file), content);
    const p = startAgent(s, ['--name', 'broken-state'], stateDir);
    const code = await exits(p, 15_000);
    assert.is(code, 1, p.output());
    const lines = p.output().trim().split('\n');
    const err = lines.at(-1)!;
    assert.ok(err.startsWith('agent: '), err);
    assert.ok(err.includes(join(stateDir, file)), err);
    assert.match(err, /\[STATE_CORRUPT\]$/);
    assert.match(err, fix);
    assert.not.match(p.output(), /at .*\.mjs:\d+/, 'no stack trace');
    assert.is(readFileSync(join(stateDir, file), 'utf8'), content, 'the file is left for the administrator');
    assert.equal(s.manager.state.agents(true), [], 'the manager never heard from it');
  }));
}

test('a --files-root that does not exist stops the agent before it makes a key or a state folder', timed(20_000, async () => {
  const base = tempDir('hw-agent-');
  const stateDir = join(base, 'state');
  const p = startAgent({ tcpPort: 1, udpPort: 1 }, ['--files-root', join(base, 'no-such-folder')], stateDir, false);
  const code = await exits(p, 15_000);
  assert.is(code, 2, p.output());
  assert.match(p.output(), /--files-root .*no-such-folder: no such folder \[BAD_FLAG\]/);
  assert.not.ok(existsSync(stateDir), 'no state folder, so no key in it');
  mkdirSync(stateDir);
  const again = startAgent({ tcpPort: 1, udpPort: 1 }, ['--files-root', join(base, 'no-such-folder')], stateDir, false);
  assert.is(await exits(again, 15_000), 2);
  assert.not.ok(existsSync(join(stateDir, 'agent-key.pem')), 'no key made');
  assert.not.ok(existsSync(join(stateDir, 'agent-id')), 'no id made');
}));

test.run();
