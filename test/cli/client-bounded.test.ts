// The CLI's client reads an error answer bounded: a control API (or something posing as one)
// answering 500 with a body that never ends gets a coded error at once, its connection cut.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { HttpClient } from '../../common/cli/client.ts';
import { cleanTempDirs, codeOfAsync, tempDir, timed, waitFor } from '../harness.helper.ts';
import { flood, startReceiver, type Receiver } from '../notify/receiver.helper.ts';
import { join } from 'node:path';

const test = suite('cli/client-bounded');
const open: Receiver[] = [];
test.after.each(async () => {
  for (const r of open.splice(0)) await r.close();
});

test('job and fetch: a 500 with an endless body is INTERNAL after 64 KiB, the connection cut', timed(20_000, async () => {
  const r = await startReceiver();
  open.push(r);
  const f = flood(500, Infinity);
  r.answer = f.answer;
  const c = new HttpClient({ host: '127.0.0.1', port: r.port }, 'token');
  assert.is(await codeOfAsync(c.job({ all: true, cmd: 'status', args: {}, parallel: 1 }, () => {})), 'INTERNAL');
  assert.is(await codeOfAsync(c.fetch('web1', '/etc/hosts', join(tempDir(), 'hosts'))), 'INTERNAL');
  await waitFor(() => f.cut === 2, 10_000, 'both connections cut');
  assert.ok(f.written < 64 * 1024 * 1024, `${f.written} bytes written`);
}));

test.after(() => cleanTempDirs());

test.run();
