// One error class for the whole product: a stable `code` that callers and tests switch on.

export type ErrorCode =
  | 'FRAME_TOO_LARGE'
  | 'FRAME_EMPTY'
  | 'FRAME_KIND'
  | 'BAD_JSON'
  | 'BAD_MESSAGE'
  | 'UNKNOWN_TYPE'
  | 'PROTOCOL_VERSION'
  | 'HANDSHAKE_TIMEOUT'
  | 'HEARTBEAT_TIMEOUT'
  | 'NOT_ALLOWED'
  | 'BAD_ALLOW'
  | 'BAD_ADDRESS'
  | 'BAD_FLAG'
  | 'AGENT_NOT_FOUND'
  | 'AGENT_AMBIGUOUS'
  | 'BAD_AGENT_ID'
  | 'ENROLLMENT_EXPIRED'
  | 'AGENT_OFFLINE'
  | 'TIMEOUT'
  | 'DISCONNECTED'
  | 'UNKNOWN_COMMAND'
  | 'BAD_ARGS'
  | 'RESTART_DISABLED'
  | 'RESTART_FAILED'
  | 'FILE_NOT_FOUND'
  | 'FILE_NOT_REGULAR'
  | 'FILE_UNREADABLE'
  | 'FILE_CHANGED'
  | 'FILE_CORRUPT'
  | 'TRANSFER_ABORTED'
  | 'LOGS_UNAVAILABLE'
  | 'UNAVAILABLE'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'CSRF_REJECTED'
  | 'BAD_CREDENTIALS'
  | 'USER_NOT_FOUND'
  | 'USER_EXISTS'
  | 'API_UNREACHABLE'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'IDENTITY_MISMATCH'
  | 'NAME_TAKEN'
  | 'REVOKED'
  | 'PENDING'
  | 'MANAGER_CHANGED'
  | 'BAD_MAC'
  | 'RATE_LIMITED'
  | 'TOO_MANY_HANDSHAKES'
  | 'FILES_DISABLED'
  | 'OUTSIDE_FILES_ROOT'
  | 'TLS'
  | 'SLOW_PEER'
  | 'CREDIT_EXCEEDED'
  | 'STATE_CORRUPT'
  | 'BAD_ENROLL_TOKEN'
  | 'STORAGE_FAILED'
  | 'CANCELLED'
  | 'TOO_MANY_CONNECTIONS'
  | 'BAD_CONFIG'
  // a config problem's kind (ConfigProblem.code), inside BAD_CONFIG
  | 'BAD_GLOB' | 'UNKNOWN_KEY'
  | 'SOME_FAILED'
  | 'NO_CONFIG'
  | 'REJECTED'
  | 'SERVICES_UNAVAILABLE'
  | 'ENGINE_UNREACHABLE'
  | 'ENGINE_TIMEOUT'
  | 'ENGINE_BAD_ANSWER'
  | 'ENGINE_ERROR'
  | 'CONTAINER_NOT_FOUND'
  | 'CONTAINER_RESTART_DISABLED'
  | 'AGENT_TOO_OLD'
  // install (issue 21)
  | 'DIST_MISSING' | 'ENROLL_TOKEN_EXPIRED' | 'ENROLL_TOKEN_USED' | 'TOKEN_NOT_FOUND' | 'WEB_DISABLED' | 'NOT_ROOT' | 'INSTALL_FAILED' | 'NOT_CONNECTED'
  | 'INTERNAL'
  // upgrades (common/security/upgrade-sign.ts, common/agent/upgrade-*.ts)
  | 'UPGRADE_NOT_ALLOWED'
  | 'UPGRADE_BAD_SIGNATURE'
  | 'UPGRADE_WRONG_PLATFORM'
  | 'UPGRADE_TRUNCATED'
  | 'UPGRADE_NO_KEY'
  | 'UPGRADE_BUSY'
  | 'UPGRADE_FAILED'
  | 'UPGRADE_FILE_CHANGED'
  | 'UPGRADE_NOT_RESUMABLE'
  | 'KEY_EXISTS';

export class HwError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HwError';
    this.code = code;
  }
  toJSON(): { code: ErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

export function isHwError(err: unknown): err is HwError {
  return err instanceof HwError;
}

/** Turns anything thrown into `{ code, message }` for the wire or the API. */
export function toWireError(err: unknown): { code: ErrorCode; message: string } {
  if (err instanceof HwError) return err.toJSON();
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'INTERNAL', message };
}
