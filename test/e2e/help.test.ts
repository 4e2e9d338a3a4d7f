// `--help` of both programs and of every manager command, spawned as a user runs them: each flag
// says what it does, no negated flag reads as "off by default" through cac's "(default: true)",
// and the short forms habits expect (-n, -f, -y, -h) are there.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cleanTempDirs, tempDir, timed } from '../harness.helper.ts';
import { AGENT_JS, killAll, MANAGER_JS, run } from './procs.helper.ts';

const COMMANDS = ['config', 'rules', 'silence', 'reload', 'agents', 'status', 'procs', 'logs', 'fetch', 'restart', 'alerts', 'history', 'pending', 'accept', 'revoke', 'notify', 'user', 'login-link', 'install-command'];

async function help(file: string, args: string[]): Promise<string> {
  const p = run(file, args);
  const code = await p.exited;
  assert.is(code, 0, p.output());
  return p.output();
}

/** The Options section's rows, each one flag. */
function optionRows(text: string): string[] {
  const from = text.indexOf('\nOptions:\n');
  assert.ok(from >= 0, `an Options section in:\n${text}`);
  const rest = text.slice(from + '\nOptions:\n'.length);
  return rest.slice(0, rest.search(/\n\n|$/)).split('\n');
}

function checkOptions(text: string, where: string): void {
  assert.not.match(text, /\(default: true\)/, `${where}: no "(default: true)"`);
  assert.not.match(text, /[ \t]$/m, `${where}: no line ends in spaces`);
  for (const row of optionRows(text)) {
    assert.match(row, /^ {2}(-\w, )?--[\w-]+( <[^>]+>)? {2,}\S/, `${where}: "${row}" has a description`);
  }
}

test.after(async () => {
  await killAll();
  cleanTempDirs();
});

test('manager --help: --no-console says the console runs by default; durations, sizes and the serve command explained', timed(20_000, async () => {
  const text = await help(MANAGER_JS, ['--help']);
  checkOptions(text, 'manager --help');
  const noConsole = optionRows(text).find((r) => r.includes('--no-console'))!;
  assert.match(noConsole, /Do not start the interactive console \(by default it runs when stdin and stdout are a terminal/);
  assert.match(optionRows(text).find((r) => r.includes('--log-max-bytes'))!, /<size> .*64k, 32M, 1G.*\(default: 32M\)$/);
  assert.match(text, /^ {2}\(no command\) +Serve: listen for agents/m);
  assert.match(text, /^Durations and sizes:\n {2}A duration is seconds \(90\)/m);
  assert.match(text, /^ {2}\$ manager <command> --help$/m);
  assert.is(await help(MANAGER_JS, ['-h']), text, '-h is --help');
}));

test('agent --help: files are off unless --files-root; the token file is preferred; --manager is required', timed(20_000, async () => {
  const text = await help(AGENT_JS, ['--help']);
  checkOptions(text, 'agent --help');
  assert.match(optionRows(text).find((r) => r.includes('--files-root'))!, /Without it every fetch is refused \(FILES_DISABLED\)/);
  assert.match(optionRows(text).find((r) => r.includes('--enroll-token <'))!, /visible to every user of this host in `ps`, prefer --enroll-token-file/);
  assert.match(optionRows(text).find((r) => r.includes('--manager <'))!, /required/);
  assert.match(text, /^ {2}\(no command\) {2}Report this host/m);
  assert.match(text, /^ {2}install {7}Install this executable as a service/m, 'install and uninstall listed, aligned');
  assert.match(text, /^ {2}uninstall {5}Stop and remove the service/m);
  assert.match(text, /^ {2}\$ agent --manager 10\.0\.0\.5$/m);
}));

test('every manager command\'s --help: each flag described, the short forms listed', timed(60_000, async () => {
  const texts = new Map<string, string>();
  for (const cmd of COMMANDS) {
    const text = await help(MANAGER_JS, [cmd, '--help']);
    assert.match(text, new RegExp(`\\$ manager ${cmd}\\b`), `${cmd} --help shows its usage`);
    checkOptions(text, `manager ${cmd} --help`);
    texts.set(cmd, text);
  }
  assert.match(texts.get('logs')!, /^ {2}-n, --lines <n> +How many of the latest lines, as tail -n \(1 to 5000\) \(default: 50\)$/m);
  assert.match(texts.get('history')!, /^ {2}-n, --points <n> /m);
  assert.match(texts.get('alerts')!, /^ {2}-f, --follow /m);
  assert.match(texts.get('restart')!, /^ {2}-y, --yes /m);
  assert.match(texts.get('silence')!, /--for <duration> +How long a new silence lasts \(needed to make one\): seconds, or 30m/);
}));

test('-n is taken where --lines and --points are; a bad count is one line, exit 2', timed(20_000, async () => {
  // The count is checked before any connection: a token file is all the client needs to get there.
  // (e2e/inert runs `logs -n` against a real agent.)
  const dir = tempDir('hw-help-');
  writeFileSync(join(dir, 'api-token'), 'x'.repeat(43) + '\n');
  const p = run(MANAGER_JS, ['logs', 'web-1', '-n', '0', '--data-dir', dir]);
  assert.is(await p.exited, 2, p.output());
  assert.match(p.output(), /^manager: --lines must be a whole number from 1 to 5000 \[BAD_ARGS\]\n$/);
  const q = run(MANAGER_JS, ['history', 'web-1', '-n', 'lots', '--data-dir', dir]);
  assert.is(await q.exited, 2, q.output());
  assert.match(q.output(), /--points must be a whole number/);
}));

test.run();
