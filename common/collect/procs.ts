// The process lister for this platform: /proc on Linux (synchronous, so an alert can name its
// cause at once), tasklist on Windows; none elsewhere (the agent then does not name `top`).
import type { Runner } from '../util/runner.ts';
import { LinuxProcesses, type TopQuery } from './procs-linux.ts';
import { WindowsProcesses } from './procs-windows.ts';
import type { TopProcesses } from './types.ts';

export interface ProcessLister {
  top(o: TopQuery): Promise<TopProcesses>;
  topNow?(o: TopQuery): TopProcesses;
}

export function processLister(platform: NodeJS.Platform, runner: Runner): ProcessLister | undefined {
  if (platform === 'linux') {
    const p = new LinuxProcesses();
    return { top: (o) => p.topAsync(o), topNow: (o) => p.top(o) };
  }
  if (platform === 'win32') {
    const p = new WindowsProcesses({ runner });
    return { top: (o) => p.top(o) };
  }
  return undefined;
}
