// Counting the processes process rules match: by name from /proc/<pid>/comm (a name with spaces
// and parentheses; a zombie left out by its stat, a 15-character name tried as argv[0]'s base name), by command
// line only when a rule globs one; on Windows from the recorded `tasklist /fo csv /nh` output
// through an injected runner, case-insensitive, with or without .exe, command lines not judged.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LinuxProcessCounter, WindowsProcessCounter } from '../../common/collect/process-match.ts';
import type { Runner } from '../../common/util/runner.ts';
import { fixture } from './fake-proc.helper.ts';
import { tempDir } from '../harness.helper.ts';

const test = suite('collect/process-match');

function proc(pids: [number, string, string, string][]): string {
  const root = tempDir('hw-pm-');
  mkdirSync(join(root, 'self'));
  for (const [pid, name, state, cmd] of pids) {
    mkdirSync(join(root, String(pid)));
    writeFileSync(join(root, String(pid), 'comm'), `${name}\n`);
    writeFileSync(join(root, String(pid), 'stat'), `${pid} (${name}) ${state} 1 1 1 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 100 1000 50 18446744073709551615\n`);
    writeFileSync(join(root, String(pid), 'cmdline'), cmd ? `${cmd.split(' ').join('\0')}\0` : '');
  }
  return root;
}

test('Linux: by name glob, by command line; zombies and processes gone do not count', async () => {
  const root = proc([
    [1, 'systemd', 'S', '/sbin/init'],
    [10, 'nginx', 'S', 'nginx: master process /usr/sbin/nginx'],
    [11, 'nginx', 'S', 'nginx: worker process'],
    [12, 'nginx', 'Z', ''],
    [20, 'my (odd) name', 'R', '/opt/odd --flag'],
    [30, 'java', 'S', '/usr/bin/java -jar /srv/app.jar --port 8080'],
    [40, 'kworker/0:1', 'I', ''],
  ]);
  mkdirSync(join(root, '50')); // listed, gone before it is read
  const c = new LinuxProcessCounter({ procRoot: root });
  assert.equal(await c.count([
    { names: ['nginx*'] }, { names: ['my (odd) name'] }, { cmdlines: ['*-jar /srv/app.jar*'] }, { names: ['java', 'nginx'] },
    { names: ['app.jar'] }, { cmdlines: ['*nginx: master*'] }, { names: ['kworker/*'] }, { names: ['absent*'] },
  ]), [2, 1, 1, 3, 0, 1, 1, 0]);
  rmSync(join(root, '11'), { recursive: true });
  assert.equal(await c.count([{ names: ['nginx'] }]), [1], 'read afresh each time');
});

test('Linux: a 15-character name (cut by the kernel) is tried as argv[0]\'s base name', async () => {
  const root = proc([[7, 'postgres-export', 'S', '/usr/local/bin/postgres-exporter --web.listen-address=:9187'], [8, 'abcdefghijklmno', 'S', '/bin/other']]);
  const c = new LinuxProcessCounter({ procRoot: root });
  assert.equal(await c.count([{ names: ['postgres-exporter'] }, { names: ['postgres-export*'] }, { names: ['other'] }]), [1, 1, 0]);
});

test('Linux: this machine\'s /proc: the test process itself is counted by its name and its command line', async () => {
  const c = new LinuxProcessCounter();
  const name = readFileSync(`/proc/${process.pid}/comm`, 'utf8').trim();
  const [byName, byCmd] = await c.count([{ names: [name] }, { cmdlines: [`*${process.argv[1]}*`] }]);
  assert.ok(byName! >= 1, `${name}: ${byName}`);
  assert.ok(byCmd! >= 1, `${process.argv[1]}: ${byCmd}`);
});

test('Windows: names from tasklist, case-insensitive, .exe optional; command lines are not judged (null)', async () => {
  const calls: string[][] = [];
  const runner: Runner = async (file, args) => {
    calls.push([file, ...args]);
    return { stdout: readFileSync(fixture('tasklist-csv.txt'), 'utf8'), stderr: '', code: 0 };
  };
  const c = new WindowsProcessCounter(runner);
  assert.equal(await c.count([{ names: ['svchost'] }, { names: ['SVCHOST.EXE'] }, { names: ['s*.exe'] }, { names: ['nginx*'] }, { cmdlines: ['*'] }]), [1, 1, 3, 0, null]);
  assert.equal(calls[0], ['tasklist', '/fo', 'csv', '/nh'], 'names only: no /v');
  assert.match(c.cmdlineUnreadable, /not readable on Windows/);
});

test.run();
