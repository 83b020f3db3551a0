import { posix } from 'node:path';
import { plantedCode } from '../policy/planted-code.js';
import type { SshConnection } from '../ssh/connection.js';
import type { Sftp } from '../ssh/sftp.js';
import { FileError, fileError } from './errors.js';
import { remotePath } from './paths.js';
import { allowedByName, checkPath, hasRules, type PathRules } from './policy.js';

/** What every file operation on one host needs: the connection, its SFTP channel, home and rules. */
export interface RemoteContext {
  client: SshConnection;
  sftp: Sftp;
  home: string;
  rules: PathRules;
  /** A command policy applies to the host: files it would run by itself later are refused (plantedCode). */
  commandPolicy: boolean;
  /** sudo may be used after a permission error; password undefined = only if sudo does not ask. */
  sudo: { allowed: boolean; password?: string };
}

/**
 * The path a call names, `~` expanded and normalised, checked against the host's path policy. With rules,
 * the path is checked again with symlinks resolved (its folder's, for a file not there yet), so a link
 * inside an allowed folder cannot lead to a denied one.
 */
export async function resolveRemote(ctx: RemoteContext, given: string): Promise<string> {
  const path = remotePath(given, ctx.home);
  if (!hasRules(ctx.rules)) return path;
  checkPath(ctx.rules, path, ctx.home);
  // With rules, a path whose links cannot be resolved is refused: following it as root (sudo) or creating
  // folders under it (make_dirs) could land behind a denied folder.
  const real = await ctx.sftp
    .realpath(path)
    .catch(() => ctx.sftp.realpath(posix.dirname(path)).then((dir) => posix.join(dir, posix.basename(path))))
    .catch(() => {
      throw new FileError(
        path,
        'refused by policy',
        'its folder does not exist or cannot be read, so where links lead cannot be checked; create the folder first',
      );
    });
  if (real !== path) checkPath(ctx.rules, real, ctx.home);
  return path;
}

/**
 * Under a command policy, refuses to write a file the host runs by itself later (a login script, a shared
 * library, an executable, a file in a bin folder), where the policy would never see what it runs; a path
 * rule that allows the path by name permits it. Checked on the path and on where its links lead.
 */
export async function checkPlantedCode(ctx: RemoteContext, path: string, mode: number): Promise<void> {
  if (!ctx.commandPolicy) return;
  const real = await ctx.sftp
    .realpath(path)
    .catch(() => ctx.sftp.realpath(posix.dirname(path)).then((dir) => posix.join(dir, posix.basename(path))))
    .catch(() => path);
  for (const p of new Set([path, real])) {
    const why = plantedCode(p, ctx.home, mode);
    if (why === undefined || allowedByName(ctx.rules, p, ctx.home)) continue;
    throw new FileError(
      p,
      'refused by policy',
      `${why}, out of sight of the host's command policy; a policy.paths.allow entry naming it permits it`,
    );
  }
}

/** stat that reports errors against the path, or undefined when there is nothing there. */
export async function statOrNone(ctx: RemoteContext, path: string) {
  try {
    return await ctx.sftp.stat(path);
  } catch (error) {
    const e = fileError(error, path);
    if (e.reason === 'not found') return undefined;
    throw e;
  }
}
