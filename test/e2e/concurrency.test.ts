// One connection carries everything: a download held up by a slow reader blocks neither reports,
// alerts nor other commands; a command the agent never answers ends in TIMEOUT, with the others
// unaffected.

import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tempDir, timed, waitFor } from '../harness.helper.ts';
import { cli } from './procs.helper.ts';
import { drivenDeps, serveTest, testAgent, cleanupAfterEach } from './inproc.helper.ts';

const { agents, closers } = cleanupAfterEach(test);

test('a stalled download blocks neither reports, alerts nor other commands on the same connection', timed(60_000, async () => {
  const s = await serveTest();
  closers.push(s.close);
  const deps = drivenDeps();
  const bigDir = tempDir('hw-big-');
  const agent = await testAgent(s, deps, { name: 'busy', intervalS: 1, filesRoots: [bigDir] });
  agents.push(agent);
  await waitFor(() => agent.connected, 5000, 'connected');
  const file = join(bigDir, 'big.bin');
  const data = randomBytes(64 * 1024 * 1024);
  writeFileSync(file, data);
  const token = readFileSync(join(s.dataDir, 'api-token'), 'utf8').trim();
  // A reader that takes the response and then reads nothing: the transfer stalls on backpressure.
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: s.apiPort, path: `/api/agents/busy/fetch?path=${encodeURIComponent(file)}`, headers: { authorization: `Bearer ${token}` } }, resolve);
    req.on('error', reject);
    req.end();
  });
  res.pause();
  await new Promise((r) => setTimeout(r, 1000)); // buffers fill up, credit stops
  const rec = s.manager.state.agents().find((a) => a.name === 'busy')!;
  const before = rec.metricsAt!;
  const procs = await cli(s.dataDir, ['procs', 'busy', '--json']);
  assert.is(procs.code, 0, procs.stderr);
  assert.is(JSON.parse(procs.stdout).processCount, 4);
  deps.cpu = 99;
  await waitFor(() => s.manager.state.alerts().some((a) => a.agent === 'busy' && a.type === 'CPU_HIGH'), 5000, 'alert during the transfer');
  await waitFor(() => rec.metricsAt! > before + 500, 5000, 'reports keep arriving');
  // Now read it all: intact.
  const hash = createHash('sha256');
  let bytes = 0;
  res.on('data', (c: Buffer) => { hash.update(c); bytes += c.length; });
  res.resume();
  await new Promise((r) => res.on('end', r));
  assert.is(bytes, data.length);
  assert.is(hash.digest('hex'), createHash('sha256').update(data).digest('hex'));
  assert.is(res.trailers['x-sha256'], createHash('sha256').update(data).digest('hex'));
}));

test('a command the agent never answers ends in TIMEOUT; the connection goes on', timed(20_000, async () => {
  const s = await serveTest({ tuning: { commandTimeoutMs: 500 } });
  closers.push(s.close);
  const deps = drivenDeps();
  deps.status = () => new Promise(() => {}); // never answers
  const agent = await testAgent(s, deps, { name: 'stuck' });
  agents.push(agent);
  await waitFor(() => agent.connected, 5000, 'connected');
  const r = await cli(s.dataDir, ['status', 'stuck']);
  assert.is(r.code, 6);
  assert.match(r.stderr, /did not answer "status" within 1 s.*\[TIMEOUT\]/);
  const p = await cli(s.dataDir, ['procs', 'stuck', '--json']);
  assert.is(p.code, 0, 'other commands still answered');
}));

test.run();
