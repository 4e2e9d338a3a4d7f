// Commands to many agents at once, against a real manager and real agents: --all, a glob, --label;
// results as each host answers (text blocks, or JSON lines) and a summary; exit 0 only if all did;
// an offline host counted as offline, a slow one as timeout; restart lists and needs --yes; fetch
// writes <dest>/<agent>/<file>; POST /api/jobs streams the same JSON lines.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tempDir, timed, waitFor } from '../harness.helper.ts';
import { cleanupAfterEach, drivenDeps, serveTest, testAgent } from './inproc.helper.ts';
import { cli } from './procs.helper.ts';

const { agents, closers } = cleanupAfterEach(test);

const lines = (out: string) => out.trim().split('\n').map((l) => JSON.parse(l));

test('procs --all --json from three agents, one offline: two results, one offline, exit non-zero', timed(40_000, async () => {
  const s = await serveTest();
  closers.push(s.close);
  const a = await testAgent(s, drivenDeps(), { name: 'web-1' });
  const b = await testAgent(s, drivenDeps(), { name: 'web-2', labels: { role: 'db' } });
  const gone = await testAgent(s, drivenDeps(), { name: 'web-3' });
  agents.push(a, b);
  await waitFor(() => s.manager.state.agents().filter((x) => x.online).length === 3, 10_000, 'three online');
  await gone.stop();
  await waitFor(() => s.manager.state.agents().filter((x) => x.online).length === 2, 10_000, 'web-3 offline');

  const r = await cli(s.dataDir, ['procs', '--all', '--json']);
  assert.is.not(r.code, 0);
  assert.is(r.code, 4, 'only offline hosts failed: the offline exit code');
  const out = lines(r.stdout);
  const results = out.filter((l) => !l.summary);
  assert.equal(results.filter((l) => l.ok).map((l) => [l.agent, l.result.processCount]).sort(), [['web-1', 4], ['web-2', 4]]);
  assert.equal(results.filter((l) => !l.ok).map((l) => [l.agent, l.error.code]), [['web-3', 'AGENT_OFFLINE']]);
  assert.equal(out[out.length - 1], { summary: { total: 3, ok: 2, failed: 0, offline: 1, timeout: 0 } });

  const text = await cli(s.dataDir, ['procs', 'web-*']);
  assert.match(text.stdout, '== web-1 ==\n4 processes');
  assert.match(text.stdout, '== web-3 ==  AGENT_OFFLINE');
  assert.match(text.stdout, '3 hosts: 2 ok, 0 failed, 1 offline, 0 timeout');
  const db = await cli(s.dataDir, ['procs', '--label', 'role=db', '--json']);
  assert.is(db.code, 0, db.stderr);
  assert.equal(lines(db.stdout).map((l) => l.agent ?? 'summary'), ['web-2', 'summary']);
  const none = await cli(s.dataDir, ['procs', 'db-*']);
  assert.is(none.code, 3);
  assert.match(none.stderr, 'AGENT_NOT_FOUND');
  const both = await cli(s.dataDir, ['procs', 'web-1', '--all']);
  assert.is(both.code, 2);
}));

test('a host slower than --timeout counts as timeout; --parallel bounds the hosts asked at once', timed(40_000, async () => {
  const s = await serveTest();
  closers.push(s.close);
  let inFlight = 0;
  let most = 0;
  const make = async (name: string, hang = false) => {
    const d = drivenDeps();
    d.processCount = async () => {
      inFlight++;
      most = Math.max(most, inFlight);
      try {
        if (hang) await new Promise(() => {});
        await new Promise((r) => setImmediate(r));
        return { processCount: 4 };
      } finally {
        inFlight--;
      }
    };
    agents.push(await testAgent(s, d, { name }));
  };
  for (let i = 1; i <= 4; i++) await make(`n-${i}`);
  await make('n-slow', true);
  await waitFor(() => s.manager.state.agents().filter((x) => x.online).length === 5, 10_000, 'five online');
  const r = await cli(s.dataDir, ['procs', 'n-*', '--json', '--timeout', '1', '--parallel', '2']);
  assert.is(r.code, 6, 'only a timeout failed: the timeout exit code');
  const out = lines(r.stdout);
  assert.equal(out[out.length - 1].summary, { total: 5, ok: 4, failed: 0, offline: 0, timeout: 1 });
  assert.ok(most <= 2, `at most 2 at once, saw ${most}`);
}));

test('restart lists the hosts and needs --yes; fetch from several writes <dest>/<agent>/<file>; POST /api/jobs streams', timed(40_000, async () => {
  const s = await serveTest();
  closers.push(s.close);
  const d1 = drivenDeps();
  const d2 = drivenDeps();
  const shared = tempDir();
  agents.push(await testAgent(s, d1, { name: 'lab-1', allowRestart: true, filesRoots: [shared] }), await testAgent(s, d2, { name: 'lab-2', filesRoots: [shared] }));
  await waitFor(() => s.manager.state.agents().filter((x) => x.online).length === 2, 10_000, 'two online');

  const no = await cli(s.dataDir, ['restart', 'lab-*']);
  assert.is(no.code, 2);
  assert.match(no.stdout, 'restart 2 hosts: lab-1, lab-2');
  assert.match(no.stderr, '--yes');
  assert.is(d1.restarts, 0);
  const yes = await cli(s.dataDir, ['restart', 'lab-*', '--yes']);
  assert.is(yes.code, 1, 'lab-2 refuses (no --allow-restart): some failed');
  assert.match(yes.stdout, '== lab-2 ==  RESTART_DISABLED');
  assert.match(yes.stdout, '2 hosts: 1 ok, 1 failed, 0 offline, 0 timeout');
  await waitFor(() => d1.restarts === 1, 5000, 'lab-1 restarted');

  const src = join(shared, 'app.log');
  writeFileSync(src, 'hello from the agents\n');
  const dest = tempDir();
  const f = await cli(s.dataDir, ['fetch', 'lab-*', src, dest, '--json']);
  assert.is(f.code, 0, f.stderr + f.stdout);
  for (const name of ['lab-1', 'lab-2']) assert.is(readFileSync(join(dest, name, 'app.log'), 'utf8'), 'hello from the agents\n');
  const again = await cli(s.dataDir, ['fetch', '--all', src, dest]);
  assert.is(again.code, 1, 'files exist: refused without --force');
  assert.match(again.stdout, 'already exists');
  assert.ok(existsSync(join(dest, 'lab-1', 'app.log')));

  const info = JSON.parse(readFileSync(join(s.dataDir, 'manager.json'), 'utf8'));
  const token = readFileSync(join(s.dataDir, 'api-token'), 'utf8').trim();
  const res = await fetch(`http://${info.api}/api/jobs`, {
    method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ label: 'x=y', cmd: 'procs' }),
  });
  assert.is(res.status, 404, 'no agent has x=y');
  const ok = await fetch(`http://${info.api}/api/jobs`, {
    method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ selector: 'lab-*', cmd: 'procs', parallel: 1 }),
  });
  assert.is(ok.headers.get('content-type'), 'application/x-ndjson');
  const body = lines((await ok.text()).split('\n').filter(Boolean).join('\n'));
  assert.equal(body.map((l) => l.agent ?? 'summary'), ['lab-1', 'lab-2', 'summary']);
  const bad = await fetch(`http://${info.api}/api/jobs`, {
    method: 'POST', headers: { authorization: `Bearer ${token}` }, body: JSON.stringify({ all: true, cmd: 'fetch' }),
  });
  assert.is(bad.status, 400);
}));

test.run();
