// What a native executable is built for, read from its header: ELF (e_machine) or PE (the COFF
// Machine field). `upgrade-key sign` takes the platform from it, and refuses a --platform or --arch
// the file contradicts, so a signed manifest never says a Windows executable is a Linux one (which
// an agent would accept, switch to, and only then roll back from when it cannot start).

import { closeSync, openSync, readSync } from 'node:fs';
import { HwError } from '../errors.ts';

export interface ExeTarget {
  platform: 'linux' | 'win32';
  /** as Node names it (x64, arm64, ia32, arm), or `machine 0x...` for another */
  arch: string;
}

/** The header bytes read: ELF's e_machine is at 18, a PE's header offset at 0x3c (it is at 0x80 in ours). */
const HEAD_BYTES = 4096;

const ELF_MACHINES: Record<number, string> = { 0x3e: 'x64', 0xb7: 'arm64', 0x03: 'ia32', 0x28: 'arm' };
const PE_MACHINES: Record<number, string> = { 0x8664: 'x64', 0xaa64: 'arm64', 0x14c: 'ia32', 0x1c4: 'arm' };

const machine = (table: Record<number, string>, m: number) => table[m] ?? `machine 0x${m.toString(16)}`;

/** An executable's target from its first bytes, or undefined when it is neither ELF nor PE (a script). */
export function exeTargetOf(head: Buffer): ExeTarget | undefined {
  if (head.length >= 20 && head.readUInt32BE(0) === 0x7f454c46) {
    const le = head[5] !== 2; // EI_DATA: 1 little-endian, 2 big-endian
    return { platform: 'linux', arch: machine(ELF_MACHINES, le ? head.readUInt16LE(18) : head.readUInt16BE(18)) };
  }
  if (head.length >= 0x40 && head.toString('latin1', 0, 2) === 'MZ') {
    const pe = head.readUInt32LE(0x3c);
    if (pe + 6 <= head.length && head.readUInt32BE(pe) === 0x50450000) return { platform: 'win32', arch: machine(PE_MACHINES, head.readUInt16LE(pe + 4)) };
  }
  return undefined;
}

/** Reads the header of the file at `path` (throws what open/read throw). */
export function exeTarget(path: string): ExeTarget | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new HwError('FILE_NOT_FOUND', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    const head = Buffer.alloc(HEAD_BYTES);
    return exeTargetOf(head.subarray(0, readSync(fd, head, 0, HEAD_BYTES, 0)));
  } finally {
    closeSync(fd);
  }
}

/**
 * Throws UPGRADE_WRONG_PLATFORM when the file's header contradicts the platform and arch it is
 * signed (or about to be signed) for; a file that is no native executable is left to the agent.
 */
export function checkExeTarget(path: string, claimed: { platform: string; arch: string }): void {
  const t = exeTarget(path);
  if (t && (t.platform !== claimed.platform || t.arch !== claimed.arch)) {
    throw new HwError('UPGRADE_WRONG_PLATFORM', `${path} is a ${t.platform}-${t.arch} executable (its header says so), not ${claimed.platform}-${claimed.arch}: sign it with \`manager upgrade-key sign ${path}\`, which takes the platform from the file`);
  }
}
