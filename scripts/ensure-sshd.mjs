#!/usr/bin/env node
// Makes sure the binaries the real-OpenSSH test harness needs are installed (Debian/Ubuntu).
// Run before `npm test` / `npm run bench`. Installs them with apt-get when running as root.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

// top and less: the full-screen program tests drive them; script (bsdutils) is essential on Debian.
const REQUIRED = [
  '/usr/sbin/sshd',
  '/usr/bin/ssh',
  '/usr/bin/ssh-keygen',
  '/usr/bin/sudo',
  '/usr/bin/top',
  '/usr/bin/less',
  '/usr/bin/script',
];
const PACKAGES = ['openssh-server', 'openssh-client', 'sudo', 'procps', 'less', 'bsdutils'];
const APT_TIMEOUT_MS = 10 * 60 * 1000;

const missing = () => REQUIRED.filter((p) => !existsSync(p));

function run(args, deadline) {
  const timeout = deadline - Date.now();
  if (timeout <= 0) fail(`timed out after ${APT_TIMEOUT_MS / 1000}s installing ${PACKAGES.join(' ')}`);
  // stdout goes to stderr too, so the caller's stdout stays clean.
  const r = spawnSync(args[0], args.slice(1), {
    stdio: ['ignore', 2, 2],
    timeout,
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (r.error?.code === 'ETIMEDOUT') fail(`\`${args.join(' ')}\` timed out`);
  if (r.error) fail(`\`${args.join(' ')}\` failed: ${r.error.message}`);
  if (r.status !== 0) fail(`\`${args.join(' ')}\` exited with ${r.status ?? r.signal}`);
}

function fail(message) {
  console.error(`ensure-sshd: ${message}`);
  process.exit(1);
}

let absent = missing();
if (absent.length > 0) {
  if (process.getuid?.() !== 0) {
    fail(
      `missing ${absent.join(', ')}. The integration tests need a real OpenSSH server: ` +
        `install them (\`sudo apt-get install ${PACKAGES.join(' ')}\`) or run as root.`,
    );
  }
  console.error(`ensure-sshd: missing ${absent.join(', ')}; installing ${PACKAGES.join(' ')} with apt-get`);
  const deadline = Date.now() + APT_TIMEOUT_MS;
  run(['apt-get', 'update'], deadline);
  run(['apt-get', 'install', '-y', '--no-install-recommends', ...PACKAGES], deadline);
  absent = missing();
  if (absent.length > 0) fail(`still missing after apt-get install: ${absent.join(', ')}`);
}
console.log(`ensure-sshd: ${PACKAGES.join(', ')} present`);
