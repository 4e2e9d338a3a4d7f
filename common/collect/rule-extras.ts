// What the rules judge beyond a report's sample: swap use and the usage of each mount (Linux).
// Read only when a rule asks for them; a mount that cannot be read is a gap (null), not a 0.

import { diskUsage, readMounts, realMounts } from './disk.ts';
import { DEFAULT_PROC_ROOT, parseMeminfo, readProc } from './proc-linux.ts';

export interface MountPercent {
  mount: string;
  type: string;
  percent: number | null;
}

export async function ruleExtras(want: { swap: boolean; mounts: boolean }, procRoot = DEFAULT_PROC_ROOT): Promise<{ swap?: number | null; mounts?: MountPercent[] }> {
  if (process.platform !== 'linux') return {};
  const out: { swap?: number | null; mounts?: MountPercent[] } = {};
  if (want.swap) {
    const m = parseMeminfo(readProc(procRoot, 'meminfo'));
    out.swap = m.swapTotalBytes && m.swapFreeBytes !== null ? Math.round(((m.swapTotalBytes - m.swapFreeBytes) / m.swapTotalBytes) * 1000) / 10 : m.swapTotalBytes === 0 ? 0 : null;
  }
  if (want.mounts) {
    out.mounts = await Promise.all(realMounts(readMounts(procRoot)).map(async (e) => {
      try {
        return { mount: e.mount, type: e.type, percent: (await diskUsage(e)).percent };
      } catch {
        return { mount: e.mount, type: e.type, percent: null };
      }
    }));
  }
  return out;
}
