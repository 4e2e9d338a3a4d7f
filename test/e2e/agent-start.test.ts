// The agent program at start-up, as an administrator meets it: a broken pin file or alerts.json
// stops it with one line naming the file and the fix, before it connects anywhere; a bad
// --files-root stops it before any key or state is made. The enroll token from a file or the
// environment (out of `ps`) lets it in at once; an empty token file stops it with one coded line.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tempDir, timed, waitFor } from '../harness.helper.ts';
import { cleanupAfterEach, serveTest } from './inproc.helper.ts';
import { AGENT_JS, run, startAgent } from './procs.helper.ts';

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

test('--enroll-token-file and HOSTWATCH_ENROLL_TOKEN enroll at once, the token in no command line; an empty file stops the agent', timed(40_000, async () => {
  const s = await serveTest({ autoAccept: false });
  closers.push(s.close);
  const token = readFileSync(join(s.dataDir, 'enroll-token'), 'utf8').trim();
  // As the manager tells the administrator: the token in a file only the agent's user reads.
  const file = join(tempDir('hw-token-'), 'enroll-token');
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  const args = (name: string, extra: string[] = []) => [
    '--manager', `127.0.0.1:${s.tcpPort}`, '--udp-port', String(s.udpPort), '--interval', '1', '--state-dir', tempDir('hw-agent-'), '--name', name, ...extra,
  ];
  const byFile = run(AGENT_JS, args('by-file', ['--enroll-token-file', file]));
  const byEnv = run(AGENT_JS, args('by-env'), { env: { HOSTWATCH_ENROLL_TOKEN: token } });
  run(AGENT_JS, args('no-token'));
  const online = (name: string) => s.manager.state.agents(true).find((a) => a.name === name && a.online);
  await waitFor(() => online('by-file') && online('by-env') && online('no-token'), 20_000, 'three agents connected');
  assert.is(online('by-file')!.trust, 'accepted', byFile.output());
  assert.is(online('by-env')!.trust, 'accepted', byEnv.output());
  assert.is(online('no-token')!.trust, 'pending', 'without the token it waits (no --auto-accept here)');
  if (process.platform === 'linux') {
    for (const p of [byFile, byEnv]) assert.not.ok(readFileSync(`/proc/${p.child.pid}/cmdline`, 'utf8').includes(token), 'not in ps');
  }

  const stateDir = tempDir('hw-agent-');
  const empty = join(tempDir('hw-token-'), 'enroll-token');
  writeFileSync(empty, '', { mode: 0o600 });
  const p = startAgent(s, ['--name', 'empty-token', '--enroll-token-file', empty], stateDir, false);
  assert.is(await exits(p, 15_000), 2, p.output()); // bad usage, like any bad flag
  const lines = p.output().trim().split('\n');
  assert.is(lines.length, 1, p.output());
  assert.is(lines[0], `agent: --enroll-token-file ${empty} is empty: it must hold the manager's enroll token (its data folder's enroll-token file) [BAD_ENROLL_TOKEN]`);
  assert.not.ok(existsSync(join(stateDir, 'agent-key.pem')), 'stopped before making a key');
}));

test('agent --help: --enroll-token says it shows in ps and points to --enroll-token-file; --files-root says fetch is off without it', timed(20_000, async () => {
  const p = run(AGENT_JS, ['--help']);
  assert.is(await exits(p, 15_000), 0);
  const help = p.output().replace(/\s+/g, ' ');
  assert.match(help, /--enroll-token-file <path>/);
  assert.match(help, /HOSTWATCH_ENROLL_TOKEN/);
  assert.match(help, /--enroll-token <token> .*visible to every user of this host in `ps`, prefer --enroll-token-file/);
  assert.match(help, /Without it every fetch is refused \(FILES_DISABLED\)/);
}));

test.run();
