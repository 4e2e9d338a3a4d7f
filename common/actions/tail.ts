// The last lines of a file, read backwards from the end in chunks, so a 2 GB log costs a few reads.
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { HwError } from '../errors.ts';

const CHUNK_BYTES = 64 * 1024;

function openError(path: string, err: unknown): HwError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return new HwError('FILE_NOT_FOUND', `${path}: no such file`, { cause: err });
  if (code === 'EISDIR') return new HwError('FILE_NOT_REGULAR', `${path}: is a directory`, { cause: err });
  return new HwError('FILE_UNREADABLE', `${path}: ${code ?? String(err)}`, { cause: err });
}

/** Drops UTF-8 continuation bytes at the start, left over from a cut through a character. */
function skipBrokenStart(buf: Buffer): Buffer {
  let i = 0;
  while (i < buf.length && i < 3 && (buf[i]! & 0xc0) === 0x80) i++;
  return buf.subarray(i);
}

/**
 * At most `maxLines` lines from the last `maxBytes` bytes of `path`, oldest first, without line
 * ends. When the byte budget runs out before `maxLines` whole lines are found, the first line is the
 * cut-off end of a longer one; callers that cap bytes see the total reach the budget and mark the
 * result truncated.
 */
export async function readTail(path: string, maxLines: number, maxBytes: number): Promise<string[]> {
  if (maxLines <= 0 || maxBytes <= 0) return [];
  let fh;
  try {
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever. It changes
    // nothing for regular files, and Windows has no such flag (0).
    fh = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (err) {
    throw openError(path, err);
  }
  try {
    const st = await fh.stat();
    // A FIFO or device has no end to seek from and may block forever.
    if (!st.isFile()) throw new HwError('FILE_NOT_REGULAR', `${path}: not a regular file`);
    const budget = Math.min(st.size, maxBytes);
    const chunks: Buffer[] = [];
    let pos = st.size;
    let newlines = 0;
    let endsWithNewline: boolean | null = null;
    let enough = false;
    while (st.size - pos < budget) {
      const len = Math.min(CHUNK_BYTES, budget - (st.size - pos));
      pos -= len;
      const buf = Buffer.alloc(len);
      const { bytesRead } = await fh.read(buf, 0, len, pos);
      // A file truncated under us reads short; keep what is real.
      const got = bytesRead < len ? buf.subarray(0, bytesRead) : buf;
      chunks.unshift(got);
      if (endsWithNewline === null) endsWithNewline = got[got.length - 1] === 0x0a;
      for (const b of got) if (b === 0x0a) newlines++;
      // Whole lines after the first newline seen; the text before it may be cut.
      const whole = endsWithNewline ? newlines - 1 : newlines;
      if (whole >= maxLines) {
        enough = true;
        break;
      }
    }
    let data: Buffer = Buffer.concat(chunks);
    if (data.length === 0) return [];
    const atStart = pos === 0;
    if (!atStart && !enough) data = skipBrokenStart(data);
    const lines = data.toString('utf8').split('\n');
    if (endsWithNewline) lines.pop();
    if (!atStart && enough) lines.shift();
    return lines.slice(-maxLines).map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  } finally {
    await fh.close();
  }
}
