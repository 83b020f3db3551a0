import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';

/** Where the ssh layer reads its configuration; tests point this at a temp dir instead of mutating HOME. */
export interface SshPaths {
  sshConfig: string;
  knownHosts: string;
  home: string;
}

/** ~/.ssh/config and ~/.ssh/known_hosts, from os.homedir() at call time (so HOME changes are honoured). */
export function defaultSshPaths(): SshPaths {
  const home = homedir();
  return { home, sshConfig: join(home, '.ssh', 'config'), knownHosts: join(home, '.ssh', 'known_hosts') };
}

/** The local user name; os.userInfo() throws for uids without a passwd entry (some containers). */
export function localUsername(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? process.env.LOGNAME ?? 'root';
  }
}

/** `~` and `~/x` relative to home; other paths unchanged. */
export function expandTilde(path: string, home: string): string {
  if (path === '~') return home;
  if (path.startsWith('~/')) return join(home, path.slice(2));
  return path;
}

/** The inverse for messages: `/home/me/.ssh/id_rsa` -> `~/.ssh/id_rsa`. */
export function displayPath(path: string, home: string): string {
  if (home && home !== '/' && path.startsWith(`${home}/`)) return `~${path.slice(home.length)}`;
  return path;
}
