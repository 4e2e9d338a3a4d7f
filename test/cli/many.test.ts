// Fetch from many writes <dest>/<agent name>/<file>: the agent's name, which the agent chose, must
// never lead outside <dest>.
import { join, resolve } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { folderName } from '../../common/cli/many.ts';

const test = suite('cli/many');

test('an agent name becomes one folder inside the destination, whatever it holds', () => {
  const root = resolve('/srv/fetched');
  for (const name of ['..', '.', '...', '', ' ', '../etc', '..\\..\\x', 'a/b', 'C:evil', '\u001b[2J', 'web-1', '  ..  ']) {
    const dir = join(root, folderName(name));
    assert.ok(dir.startsWith(root + '/') && !dir.slice(root.length + 1).includes('/'), `${JSON.stringify(name)} -> ${dir}`);
    assert.not.match(folderName(name), /[\u0000-\u001f]/);
  }
  assert.is(folderName('web-1'), 'web-1');
  assert.is(folderName('..'), '_..');
  assert.is(folderName('a/b'), 'a_b');
});

test.run();
