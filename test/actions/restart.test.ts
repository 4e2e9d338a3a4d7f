import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { restartCommand, runRestart } from '../../common/actions/restart.ts';
import { cleanTempDirs, tempDir, timed, waitFor } from '../harness.helper.ts';

// Never call runRestart() here without an override: it would restart the machine.
const test = suite('actions/restart');
test.after(cleanTempDirs);

test('the command per platform', () => {
  assert.equal(restartCommand('linux'), { file: 'shutdown', args: ['-r', 'now'], shell: false });
  assert.equal(restartCommand('win32'), { file: 'shutdown', args: ['/r', '/t', '0'], shell: false });
  assert.equal(restartCommand('linux', 'systemctl reboot --message="hw"'), { file: 'systemctl reboot --message="hw"', args: [], shell: true });
  assert.equal(restartCommand('linux', '  '), { file: 'shutdown', args: ['-r', 'now'], shell: false }, 'blank override is no override');
});

test('the override runs through the shell, detached, and its exit code is reported', timed(20_000, async () => {
  if (process.platform === 'win32') return;
  const marker = join(tempDir('hw-restart-'), 'restarted');
  const started = await runRestart(process.platform, `echo restarted > '${marker}'`);
  assert.type(started.pid, 'number');
  assert.is(await started.exit, 0);
  await waitFor(() => existsSync(marker), 10_000, 'marker');
  assert.is(readFileSync(marker, 'utf8'), 'restarted\n');
  const failing = await runRestart(process.platform, 'exit 3');
  assert.is(await failing.exit, 3);
}));

test.run();
