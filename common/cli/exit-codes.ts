// Exit codes by error code, apart from the commands (commands.ts) so that a program that only
// runs flags (the agent) does not load what the commands need (the YAML library among them).
import type { ErrorCode } from '../errors.ts';

export const EXIT: Partial<Record<ErrorCode, number>> & { default: number } = {
  default: 1, BAD_FLAG: 2, BAD_ARGS: 2, BAD_ENROLL_TOKEN: 2, BAD_ALLOW: 2, BAD_ADDRESS: 2, BAD_CONFIG: 2, NO_CONFIG: 2, AGENT_NOT_FOUND: 3, AGENT_AMBIGUOUS: 3,
  AGENT_OFFLINE: 4, PENDING: 4, API_UNREACHABLE: 5, UNAUTHORIZED: 5, TIMEOUT: 6, CANCELLED: 130,
  NOT_ROOT: 2, WEB_DISABLED: 2,
};

export function exitCodeFor(code: string): number {
  return (EXIT as Record<string, number>)[code] ?? EXIT.default;
}
