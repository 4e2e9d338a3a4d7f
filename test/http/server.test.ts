// The listener helper on real sockets: listen errors said the one way, the Host check, the caps.
import { createServer } from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createListener, listen, loopbackHostHeader } from '../../common/http/server.ts';
import { cleanTempDirs, codeOfAsync, timed } from '../harness.helper.ts';
import { serveTest } from '../e2e/inproc.helper.ts';

const test = suite('http/server');

test('a port in use: BAD_ADDRESS naming the listener, the address and the flag to change', timed(10_000, async () => {
  const hog = createServer();
  await new Promise<void>((r) => hog.listen(0, '127.0.0.1', r));
  const port = (hog.address() as { port: number }).port;
  const server = createListener({ what: 'the control API' }, (_req, res) => res.end());
  let err: Error | undefined;
  try {
    await listen(server, { host: '127.0.0.1', port }, { what: 'the control API', flag: '--api' });
  } catch (e) {
    err = e as Error;
  }
  assert.is((err as { code?: string })?.code, 'BAD_ADDRESS');
  assert.is(err!.message, `the control API 127.0.0.1:${port}: already in use (another manager?); choose another with --api`);
  // The manager's own ports say it the same way.
  assert.is(await codeOfAsync(serveTest({ port })), 'BAD_ADDRESS');
  try {
    await serveTest({ port });
  } catch (e) {
    assert.match((e as Error).message, `the agents' TCP port 127.0.0.1:${port}: already in use`);
    assert.match((e as Error).message, 'choose another with --port');
  }
  hog.close();
}));

test('loopback Host names: addresses and localhost only, never a name that merely starts with 127', () => {
  for (const ok of ['127.0.0.1', '127.0.0.1:5007', 'localhost:5007', 'LOCALHOST', '[::1]:5007', '127.1.2.3']) assert.ok(loopbackHostHeader(ok), ok);
  for (const bad of ['127.evil.example', '127.0.0.1.example.com', 'example.com', 'localhost.example', '[::2]:1', '', '127.0.0.1:x']) assert.not.ok(loopbackHostHeader(bad), bad);
});

test.after(() => cleanTempDirs());

test.run();
