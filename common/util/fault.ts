// Test-only fault points: HOSTWATCH_FAULT=<name> makes the program kill itself (SIGKILL, as a
// power cut or the OOM killer would) at the named point, so an end-to-end test can prove that
// nothing is lost there. Read once at start; unset, a fault point costs one comparison.

const FAULT = process.env.HOSTWATCH_FAULT ?? '';

/** The points a test can name (docs/operations.md lists them). */
export type FaultName = 'kill-after-alert-record';

/** Dies at once, without any cleanup, when HOSTWATCH_FAULT names this point. */
export function faultPoint(name: FaultName): void {
  if (FAULT === name) process.kill(process.pid, 'SIGKILL');
}
