// --files-root: a check that a resolved path lies inside one of the shared folders (themselves
// resolved through symlinks once, at start), so neither `..` nor a symlink can lead out of them.

import { realpathSync } from 'node:fs';
import { sep } from 'node:path';
import { HwError } from '../errors.ts';

export function insideRoots(roots: string[]): (real: string) => void {
  const resolved = roots.map((r) => {
    try {
      return realpathSync(r);
    } catch {
      throw new HwError('BAD_FLAG', `--files-root ${r}: no such folder`);
    }
  });
  return (real: string) => {
    if (resolved.some((root) => real === root || real.startsWith(root.endsWith(sep) ? root : root + sep))) return;
    throw new HwError('OUTSIDE_FILES_ROOT', `${real} is outside the folders this agent shares (--files-root ${resolved.join(', ')})`);
  };
}
