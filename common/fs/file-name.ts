// An agent's id as a file name: kept as it is when it is a plain name, else its sha256 (an id comes
// from the wire: no path separators, dots or length of its choosing reach the file system).

import { createHash } from 'node:crypto';

export function fileNameOf(id: string): string {
  return /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$/.test(id) ? id : createHash('sha256').update(id).digest('hex');
}
