// An agent named with escape sequences (clear screen, set the window title, BEL) and a log file
// holding colour codes and a bidi override: the console (a real terminal, tmux), the CLI's table
// and logs, and the manager's and agent's own output show them as text and never emit the bytes.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cleanTempDirs, tempDir, timed, waitFor } from '../harness.helper.ts';
import { cli, cliJson, killAll, MANAGER_JS, startAgent, startManager, type ManagerProc, type Proc } from './procs.helper.ts';
import { requireTmux, Terminal } from './tmux.helper.ts';

const EVIL = 'evil\x1b[2J\x1b]0;pwn\x07';
const SHOWN = 'evil\\x1b[2J\\x1b]0;pwn\\x07';
const LOG_LINES = ['first line', '\x1b[31mred\x1b[0m\tafter a tab \u202eesrever', 'last \x9b1m line'];
/** What a terminal acts on: C0 but tab and newline, DEL, C1, bidi overrides and isolates. */
const ACTIVE = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

const logDir = tempDir('hw-inert-log-');
const logFile = join(logDir, 'app.log');
writeFileSync(logFile, LOG_LINES.join('\n') + '\n');

let mgr: ManagerProc | undefined;
let agent: Proc | undefined;
const term = new Terminal();
const consoleDir = tempDir('hw-inert-console-');
let consolePid: number | undefined;

test.after(async () => {
  await term.kill();
  try {
    if (consolePid) process.kill(consolePid, 'SIGKILL');
  } catch {
    // already gone
  }
  await killAll();
  cleanTempDirs();
});

/** The agent's id once the manager lists it online with metrics. */
async function evilOnline(dataDir: string): Promise<string> {
  const a = await waitFor(async () => (await cliJson<any[]>(dataDir, ['agents'])).find((x) => x.name === EVIL && x.online && x.metrics?.memPercent != null), 30_000, 'the agent online');
  return String(a.id);
}

test('CLI: the agents table, logs and errors show the escapes as text; --json keeps the exact name', timed(60_000, async () => {
  mgr = await startManager();
  agent = startAgent(mgr, ['--name', EVIL, '--log-file', logFile]);
  const id = await evilOnline(mgr.dataDir);

  const table = await cli(mgr.dataDir, ['agents']);
  assert.is(table.code, 0, table.stderr);
  assert.not.ok(ACTIVE.test(table.stdout), `no control character in: ${JSON.stringify(table.stdout)}`);
  assert.ok(table.stdout.split('\n').some((l) => l.startsWith(`${SHOWN}  127.0.0.1  online`)), table.stdout);

  const json = await cli(mgr.dataDir, ['agents', '--json']);
  assert.not.ok(ACTIVE.test(json.stdout));
  assert.is(JSON.parse(json.stdout)[0].name, EVIL, 'JSON output is still JSON, with the name as it is');

  // -n as tail -n: the latest lines only, a tab kept, controls shown.
  const one = await cli(mgr.dataDir, ['logs', id, '-n', '2']);
  assert.is(one.code, 0, one.stderr);
  assert.equal(one.stdout.split('\n'), [`# ${logFile}`, '\\x1b[31mred\\x1b[0m\tafter a tab \\u202eesrever', 'last \\u009b1m line', '']);
  const asJson = await cliJson(mgr.dataDir, ['logs', id, '-n', '3']);
  assert.equal(asJson.lines, LOG_LINES);

  // An error quoting the agent's words is one inert line.
  const bad = await cli(mgr.dataDir, ['status', `${EVIL}x`]);
  assert.is(bad.code, 3);
  assert.not.ok(ACTIVE.test(bad.stderr), bad.stderr);
  assert.is(bad.stderr.trim().split('\n').length, 1);
}));

test('the manager\'s and the agent\'s own output carry no control character', timed(30_000, async () => {
  await waitFor(() => mgr!.output().includes(`agent ${SHOWN} connected`), 10_000, 'the connect notice');
  assert.not.ok(ACTIVE.test(mgr!.output()), mgr!.output());
  await agent!.kill();
  await waitFor(() => mgr!.output().includes(`agent ${SHOWN} (127.0.0.1) disconnected`), 10_000, 'the disconnect notice');
  assert.not.ok(ACTIVE.test(mgr!.output()), mgr!.output());
  assert.not.ok(ACTIVE.test(agent!.output()), agent!.output());
}));

test('console in a real terminal: the notice, agents and logs show the escapes; the screen and title stay', timed(60_000, async () => {
  requireTmux();
  await term.start([process.execPath, MANAGER_JS, '--host', '127.0.0.1', '--port', '0', '--udp-port', '0', '--api', '127.0.0.1:0', '--data-dir', consoleDir], { width: 200, height: 50 });
  const info = join(consoleDir, 'manager.json');
  const m = await waitFor(() => existsSync(info) && JSON.parse(readFileSync(info, 'utf8')), 10_000, 'manager.json');
  consolePid = m.pid;
  await term.until((rows) => rows.includes('type help for commands'), 'console banner');
  const titleBefore = await term.title();
  const port = (hp: string) => Number(hp.slice(hp.lastIndexOf(':') + 1));
  startAgent({ tcpPort: port(m.tcp), udpPort: port(m.udp), dataDir: consoleDir }, ['--name', EVIL, '--log-file', logFile]);
  const id = await evilOnline(consoleDir);
  await term.until((rows) => rows.some((r) => r.includes(`agent ${SHOWN} connected`)), 'the connect notice, as text', { history: true });

  await term.type('agents');
  await term.press('Enter');
  await term.until((rows) => rows.some((r) => r.startsWith(`${SHOWN}  127.0.0.1  online`)), 'the agents row, as text', { history: true });
  await term.type(`logs ${id} -n 3`);
  await term.press('Enter');
  await term.until((rows) => rows.some((r) => r.startsWith('\\x1b[31mred\\x1b[0m')) && rows.some((r) => r === 'last \\u009b1m line'), 'the log lines, as text', { history: true });

  // Had ESC [2J reached the terminal, the banner would be gone; had OSC 0 reached it, the title would be "pwn".
  const all = await term.history();
  assert.ok(all.includes('type help for commands'), 'the screen was not cleared');
  assert.is(await term.title(), titleBefore);
  assert.not.ok((await term.title()).includes('pwn'));
}));

test.run();
