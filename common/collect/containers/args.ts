// The one validator of the container commands' arguments, used by the agent (what arrives over the
// wire), the manager's API and the CLI (before sending).

import { HwError } from '../../errors.ts';
import { checkName } from './engine.ts';

/** container-logs: lines by default and at most (the answer must fit one message). */
export const CONTAINER_LOG_LINES = { default: 200, max: 1000 } as const;

export type ContainerCommand = 'containers' | 'container-logs' | 'container-restart';
export type ContainerArgs = { name?: string; lines?: number };

export function containerArgs(cmd: ContainerCommand, v: unknown): ContainerArgs {
  const a = (v ?? {}) as Record<string, unknown>;
  if (typeof a !== 'object' || Array.isArray(a)) throw new HwError('BAD_ARGS', '"args" must be an object');
  const allowed = cmd === 'containers' ? [] : cmd === 'container-logs' ? ['name', 'lines'] : ['name'];
  const extra = Object.keys(a).find((k) => !allowed.includes(k));
  if (extra !== undefined) throw new HwError('BAD_ARGS', `${cmd} takes ${allowed.length ? allowed.map((k) => `"${k}"`).join(' and ') : 'no arguments'}, not "${extra.slice(0, 50)}"`);
  if (cmd === 'containers') return {};
  const name = checkName(a.name);
  if (cmd === 'container-restart') return { name };
  const lines = a.lines === undefined ? CONTAINER_LOG_LINES.default : Number(a.lines);
  if (!Number.isInteger(lines) || lines < 1 || lines > CONTAINER_LOG_LINES.max) throw new HwError('BAD_ARGS', `-n (lines) must be a whole number from 1 to ${CONTAINER_LOG_LINES.max}`);
  return { name, lines };
}
