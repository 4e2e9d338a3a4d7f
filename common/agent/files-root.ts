// --files-root: whether a real path lies inside one of the shared folders (themselves resolved
// through symlinks once, at start). FileSender asks it about the real path of the file it has
// opened, so neither `..`, nor a symlink, nor a link swapped in after a check can lead out.

import { realpathSync } from 'node:fs';
import { posix, win32 } from 'node:path';
import { HwError } from '../errors.ts';

/** Resolves the roots (BAD_FLAG when one is not there) and returns the check. */
export function insideRoots(roots: string[], platform: NodeJS.Platform = process.platform): (real: string) => void {
  const resolved = roots.map((r) => {
    try {
      return realpathSync(r);
    } catch {
      throw new HwError('BAD_FLAG', `--files-root ${r}: no such folder`);
    }
  });
  return rootCheck(resolved, platform);
}

/**
 * The check on already resolved roots. On Windows names are compared without regard to case
 * (NTFS's default), so C:\Share and c:\share\x are the same folder.
 */
export function rootCheck(resolvedRoots: string[], platform: NodeJS.Platform = process.platform): (real: string) => void {
  const win = platform === 'win32';
  const sep = win ? win32.sep : posix.sep;
  const norm = (p: string) => (win ? p.replace(/\//g, '\\').toLowerCase() : p);
  const roots = resolvedRoots.map((r) => {
    const n = norm(r);
    return { exact: n.endsWith(sep) ? n.slice(0, -1) : n, prefix: n.endsWith(sep) ? n : n + sep };
  });
  return (real: string) => {
    const p = norm(real);
    if (roots.some((r) => p === r.exact || p.startsWith(r.prefix))) return;
    throw new HwError('OUTSIDE_FILES_ROOT', `${real} is outside the folders this agent shares (--files-root ${resolvedRoots.join(', ')})`);
  };
}
