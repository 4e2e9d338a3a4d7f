// The agent executables' names (as scripts/build.mjs writes them), the default folder, and the
// sha256 read again when the file changes.

import { utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AgentDist, defaultAgentDist, distName } from '../../common/install/dist.ts';
import { cleanTempDirs, codeOf, tempDir } from '../harness.helper.ts';

test.after(() => cleanTempDirs());

test('names as the build writes them', () => {
  assert.is(distName('linux', 'x64'), 'agent-linux-x64');
  assert.is(distName('linux', 'arm64'), 'agent-linux-arm64');
  assert.is(distName('windows', 'x64'), 'agent-win-x64.exe');
});

test('default folder: the executable\'s own; from a checkout (node runs .build/manager.mjs) its dist/', () => {
  assert.is(defaultAgentDist('/opt/hostwatch/manager-linux-x64', '/opt/hostwatch/manager-linux-x64'), '/opt/hostwatch');
  assert.is(defaultAgentDist('/usr/bin/node', '/src/hostwatch/.build/manager.mjs'), '/src/hostwatch/dist');
});

test('only agent-<os>-<arch> names are served; a missing one is DIST_MISSING', () => {
  const d = new AgentDist(tempDir('hw-dist-'));
  for (const bad of ['manager-linux-x64', 'agent-win-x64', 'agent-linux-x64.exe', '../agent-linux-x64', 'agent-linux-x64/..']) assert.is(codeOf(() => d.file(bad)), 'NOT_FOUND', bad);
  assert.is(codeOf(() => d.file('agent-linux-x64')), 'DIST_MISSING');
  for (const n of ['agent-linux-x64', 'agent-win-x64.exe', 'agent-win-x64', 'manager-linux-x64', 'notes.txt']) writeFileSync(join(d.dir, n), '');
  assert.equal(d.present(), ['agent-linux-x64', 'agent-win-x64.exe']);
});

test('sha256: computed once, again when the file changes', async () => {
  const dir = tempDir('hw-dist-');
  const f = join(dir, 'agent-linux-x64');
  writeFileSync(f, 'one');
  const d = new AgentDist(dir);
  assert.is(await d.sha256('agent-linux-x64'), '7692c3ad3540bb803c020b3aee66cd8887123234ea0c6e7143c0add73ff431ed');
  writeFileSync(f, 'two');
  utimesSync(f, new Date(), new Date(Date.now() + 5000));
  assert.is(await d.sha256('agent-linux-x64'), '3fc4ccfe745870e2c0d99f71f30ff0656c8dedd41cc1d7d3d376b0dbe685e2f3');
});

test.run();
