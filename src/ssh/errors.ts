import { redact } from '../util/secrets.js';

export type SshErrorCode =
  | 'unknown-host'
  | 'refused'
  | 'timeout'
  | 'auth-failed'
  | 'host-key-changed'
  | 'host-key-unknown'
  | 'config'
  /** Client and server have no algorithm in common in one of the lists (kex, cipher, ...). */
  | 'algorithm-mismatch'
  | 'disconnected';

/**
 * Every failure of the ssh layer: a stable `code` for callers, a message saying what happened and a `hint`
 * saying what to do about it. Both go through redact() as a last line of defence against leaked secrets.
 */
export class SshError extends Error {
  readonly code: SshErrorCode;
  readonly hint: string;

  constructor(code: SshErrorCode, message: string, hint = '', options?: { cause?: unknown }) {
    super(redact(message), options);
    this.name = 'SshError';
    this.code = code;
    this.hint = redact(hint);
  }
}
