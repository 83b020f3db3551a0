import { parseArgs } from 'node:util';
import { isLoopback } from '../ssh/addresses.js';
import { loadReplaySource } from '../transcript/load.js';
import { describeMiss, startReplay } from '../transcript/replay.js';
import { registerSecret } from '../util/secrets.js';
import { type CliCommand, parseListen, UsageError } from './args.js';

function parseSpeed(speed: string | undefined, fast: boolean | undefined): number {
  if (fast && speed !== undefined) throw new UsageError('--speed and --fast: give one');
  if (fast) return 0;
  if (speed === undefined) return 1;
  const value = Number(speed);
  if (speed.trim() === '' || !Number.isFinite(value) || value < 0) {
    throw new UsageError(`--speed must be a number, 0 or more, got "${speed}"`);
  }
  return value;
}

/** Serves a recording until SIGINT or SIGTERM; misses go to stderr as they happen. */
export const replayCommand: CliCommand = {
  name: 'replay',
  summary: 'serve a recorded session (transcript or collector file) over SSH on 127.0.0.1',
  usage: `mcp-ssh-session replay FILE [options]

  FILE                 a transcript (docs/transcripts.md) or a scrapli_replay collector file
  --listen HOST:PORT   where to listen (default 127.0.0.1:0, an ephemeral port; a bare PORT listens on
                       127.0.0.1); other than loopback only when given here
  --speed N            recorded pauses played N times as fast (default 1; 0 = no pauses)
  --fast               same as --speed 0
  --user U --password P   accept only this user and password (default: any user, any password or key)
  --host-key FILE      the server's private key (default: a new ed25519 key each start)

Prints one line with the address and host key fingerprint, then serves until SIGINT or SIGTERM. Input that
the recording has no answer for is answered as docs/transcripts.md says and reported on stderr.`,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        listen: { type: 'string' },
        speed: { type: 'string' },
        fast: { type: 'boolean' },
        user: { type: 'string' },
        password: { type: 'string' },
        'host-key': { type: 'string' },
      },
    });
    const [file, ...extra] = positionals;
    if (file === undefined) throw new UsageError('name the file to replay');
    if (extra.length > 0) throw new UsageError(`one file at a time (also got ${extra.join(' ')})`);
    if ((values.user === undefined) !== (values.password === undefined)) {
      throw new UsageError('--user and --password go together');
    }
    registerSecret(values.password);
    const listen =
      values.listen === undefined ? { host: '127.0.0.1', port: 0 } : parseListen('--listen', values.listen);
    const speed = parseSpeed(values.speed, values.fast);

    let server: Awaited<ReturnType<typeof startReplay>>;
    try {
      const model = await loadReplaySource(file);
      server = await startReplay(model, {
        listen,
        speed,
        ...(values.user !== undefined && { username: values.user, password: values.password }),
        ...(values['host-key'] !== undefined && { hostKeyFile: values['host-key'] }),
        onMiss: (miss) => process.stderr.write(`${describeMiss(miss)}\n`),
        onError: (error) => process.stderr.write(`replay: ${error.message}\n`),
      });
    } catch (error) {
      process.stderr.write(`${(error as Error).message}\n`);
      return 1;
    }
    if (!isLoopback(listen.host)) {
      process.stderr.write(
        `replay: listening on ${listen.host}, not loopback: anyone who can reach it can log in${values.user === undefined ? ' with any password' : ''}\n`,
      );
    }
    const address = server.host.includes(':')
      ? `[${server.host}]:${server.port}`
      : `${server.host}:${server.port}`;
    const who =
      values.user === undefined ? 'any user and password' : `user ${values.user} and the password given`;
    process.stdout.write(`replaying ${file} on ${address} (host key ${server.hostKeyFingerprint}); ${who}\n`);

    return new Promise<number>((resolve) => {
      let stopping = false;
      const stop = () => {
        if (stopping) return;
        stopping = true;
        const timeout = setTimeout(() => resolve(0), 3000);
        timeout.unref();
        void server.close().then(() => {
          clearTimeout(timeout);
          resolve(0);
        });
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
  },
};
