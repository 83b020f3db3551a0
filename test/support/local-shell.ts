import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import type { Dialect } from '../../src/dialect/dialect.js';
import { ExpectRunner, type ShellChannel } from '../../src/expect/runner.js';

/**
 * A dialect's channel command run by a real local shell instead of over SSH, so the runner and the
 * dialect are tested against real bash in milliseconds. Detached like sshd's setsid(): the shell leads its
 * own process group, which the linux dialect's interrupt relies on.
 */
export async function openLocalShell(
  dialect: Dialect,
): Promise<{ runner: ExpectRunner; child: ChildProcessWithoutNullStreams }> {
  const child = spawn('sh', ['-c', dialect.channel.command ?? ''], {
    detached: true,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', LANG: 'C.UTF-8' },
  });
  const channel: ShellChannel = {
    write: (data) => child.stdin.write(data),
    execSide: (command) =>
      new Promise((resolve, reject) => {
        const side = spawn('sh', ['-c', command], { stdio: 'ignore' });
        side.on('error', reject);
        side.on('exit', (code) => resolve(code));
      }),
    close: () => child.stdin.end(),
  };
  const runner = new ExpectRunner(channel, dialect);
  child.stdout.on('data', (chunk: Buffer) => runner.feed(chunk));
  child.stderr.on('data', (chunk: Buffer) => runner.feed(chunk));
  child.on('exit', (code) => runner.closedByPeer(code));
  await runner.open(5000);
  return { runner, child };
}
