// nginx for the reverse-proxy end-to-end test: found, or installed from Debian when the test runs as root,
// bounded in time.
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';

const CANDIDATES = [
  '/usr/sbin/nginx',
  '/usr/local/sbin/nginx',
  '/usr/local/nginx/sbin/nginx',
  '/usr/bin/nginx',
];
/** Debian's package names, smallest first (bookworm has nginx-light; later releases only nginx). */
const PACKAGES = ['nginx-light', 'nginx'];
/** Keeps the package's own service from starting: an nginx on port 80 that this test did not start. */
const POLICY_RC = '/usr/sbin/policy-rc.d';

function findNginx(): string | undefined {
  return CANDIDATES.find((p) => existsSync(p));
}

interface Run {
  code: number | null;
  output: string;
  timedOut: boolean;
}

/** Runs a command with a time limit (SIGKILL at the limit), its output collected. */
export function runBounded(command: string, args: string[], timeoutMs: number): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    let output = '';
    let timedOut = false;
    child.stdout.on('data', (c: Buffer) => {
      output += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      output += c.toString();
    });
    const timer = setTimeout(
      () => {
        timedOut = true;
        child.kill('SIGKILL');
      },
      Math.max(1, timeoutMs),
    );
    child.on('error', (err) => {
      output += String(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output, timedOut });
    });
  });
}

/**
 * The nginx binary, installed with apt-get when missing (root only) within `budgetMs`; or why there is none,
 * for the test to skip with.
 */
export async function ensureNginx(budgetMs: number): Promise<{ nginx: string } | { skip: string }> {
  const found = findNginx();
  if (found) return { nginx: found };
  if (process.getuid?.() !== 0) return { skip: 'nginx is not installed and installing it needs root' };
  if (!existsSync('/usr/bin/apt-get')) return { skip: 'nginx is not installed and there is no apt-get' };
  const deadline = Date.now() + budgetMs;
  const left = () => deadline - Date.now();
  const ownPolicy = !existsSync(POLICY_RC);
  if (ownPolicy) writeFileSync(POLICY_RC, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  const tried: string[] = [];
  try {
    const install = async (pkg: string) => {
      const r = await runBounded('apt-get', ['install', '-y', '--no-install-recommends', pkg], left());
      tried.push(`apt-get install ${pkg}: ${r.timedOut ? 'timed out' : `exit ${r.code}`}`);
      return findNginx();
    };
    for (const pkg of PACKAGES) {
      if (left() <= 0) break;
      const nginx = await install(pkg);
      if (nginx) return { nginx };
    }
    // The package lists may be missing or stale: refresh them once and try again.
    if (left() > 0) {
      const r = await runBounded('apt-get', ['update'], left());
      tried.push(`apt-get update: ${r.timedOut ? 'timed out' : `exit ${r.code}`}`);
    }
    for (const pkg of PACKAGES) {
      if (left() <= 0) break;
      const nginx = await install(pkg);
      if (nginx) return { nginx };
    }
  } finally {
    if (ownPolicy) await rm(POLICY_RC, { force: true });
  }
  return {
    skip: `nginx is not installed and could not be installed in ${budgetMs / 1000} s (${tried.join('; ')})`,
  };
}
