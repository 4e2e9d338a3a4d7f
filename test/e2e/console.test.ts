// The console of a serving manager, typed into through a real terminal (a private tmux server):
// commands and their output, tab completion of commands and agent names, alerts and notices printed
// above a half-typed (or wrapped) command without losing it, alerts during watch, and quit.

import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cleanTempDirs, tempDir, timed, waitFor } from '../harness.helper.ts';
import { killAll, MANAGER_JS, startAgent, waitOnline, type Proc } from './procs.helper.ts';
import { requireTmux, Terminal } from './tmux.helper.ts';

const PROMPT = 'manager> ';
const WIDTH = 200;
const term = new Terminal();
const dataDir = tempDir('hw-console-');
let mgr: { tcpPort: number; udpPort: number; pid: number; dataDir: string };
let web2: Proc | undefined;

/** The last row with something on it, and its index. */
function lastRow(rows: string[]): { text: string; y: number } {
  let y = rows.length - 1;
  while (y > 0 && rows[y]!.trim() === '') y--;
  return { text: rows[y] ?? '', y };
}

/** Waits until the line being typed reads `line`, with the cursor right after `line` + `tail`. */
async function promptShows(line: string, tail = ''): Promise<void> {
  await term.until(async (rows) => {
    const last = lastRow(rows);
    if (last.text !== (PROMPT + line).trimEnd()) return false;
    const c = await term.cursor();
    return c.y === last.y && c.x === (PROMPT + line + tail).length;
  }, `prompt line "${PROMPT}${line}${tail}"`);
}

/**
 * Presses Enter on the typed `line` and returns what the command printed: the rows after the last
 * `manager> line` up to the next empty prompt (which proves the command finished).
 */
async function enter(line: string): Promise<string[]> {
  await term.press('Enter');
  return term.until((rows) => {
    const start = rows.map((r) => r.trimEnd()).lastIndexOf(PROMPT + line);
    if (start < 0) return undefined;
    const end = rows.findIndex((r, i) => i > start && r.trimEnd() === PROMPT.trimEnd());
    return end < 0 ? undefined : rows.slice(start + 1, end);
  }, `output of "${line}"`, { history: true });
}

async function run(line: string): Promise<string[]> {
  await term.type(line);
  await promptShows(line);
  return enter(line);
}

/** Empties the line being typed (readline: Ctrl-U deletes back to its start). */
async function clearLine(): Promise<void> {
  await term.press('End', 'C-u');
  await promptShows('');
}

function assertStatus(out: string[]): void {
  const row = (label: string) => out.find((l) => l.startsWith(label + ' '));
  assert.match(row('host') ?? '', new RegExp(`^host +${hostname()} \\(linux`), 'host line names this machine');
  assert.match(row('uptime') ?? '', /^uptime +(\d+d \d+h|\d+h \d+m|\d+m \d+s|\d+s)$/, 'uptime line');
  assert.match(row('cpu') ?? '', /^cpu +\d+\.\d%/, 'cpu line with a percentage');
  assert.match(row('memory') ?? '', /^memory +\d+\.\d% +of \d/, 'memory line with a percentage and the total');
  assert.match(row('disk') ?? '', /^disk +\d+\.\d%$/, 'disk line with a percentage');
}

/** Starts the manager in the terminal and waits for its console's prompt. */
async function setUp(): Promise<void> {
  requireTmux();
  await term.start([process.execPath, MANAGER_JS, '--host', '127.0.0.1', '--port', '0', '--udp-port', '0', '--api', '127.0.0.1:0', '--data-dir', dataDir], { width: WIDTH, height: 50 });
  const info = join(dataDir, 'manager.json');
  const m = await waitFor(() => existsSync(info) && JSON.parse(readFileSync(info, 'utf8')), 10_000, 'manager.json');
  const port = (hp: string) => Number(hp.slice(hp.lastIndexOf(':') + 1));
  mgr = { tcpPort: port(m.tcp), udpPort: port(m.udp), pid: m.pid, dataDir }; // dataDir: startAgent enrolls with its token
  // stdin is a terminal in the pane, so the console opened.
  await term.until((rows) => rows.includes('type help for commands'), 'console banner');
  await promptShows('');
}

// uvu 0.5 drops an error thrown by a before hook (the file then "passes" with no test run), so
// the hook keeps the error and every test fails with it.
let setUpError: unknown;
test.before(async () => {
  await timed(20_000, setUp)().catch((err) => {
    setUpError = err;
  });
});

test.before.each(async () => {
  if (setUpError) throw setUpError;
  await term.press('End', 'C-u'); // a failed test may have left text on the line
});

test.after(async () => {
  await term.kill();
  try {
    if (mgr) process.kill(mgr.pid, 'SIGKILL'); // in case killing the tmux server did not end it
  } catch {
    // already gone
  }
  await killAll();
  cleanTempDirs();
});

test('help lists every command; an unknown one says so', timed(15_000, async () => {
  const out = await run('help');
  const listed = out.flatMap((l) => /^ {2}(\w+)(?:, (\w+))?/.exec(l)?.slice(1).filter(Boolean) ?? []);
  assert.equal(listed.sort(), ['accept', 'agents', 'alerts', 'config', 'containers', 'fetch', 'help', 'history', 'logs', 'pending', 'procs', 'quit', 'reject', 'reload', 'restart', 'revoke', 'rules', 'services', 'silence', 'status', 'top', 'watch']);
  assert.equal(await run('frobnicate'), ['unknown command "frobnicate": type help']);
}));

test('Tab completes a command; with several choices a second Tab lists them', timed(15_000, async () => {
  await term.type('sta');
  await promptShows('sta');
  await term.press('Tab');
  await promptShows('status', ' '); // completed with the space before the argument
  await clearLine();

  await term.type('a');
  await promptShows('a');
  await term.press('Tab'); // accept, agents and alerts share only "a": nothing to add yet
  await promptShows('a');
  await term.press('Tab');
  const rows = await term.until((r) => {
    const i = r.findIndex((l) => /^agents +alerts +accept *$/.test(l));
    return i >= 0 && lastRow(r).y > i && lastRow(r).text === `${PROMPT}a` ? r : undefined;
  }, 'agents, alerts and accept listed above the prompt');
  assert.not.ok(rows.some((l) => /^(agents|alerts).*status/.test(l)), 'only the matching commands');
  await promptShows('a');
  await clearLine();
}));

test('agents shows web1 online', timed(25_000, async () => {
  const web1 = startAgent(mgr, ['--name', 'web1', '--interval', '1', '--cpu-threshold', '100']); // never above 100%: no alert
  await waitOnline(dataDir, 'web1').catch((err) => {
    throw new Error(`${(err as Error).message}; the agent said:\n${web1.output().trimEnd()}`);
  });
  await term.until((rows) => rows.some((l) => /^agent web1 connected from 127\.0\.0\.1 \(linux, id [0-9a-f]{8}\)$/.test(l)), 'connected notice', { history: true });
  const out = await run('agents');
  assert.equal(out[0]!.split(/ {2,}/), ['NAME', 'ADDRESS', 'STATE', 'VERSION', 'CPU', 'MEM', 'DISK', 'NET IN', 'NET OUT', 'UPTIME', 'PROCS', 'LAST SEEN', 'ID']);
  assert.is(out.length, 2, 'header and one agent');
  const cols = out[1]!.split(/ {2,}/);
  assert.equal(cols.slice(0, 3), ['web1', '127.0.0.1', 'online']);
  assert.match(cols[3]!, /^\d+\.\d+\.\d+/, 'the agent\'s version');
  assert.match(cols[5]!, /^\d+\.\d%$/, 'memory in percent');
}));

test('status web1 shows host, uptime, cpu, memory and disk', timed(20_000, async () => {
  assertStatus(await run('status web1'));
}));

test('with one agent, Tab completes its name; Enter runs the completed line', timed(20_000, async () => {
  await term.type('status we');
  await promptShows('status we');
  await term.press('Tab');
  await promptShows('status web1', ' ');
  assertStatus(await enter('status web1'));
}));

test('an alert arriving while a command is half typed is printed above it; the command survives', timed(30_000, async () => {
  await term.type('stat');
  await promptShows('stat');
  // Above 0% for a second: CPU_HIGH about a second after it connects, while "stat" is on the line.
  web2 = startAgent(mgr, ['--name', 'web2', '--interval', '1', '--cpu-threshold', '0', '--cpu-for', '1']);
  // The agent names the processes behind the alert after it (wrapped onto a second row when long).
  const alert = /^ALERT \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ {2}web2 {2}CPU_HIGH {2}CPU high: \d+(\.\d+)?% \(threshold 0%\)( {2}top: \S+\[\d+\] .*)?$/;
  const rows = await term.until((r) => (r.some((l) => alert.test(l)) && lastRow(r).text === `${PROMPT}stat` ? r : undefined),
    'CPU_HIGH from web2 above the half-typed command', { ms: 20_000 });
  await promptShows('stat'); // the cursor is still after it
  const prompt = lastRow(rows);
  const alertY = rows.findIndex((l) => alert.test(l));
  const noticeY = rows.findIndex((l) => /^agent web2 connected from 127\.0\.0\.1/.test(l));
  assert.ok(noticeY >= 0 && noticeY < alertY && alertY < prompt.y, 'connect notice, then the alert, then the prompt');
  assert.is(rows.filter((l) => l === `${PROMPT}stat`).length, 1, 'the old prompt line was cleared, not left behind');
  assert.is(rows.filter((l) => l.startsWith('ALERT')).length, 1, 'one alert shown');

  await term.type('us web1');
  await promptShows('status web1');
  assertStatus(await enter('status web1'));
}));

test('with two agents, Tab completes their common prefix and a second Tab lists both', timed(15_000, async () => {
  await term.type('status we');
  await promptShows('status we');
  await term.press('Tab');
  await promptShows('status web');
  await term.press('Tab');
  await term.until((r) => {
    const i = r.findIndex((l) => /^web1 +web2 *$/.test(l));
    return i >= 0 && lastRow(r).y > i && lastRow(r).text === `${PROMPT}status web`;
  }, 'web1 and web2 listed above the prompt');
  await clearLine();
}));

test('procs \'web*\' in the console answers host by host, then the summary', timed(20_000, async () => {
  const out = await run("procs web* --parallel 1");
  assert.ok(out.some((l) => l === '== web1 =='), out.join('\n'));
  assert.ok(out.some((l) => l === '== web2 =='));
  assert.ok(out.some((l) => /^\d+ processes$/.test(l)));
  assert.is(out[out.length - 1], '2 hosts: 2 ok, 0 failed, 0 offline, 0 timeout');
}));

test('services in the console: a real agent on a host where systemd is not PID 1 says so with its code, from the real systemctl', timed(20_000, async () => {
  const out = await run('services web1 --failed');
  // Where systemctl is missing entirely the reason names that instead; never an empty list.
  assert.match(out.join('\n'), /SERVICES_UNAVAILABLE: (systemd is not running on this host \(System has not been booted with systemd|cannot list the systemd units: systemctl: not found)/);
}));

test('containers in the console: a host without a container engine says which sockets were tried, with its code (not an empty list)', timed(20_000, async () => {
  const out = (await run('containers web1')).join(' ').replace(/\s+/g, ' ');
  assert.match(out, /ENGINE_UNREACHABLE/, out);
}));

test('history --containers in the console: an agent whose host has no container engine reports none, said so (not zeros)', timed(20_000, async () => {
  const out = await run('history web1 --containers --since 5m');
  assert.match(out.join(' ').replace(/\s+/g, ' '), /containers not reported by web1 from .* no container engine it can reach/);
}));

test('watch redraws the table; an alert during watch stays on screen across redraws; Enter ends it', timed(30_000, async () => {
  await term.type('watch 1');
  await promptShows('watch 1');
  await term.press('Enter');
  const stamp = /^\d{4}-\d\d-\d\dT[\d:.]+Z {2}every 1 s, Enter to stop$/;
  await term.until((r) => stamp.test(r[0]!) && r.some((l) => /^web2 +127\.0\.0\.1 +online /.test(l)), 'the agents table');
  startAgent(mgr, ['--name', 'web3', '--interval', '1', '--cpu-threshold', '0', '--cpu-for', '1']);
  const alert = /^ALERT \S+ \S+ {2}web3 {2}CPU_HIGH {2}CPU high: /;
  try {
    const atAlert = await term.until((r) => (r.some((l) => alert.test(l)) ? r : undefined), 'CPU_HIGH from web3', { ms: 20_000 });
    assert.not.ok(atAlert.some((l) => l.startsWith(PROMPT.trimEnd())), 'no prompt drawn into the watch screen');
    // A later redraw (new time stamp) still shows the alert under the table, with web3 in it.
    await term.until((r) => stamp.test(r[0]!) && r[0] !== atAlert[0] && r.some((l) => alert.test(l))
      && r.some((l) => /^web3 +127\.0\.0\.1 +online /.test(l)), 'a redraw that keeps the alert', { ms: 5000 });
  } finally {
    await term.press('Enter');
  }
  await promptShows('');
}));

test('a notice above a command that wraps over two rows leaves no piece of it behind', timed(15_000, async () => {
  const long = `status ${'x'.repeat(WIDTH)}`; // prompt + line: two rows
  await term.type(long);
  await term.until((r) => lastRow(r).text === 'x'.repeat(PROMPT.length + long.length - WIDTH), 'the wrapped line');
  await web2!.kill();
  const rows = await term.until((r) => (r.some((l) => /^agent web2 \(127\.0\.0\.1\) disconnected/.test(l))
    && lastRow(r).text === 'x'.repeat(PROMPT.length + long.length - WIDTH) ? r : undefined), 'disconnect notice, then the line redrawn');
  const firstRow = (PROMPT + long).slice(0, WIDTH);
  assert.is(rows.filter((l) => l === firstRow).length, 1, 'the first row of the typed line appears once, below the notice');
  const noticeY = rows.findIndex((l) => /^agent web2 \(127\.0\.0\.1\) disconnected/.test(l));
  assert.is(rows.indexOf(firstRow), noticeY + 1, 'the typed line follows the notice');
  await clearLine();
}));

test('quit stops the manager with exit code 0', timed(15_000, async () => {
  await term.type('quit');
  await promptShows('quit');
  await term.press('Enter');
  assert.is(await waitFor(() => term.ended(), 10_000, 'the manager to exit'), 'exit 0');
  assert.not.ok(existsSync(join(dataDir, 'manager.json')), 'manager.json removed on the way out');
}));

test.run();
