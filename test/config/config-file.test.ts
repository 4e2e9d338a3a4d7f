// The config file reader on its own: keys derived from cac option definitions, problems at their
// line and column, flags over the file over defaults, and the reloader's applied/restart split.

import { cac } from 'cac';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkConfig, ConfigReloader, loadEffective, type ConfigSpec } from '../../common/config/effective.ts';
import { parseConfigText } from '../../common/config/file.ts';
import { closest, configKeys, flagsGiven } from '../../common/config/keys.ts';
import { numberFlag } from '../../common/cli/run.ts';
import { cleanTempDirs, codeOf, tempDir } from '../harness.helper.ts';

function program() {
  const cli = cac('x');
  cli.option('--data-dir <dir>', 'folder', { default: './d' });
  cli.option('--timeout <s>', 'client only');
  const cmd = cli.command('', 'serve')
    .option('--port <port>', 'port', { default: 5005 })
    .option('--allow <ip>', 'hosts (repeatable)')
    .option('--auto-accept', 'accept')
    .option('--no-console', 'no console')
    // A flag added later (as another part of the program would) gets its key with no list to edit.
    .option('--retention-raw <d>', 'keep raw samples', { default: '1d' });
  return { cli, keys: configKeys([...cli.globalCommand.options, ...cmd.options]) };
}

const { keys } = program();
const spec: ConfigSpec<{ port: number; autoAccept: boolean }> = {
  keys, readers: {},
  build: (o) => ({ port: numberFlag(o.port, '--port', 0, 65535, true), autoAccept: !!o.autoAccept }),
};

test('keys come from the option definitions, client-only flags left out', () => {
  assert.equal(keys.map((k) => k.key).sort(), ['allow', 'auto-accept', 'console', 'data-dir', 'port', 'retention-raw']);
  assert.ok(keys.find((k) => k.key === 'allow')!.repeatable);
  assert.ok(keys.find((k) => k.key === 'console')!.boolean);
});

test('problems carry line and column; an unknown key suggests the closest', () => {
  const text = 'port: 6000\nauto_accept: true\nconsole: maybe\nallow: [127.0.0.1, 10.0.0.0/8]\nretention-raw: 2d\n';
  const f = parseConfigText(text, 'h.yaml', keys, {});
  assert.equal(f.problems, [
    { line: 2, col: 1, message: 'unknown key "auto_accept": did you mean "auto-accept"?' },
    { line: 3, col: 10, message: 'console: expects true or false, not "maybe"' },
  ]);
  assert.equal(f.flags.allow, ['127.0.0.1', '10.0.0.0/8']);
  assert.equal(f.flags.retentionRaw, '2d');
  assert.equal(closest('zzzzzz', ['port']), undefined);
});

test('broken YAML and a duplicate key are problems at their place, not crashes', () => {
  const dup = parseConfigText('port: 1\nport: 2\n', 'h.yaml', keys, {});
  assert.is(dup.problems.length, 1);
  assert.is(dup.problems[0]!.line, 2);
  const bad = parseConfigText('port: [1,\n', 'h.yaml', keys, {});
  assert.ok(bad.problems.length >= 1);
  assert.equal(parseConfigText('- a\n- b\n', 'h.yaml', keys, {}).problems[0]!.message.includes('mapping'), true);
  assert.equal(parseConfigText('', 'h.yaml', keys, {}).problems, []);
});

test('flags given on the command line win over the file, the file over defaults', () => {
  const dir = tempDir();
  const path = join(dir, 'h.yaml');
  writeFileSync(path, 'port: 6000\nauto-accept: true\n');
  const given = flagsGiven(['--port=7000', '--data-dir', 'x'], keys);
  const eff = loadEffective(spec, path, { port: '7000', dataDir: 'x', autoAccept: undefined }, given);
  assert.is(eff.settings.port, 7000);
  assert.is(eff.settings.autoAccept, true);
  const noFlag = loadEffective(spec, path, { port: 5005 }, new Set());
  assert.is(noFlag.settings.port, 6000);
});

test('a value the flag parser refuses is reported at its key in the file', () => {
  const dir = tempDir();
  const path = join(dir, 'h.yaml');
  writeFileSync(path, '# ports\n\nport: 99999\n');
  assert.equal(checkConfig(spec, path, { port: 5005 }), [{ line: 3, col: 7, message: 'port: "99999" must be a whole number from 0 to 65535' }]);
  assert.is(codeOf(() => loadEffective(spec, path, { port: 5005 }, new Set())), 'BAD_CONFIG');
  assert.is(codeOf(() => loadEffective(spec, join(dir, 'missing.yaml'), {}, new Set())), 'BAD_CONFIG');
});

test('reload: reloadable keys applied, others kept until a restart, a bad file changes nothing', () => {
  const dir = tempDir();
  const path = join(dir, 'h.yaml');
  writeFileSync(path, 'port: 6000\n');
  const initial = loadEffective(spec, path, { port: 5005 }, new Set());
  const applied: boolean[] = [];
  const r = new ConfigReloader({ spec, path, cli: { port: 5005 }, given: new Set(), initial, reloadable: new Set(['auto-accept']), apply: (n) => applied.push(n.settings.autoAccept) });
  writeFileSync(path, 'port: 6001\nauto-accept: true\n');
  assert.equal(r.reload(), { file: path, applied: ['auto-accept'], restartNeeded: ['port'] });
  assert.equal(applied, [true]);
  assert.is(r.current.settings.port, 6000);
  assert.equal(r.show()['restart-needed'], ['port']);
  writeFileSync(path, 'port: 6001\nauto-accept: nope\n');
  assert.is(codeOf(() => r.reload()), 'BAD_CONFIG');
  assert.is(r.current.settings.autoAccept, true);
  assert.equal(applied, [true]);
  const none = new ConfigReloader({ spec, path: undefined, cli: {}, given: new Set(), initial, reloadable: new Set(), apply: () => {} });
  assert.is(codeOf(() => none.reload()), 'NO_CONFIG');
});

test.after(() => cleanTempDirs());
test.run();
