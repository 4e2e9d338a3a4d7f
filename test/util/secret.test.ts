import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { secretMatches } from '../../common/util/secret.ts';

const test = suite('util/secret');

test('equal secrets match; a longer, shorter or different one does not', () => {
  const old = '-AbC_' + 'x'.repeat(40);
  assert.ok(secretMatches(old, old));
  assert.not.ok(secretMatches(old, old + 'y'));
  assert.not.ok(secretMatches(old, old.slice(0, -1)));
  assert.not.ok(secretMatches(old.replace('A', 'B'), old));
  assert.not.ok(secretMatches('', old));
});

test.run();
