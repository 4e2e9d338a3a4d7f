// The CLI's connect timeout against a real listener that cannot take the connection: a process
// listening with a backlog of 1 is stopped (SIGSTOP), so once its queue is full the kernel drops
// further SYNs and a connect hangs, as it does to a firewalled or frozen manager.
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CLIENT_RESPONSE_TIMEOUT_MS, HttpClient } from '../../common/cli/client.ts';
import { COMMAND_TIMEOUT_MS } from '../../common/manager/agent-link.ts';
import { codeOfAsync, timed } from '../harness.helper.ts';

const test = suite('cli/client-timeout');
let child: ChildProcess | undefined;
const fillers: Socket[] = [];
test.after.each(() => {
  for (const s of fillers.splice(0)) s.destroy();
  child?.kill('SIGKILL');
  child = undefined;
});

const LISTENER = `const s = require('net').createServer(() => {});
s.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => process.stdout.write(String(s.address().port)));`;

/** A port whose connects hang: the listener is stopped and its accept queue is full. */
async function frozenPort(): Promise<number> {
  child = spawn(process.execPath, ['-e', LISTENER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child!.stdout!.once('data', (d) => resolve(Number(String(d).trim())));
    child!.once('exit', (code) => reject(new Error(`listener exited ${code}`)));
  });
  child.kill('SIGSTOP');
  // Fill the queue until a connect stays pending.
  for (let i = 0; i < 16; i++) {
    const s = connect(port, '127.0.0.1');
    fillers.push(s);
    const settled = new Promise<boolean>((resolve) => {
      s.once('connect', () => resolve(true));
      s.once('error', () => resolve(false));
    });
    // Pending after 500 ms and after 20 more turns of the event loop (each reads what the kernel
    // has for us): its SYN was dropped. A 500 ms timer alone could fire, on a loaded machine,
    // before a connect the kernel had completed was read.
    const hangs = await Promise.race([settled.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), 500))]);
    if (hangs) {
      for (let turn = 0; turn < 20 && s.connecting; turn++) await new Promise((r) => setImmediate(r));
      if (s.connecting) return port;
    }
  }
  throw new Error('the accept queue never filled');
}

test('the client waits longer for an answer than the manager waits for an agent, so it sees the TIMEOUT', () => {
  assert.ok(CLIENT_RESPONSE_TIMEOUT_MS >= COMMAND_TIMEOUT_MS + 10_000, `${CLIENT_RESPONSE_TIMEOUT_MS} vs ${COMMAND_TIMEOUT_MS}`);
});

test('a connect that hangs ends in TIMEOUT after connectTimeoutMs, naming the address', timed(20_000, async () => {
  const port = await frozenPort();
  const c = new HttpClient({ host: '127.0.0.1', port }, 'token', { connectTimeoutMs: 400, responseTimeoutMs: 60_000 });
  const t0 = performance.now();
  let message = '';
  const code = await codeOfAsync(c.request('GET', '/api/agents').catch((err: Error) => {
    message = err.message;
    throw err;
  }));
  const took = performance.now() - t0;
  assert.is(code, 'TIMEOUT');
  assert.match(message, `could not connect to the control API 127.0.0.1:${port} within 0.4 s`);
  assert.ok(took >= 350, `not before the timeout (${took.toFixed(0)} ms)`);
}));

test.run();
