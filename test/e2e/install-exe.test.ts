// `agent install` from the built single-file agent (dist/agent-linux-x64), as a user runs it: it
// copies itself (the executable, byte for byte) under --root and writes the unit; refused as nobody.
// Skipped without the executable unless CI requires it (HOSTWATCH_REQUIRE_EXE=1), as exe.test.ts.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cleanTempDirs, tempDir, timed } from '../harness.helper.ts';
import { AGENT_JS } from './procs.helper.ts';

const AGENT_EXE = join(AGENT_JS, '..', '..', 'dist', 'agent-linux-x64');
const REQUIRE = process.env.HOSTWATCH_REQUIRE_EXE === '1';
const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

function have(): boolean {
  if (existsSync(AGENT_EXE) && process.platform === 'linux' && process.arch === 'x64') return true;
  assert.not.ok(REQUIRE, `${AGENT_EXE} is missing: npm run build`);
  console.log(`  (skipped: no ${AGENT_EXE}; npm run build makes it)`);
  return false;
}

test.after(() => cleanTempDirs());

test('the built agent installs a copy of itself under --root, with the unit', timed(60_000, async () => {
  if (!have()) return;
  const here = tempDir('hw-exe-');
  const exe = join(here, 'agent');
  copyFileSync(AGENT_EXE, exe);
  chmodSync(exe, 0o755);
  const root = tempDir('hw-root-');
  const r = spawnSync(exe, ['install', '--manager', '10.0.0.5', '--label', 'role=web', '--root', root], { cwd: here, env: { PATH: '/usr/bin:/bin' }, encoding: 'utf8' });
  assert.is(r.status, 0, r.stdout + r.stderr);
  assert.is(sha(join(root, 'usr/local/lib/hostwatch-agent/hostwatch-agent')), sha(AGENT_EXE));
  assert.match(readFileSync(join(root, 'etc/systemd/system/hostwatch-agent.service'), 'utf8'), 'ExecStart=/usr/local/lib/hostwatch-agent/hostwatch-agent --manager 10.0.0.5 --state-dir /var/lib/hostwatch-agent --label role=web\n');
}));

test('the built agent as nobody: NOT_ROOT, exit 2', timed(30_000, async () => {
  if (!have()) return;
  if (process.getuid?.() !== 0 || spawnSync('setpriv', ['--version']).status !== 0) return console.log('  (skipped: needs root and setpriv)');
  const root = tempDir('hw-root-');
  chmodSync(root, 0o777);
  const r = spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', AGENT_EXE, 'install', '--manager', '10.0.0.5', '--root', root], { encoding: 'utf8' });
  assert.is(r.status, 2, r.stderr);
  assert.match(r.stderr, '[NOT_ROOT]');
}));

test.run();
