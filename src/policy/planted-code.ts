// Files a host runs by itself later: a command policy checks what the agent types, so writing one of
// these would let the agent run what the policy refuses at its next login, or inside an allowed command.

/** Read at login or by every new shell (bash, sh, zsh, csh, fish), by sshd, or by the dynamic loader. */
const STARTUP_FILES = [
  '.profile',
  '.bash_profile',
  '.bash_login',
  '.bash_logout',
  '.bashrc',
  '.zshenv',
  '.zprofile',
  '.zshrc',
  '.zlogin',
  '.zlogout',
  '.cshrc',
  '.tcshrc',
  '.login',
  '.logout',
  '.kshrc',
  '.mkshrc',
  '.pam_environment',
  '.ssh/rc',
  '.ssh/environment',
  '.ssh/authorized_keys',
  '.ssh/authorized_keys2',
  '.config/fish/config.fish',
];

const SYSTEM_FILES = [
  '/etc/profile',
  '/etc/bash.bashrc',
  '/etc/environment',
  '/etc/ld.so.preload',
  '/etc/zshenv',
];
const SYSTEM_FOLDERS = ['/etc/profile.d/', '/etc/ssh/', '/etc/sudoers.d/', '/etc/cron.d/', '/etc/systemd/'];

/**
 * Why writing `path` (absolute, normalised) with file mode `mode` plants code the host runs later, or
 * undefined. `home` is the login folder.
 */
export function plantedCode(path: string, home: string, mode: number): string | undefined {
  const base = path.slice(path.lastIndexOf('/') + 1);
  const inHome = home.endsWith('/') ? home : `${home}/`;
  if (path.startsWith(inHome) && STARTUP_FILES.includes(path.slice(inHome.length))) {
    return 'a shell or sshd runs it at the next login';
  }
  if (SYSTEM_FILES.includes(path) || SYSTEM_FOLDERS.some((dir) => path.startsWith(dir))) {
    return 'the system runs it at login or on its own';
  }
  if (/\.so(\.[0-9.]+)?$/.test(base))
    return 'a shared library can be loaded into allowed commands (LD_PRELOAD)';
  if ((mode & 0o111) !== 0) {
    return 'an executable file is a command the policy has not seen (permissions "0644" writes it without x bits)';
  }
  if (/(^|\/)s?bin\//.test(path)) return 'a file in a bin folder is found on PATH before allowed commands';
  return undefined;
}
