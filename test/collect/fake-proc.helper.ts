// A copy of test/fixtures/proc in a temp folder, with numeric process folders, for tests that
// change or remove files. Tests run from the repository root (npm test), hence the relative path.
import { cpSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tempDir } from '../harness.helper.ts';

export const FIXTURES = resolve('test/fixtures');

export function fixture(name: string): string {
  return join(FIXTURES, name);
}

/** A fake /proc holding the fixture files and `pids` numeric folders (plus non-numeric noise). */
export function fakeProc(pids = 5): string {
  const root = tempDir('hw-proc-');
  cpSync(join(FIXTURES, 'proc'), root, { recursive: true });
  for (let i = 1; i <= pids; i++) mkdirSync(join(root, String(i * 7)));
  mkdirSync(join(root, 'sys'));
  mkdirSync(join(root, '12abc'));
  return root;
}
