// tasklist /v output: the format of the recorded `tasklist /fo csv /nh` fixture (test/fixtures/tasklist-csv.txt)
// with the four columns /v adds (Status, User Name, CPU Time, Window Title) as Microsoft documents them;
// not recorded on a Windows host (Wine's tasklist prints nothing for /v), so the values are made up.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { WindowsProcesses, parseTasklistVerbose } from '../../common/collect/procs-windows.ts';
import type { Runner } from '../../common/util/runner.ts';
import { fixture } from './fake-proc.helper.ts';

const test = suite('collect/procs-windows');
const text = readFileSync(fixture('tasklist-v-csv.txt'), 'utf8');

test('tasklist /v csv: memory in bytes, CPU time in seconds, N/A as null', () => {
  const rows = parseTasklistVerbose(text);
  assert.is(rows.length, 6);
  assert.equal(rows[1], { name: 'System', pid: 4, memBytes: 2468 * 1024, state: null, user: null, cpuSeconds: 3 * 3600 + 25 * 60 + 7 });
  assert.equal(rows[5]!.user, 'DESKTOP-1\\ada');
});

test('CPU % is the delta between two readings; the first has none', async () => {
  let out = text;
  let t = 0;
  const runner: Runner = async (file, args) => {
    assert.equal([file, ...args], ['tasklist', '/v', '/fo', 'csv', '/nh']);
    return { stdout: out, stderr: '', code: 0 };
  };
  const w = new WindowsProcesses({ runner, clock: () => t });
  const first = await w.top({ n: 3, sort: 'cpu' });
  assert.ok(first.processes.every((p) => p.cpuPercent === null));
  assert.match(first.unavailable?.cpuPercent ?? '', /first reading/);
  t = 10_000;
  out = text.replace('"node.exe","7120","Console","1","48,316 K","Running","DESKTOP-1\\ada","0:00:12"', '"node.exe","7120","Console","1","48,316 K","Running","DESKTOP-1\\ada","0:00:20"');
  const second = await w.top({ n: 2, sort: 'cpu' });
  assert.equal(second.processes.map((p) => [p.name, p.cpuPercent]), [['node.exe', 80], ['System Idle Process', 0]]);
  const byMem = await w.top({ n: 1, sort: 'mem' });
  assert.is(byMem.processes[0]!.name, 'explorer.exe');
});

test.run();
