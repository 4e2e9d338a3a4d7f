// `top` as a caller may see it: command lines (which may hold secrets passed as arguments) go to
// admins only; a viewer gets null with the reason, as for any value not shown.
import type { TopProcesses } from './types.ts';

export const COMMAND_ADMINS_ONLY = 'shown to admins only';

export function topFor(r: TopProcesses, role: string): TopProcesses {
  if (role === 'admin') return r;
  return { ...r, processes: r.processes.map((p) => ({ ...p, command: null })), unavailable: { ...r.unavailable, command: COMMAND_ADMINS_ONLY } };
}
