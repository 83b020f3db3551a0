/**
 * Every file error names the path and one cause from a short list, so an agent can tell "create it" from
 * "use sudo" from "read on with an offset" without parsing prose.
 */
export type FileErrorCause =
  | 'not found'
  | 'permission denied'
  | 'not a directory'
  | 'is a directory'
  | 'over the cap'
  | 'refused by policy'
  | 'outside the allowed local folders'
  | 'sudo failed'
  | 'failed';

export class FileError extends Error {
  constructor(
    readonly path: string,
    readonly reason: FileErrorCause,
    detail?: string,
  ) {
    super(`${shown(path)}: ${reason}${detail ? ` (${detail})` : ''}`);
  }
}

/** A path as messages show it: a caller's path can be megabytes long, the message is not. */
function shown(path: string): string {
  return path.length > 300 ? `${path.slice(0, 200)}…(${path.length} characters)` : path;
}

/** ssh2 SFTP status codes (SSH_FX_*), as `error.code`. */
const NO_SUCH_FILE = 2;
const PERMISSION_DENIED = 3;

/** An SFTP or local fs error as a FileError for `path`; FileErrors pass through. */
export function fileError(error: unknown, path: string, doing?: string): FileError {
  if (error instanceof FileError) return error;
  const err = error as { code?: number | string; message?: string };
  const what = doing ? `${doing}: ${err.message ?? String(error)}` : (err.message ?? String(error));
  if (err.code === NO_SUCH_FILE || err.code === 'ENOENT') return new FileError(path, 'not found', doing);
  if (err.code === PERMISSION_DENIED || err.code === 'EACCES' || err.code === 'EPERM') {
    return new FileError(path, 'permission denied', doing);
  }
  if (err.code === 'ENOTDIR') return new FileError(path, 'not a directory', doing);
  if (err.code === 'EISDIR') return new FileError(path, 'is a directory', doing);
  return new FileError(path, 'failed', what);
}

export const isPermissionError = (error: unknown) =>
  error instanceof FileError && error.reason === 'permission denied';
