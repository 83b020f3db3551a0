import { realpath } from 'node:fs/promises';
import { homedir } from 'node:os';
import path, { posix } from 'node:path';
import { type Glob, globMatcher } from '../util/glob-match.js';
import { FileError } from './errors.js';

/**
 * A remote path as the file tools see it: `~` and `~/x` become the login folder, a relative path starts
 * there too (as SFTP does), and `.`/`..` are resolved so a policy sees where the path really points
 * (`/srv/app/../../etc/shadow` is checked as `/etc/shadow`). `~user` is refused: SFTP cannot look it up.
 */
export function remotePath(given: string, home: string): string {
  if (given === '') throw new FileError('(empty path)', 'not found', 'give a path');
  checkLength(given);
  if (given.includes('\0')) throw new FileError(given, 'failed', 'a path cannot contain a NUL byte');
  let p = given;
  if (p === '~') p = home;
  else if (p.startsWith('~/')) p = posix.join(home, p.slice(2));
  else if (p.startsWith('~')) throw new FileError(given, 'failed', 'only ~ and ~/ are expanded, not ~user');
  return checkLength(posix.resolve(home, p));
}

/** PATH_MAX of the usual SFTP server host, NUL included: no system call there takes a longer path. */
export const PATH_MAX = 4096;

/** The path, when the system could take it: a longer one is refused before any work is done on it. */
function checkLength(p: string): string {
  const bytes = Buffer.byteLength(p);
  if (bytes >= PATH_MAX) {
    throw new FileError(
      p,
      'failed',
      `the path is ${bytes} bytes; remote systems take paths up to ${PATH_MAX - 1}`,
    );
  }
  return p;
}

/**
 * A path glob: `**` crosses folders, `*` and `?` stay within one, the rest is literal. `/etc/nginx/**`
 * also matches `/etc/nginx` itself, so allowing a folder allows listing it. Matched in linear time (the
 * path is the caller's), and `**` crosses newlines too: a deny rule cannot be dodged with one in a name.
 */
export function pathGlob(pattern: string): Glob {
  return globMatcher(pattern, { separator: '/' });
}

/**
 * The local folders upload_file and download_file may use. With `files.local_dirs` in the config, exactly
 * those; without, the server's working folder and the user's home, so an agent cannot read /etc/shadow
 * or write into /usr/bin of the server's machine by default.
 */
export async function allowedLocalDirs(configured: string[] | undefined): Promise<string[]> {
  const dirs = configured ?? [process.cwd(), homedir()];
  const real = await Promise.all(dirs.map((d) => realpath(d).catch(() => path.resolve(d))));
  return [...new Set(real)];
}

const within = (file: string, dir: string) =>
  file === dir || file.startsWith(dir.endsWith('/') ? dir : `${dir}/`);

/**
 * The local file, symlinks resolved, when it lies in an allowed folder. For a file that does not exist yet
 * (a download target) its folder is resolved instead: a symlink cannot lead the write elsewhere.
 */
export async function localPath(given: string, dirs: string[], mustExist: boolean): Promise<string> {
  checkLength(given);
  if (!path.isAbsolute(given)) {
    throw new FileError(
      given,
      'failed',
      'local paths must be absolute (the client picks the working folder)',
    );
  }
  let real: string;
  try {
    real = await realpath(given);
  } catch (error) {
    if (mustExist || (error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    const parent = await realpath(path.dirname(given)).catch(() => {
      throw new FileError(given, 'not found', 'its local folder does not exist');
    });
    real = path.join(parent, path.basename(given));
  }
  if (!dirs.some((dir) => within(real, dir))) {
    throw new FileError(given, 'outside the allowed local folders', `allowed: ${dirs.join(', ')}`);
  }
  return real;
}
