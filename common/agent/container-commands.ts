// The agent's side of the container commands: arguments checked again (the manager is not trusted
// to have done it), restart refused unless the host's operator started the agent with
// --allow-container-restart.

import { HwError } from '../errors.ts';
import { containerArgs, type ContainerCommand } from '../collect/containers/args.ts';
import type { ContainerEngine } from '../collect/containers/engine.ts';

export type ContainerOps = Pick<ContainerEngine, 'list' | 'logs' | 'restart'>;

export async function containerCommand(engine: ContainerOps, allowRestart: boolean, cmd: ContainerCommand, raw: unknown): Promise<unknown> {
  const a = containerArgs(cmd, raw);
  switch (cmd) {
    case 'containers':
      return engine.list();
    case 'container-logs':
      return engine.logs(a.name!, a.lines!);
    case 'container-restart':
      if (!allowRestart) throw new HwError('CONTAINER_RESTART_DISABLED', 'this agent does not restart containers: start it with --allow-container-restart');
      return engine.restart(a.name!);
  }
}
