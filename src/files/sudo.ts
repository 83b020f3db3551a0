import { randomBytes } from 'node:crypto';
import { shellQuote } from '../dialect/template.js';
import type { SshChannel, SshConnection } from '../ssh/connection.js';
import { redact } from '../util/secrets.js';
import { FileError } from './errors.js';

/** Exit statuses the scripts below use to say what went wrong, and what that means for the path. */
const CAUSES: Record<number, [FileError['reason'], string?]> = {
  10: ['not found'],
  11: ['is a directory'],
  12: ['not a directory', 'its folder does not exist or is not a folder'],
  13: ['permission denied', 'even with sudo'],
};

export interface SudoRun {
  /** sh script, run by root; $1.. are `args`. It prints nothing to stderr before it is ready. */
  script: string;
  args: string[];
  /** Undefined: only works when sudo does not ask (NOPASSWD, or a cached login). */
  password: string | undefined;
  /** Called once the script runs as root: write its stdin here (never before: sudo reads the password from it). */
  feed?: (channel: SshChannel) => Promise<void>;
  /** Bytes the script prints on stdout, as they come. */
  onStdout?: (chunk: Buffer) => void;
}

/**
 * Run `script` as root on an exec channel of its own, never the interactive shell: `sudo -S` reads the
 * password from the channel's stdin, so it never appears on a command line or a terminal. The password
 * is sent only when sudo's prompt (a random one of ours) shows up, and content only after the script says
 * it runs: sudo never swallows content as a password, and a cached or passwordless sudo gets no password.
 */
export function runSudo(client: SshConnection, path: string, run: SudoRun): Promise<{ stderr: string }> {
  const nonce = randomBytes(8).toString('hex');
  const prompt = `mcp-sudo-${nonce}:`;
  const ready = `mcp-ready-${nonce}`;
  const script = `printf '%s\\n' ${shellQuote(ready)} >&2\n${run.script}`;
  const command = `sudo -S -p ${shellQuote(prompt)} -- sh -c ${shellQuote(script)} sh ${run.args.map(shellQuote).join(' ')}`;
  return new Promise((resolve, reject) => {
    client.exec(command, (error, channel) => {
      if (error) return reject(new FileError(path, 'sudo failed', `no exec channel: ${error.message}`));
      let stderr = '';
      let asked = 0;
      let started = false;
      let failure: FileError | undefined;
      let code: number | null = null;
      const fail = (why: string) => {
        failure ??= new FileError(path, 'sudo failed', why);
        channel.close();
      };
      channel.on('data', (chunk: Buffer) => run.onStdout?.(chunk));
      channel.stderr.on('data', (chunk: Buffer) => {
        if (stderr.length < 65_536) stderr += chunk.toString('utf8');
        if (started) return;
        const prompts = stderr.split(prompt).length - 1;
        if (prompts > asked) {
          asked = prompts;
          if (asked > 1) return fail('incorrect sudo password');
          if (run.password === undefined) {
            return fail(
              'sudo asks for a password: pass sudo_password, or set sudo_password for the host in the config',
            );
          }
          channel.write(`${run.password}\n`);
        }
        if (stderr.includes(`${ready}\n`)) {
          started = true;
          stderr = stderr.slice(stderr.indexOf(`${ready}\n`) + ready.length + 1);
          (run.feed ? run.feed(channel) : Promise.resolve(channel.end())).catch((e: Error) =>
            fail(e.message),
          );
        }
      });
      channel.on('exit', (status: number | null) => {
        code = status;
      });
      channel.on('close', () => {
        if (failure) return reject(failure);
        const cause = code === null ? undefined : CAUSES[code];
        if (cause) return reject(new FileError(path, cause[0], cause[1]));
        if (code === 0 && started) return resolve({ stderr });
        const said = redact(stderr.split(prompt).join('').replace(/\s+/g, ' ').trim()).slice(0, 500);
        if (/incorrect password|Authentication failed|try again/i.test(said)) {
          return reject(new FileError(path, 'sudo failed', 'incorrect sudo password'));
        }
        reject(new FileError(path, 'sudo failed', said || `exit status ${code ?? 'unknown'}`));
      });
    });
  });
}

/** Writes `data` to the channel, respecting back-pressure, then ends its stdin. */
export async function feedAll(channel: SshChannel, data: Buffer): Promise<void> {
  const CHUNK = 64 * 1024;
  for (let at = 0; at < data.length; at += CHUNK) {
    if (!channel.write(data.subarray(at, at + CHUNK))) {
      await new Promise<void>((resolve) => channel.once('drain', resolve));
    }
  }
  channel.end();
}

/** Root reads bytes [offset, offset + max) of $1; its size goes to stderr first (MCP-SIZE n). */
export const SUDO_READ = `f=$1
[ -e "$f" ] || exit 10
[ -d "$f" ] && exit 11
[ -r "$f" ] || exit 13
printf 'MCP-SIZE %s\\n' "$(wc -c < "$f")" >&2
tail -c +"$(($2 + 1))" -- "$f" | head -c "$3"`;

/**
 * Root replaces $1 atomically: content from stdin into a temporary file in the same folder, mode and owner
 * taken from the old file (or $2, octal), then mv over it. $3=1 appends instead; $4=1 creates folders.
 */
export const SUDO_WRITE = `f=$1; d=$(dirname -- "$f")
[ "$4" = 1 ] && { mkdir -p -- "$d" || exit 12; }
[ -d "$d" ] || exit 12
[ -d "$f" ] && exit 11
if [ "$3" = 1 ]; then cat >> "$f" || exit 1; [ -n "$2" ] && chmod "$2" "$f"; exit 0; fi
t=$(mktemp "$d/.$(basename -- "$f").mcp-XXXXXX") || exit 1
trap 'rm -f -- "$t"' EXIT
cat > "$t" || exit 1
if [ -e "$f" ]; then chown --reference="$f" -- "$t" && chmod --reference="$f" -- "$t" || exit 1
else chmod "$(printf %o $((0666 & ~$(umask))))" -- "$t" || exit 1; fi
[ -n "$2" ] && { chmod "$2" -- "$t" || exit 1; }
mv -f -- "$t" "$f" || exit 1
trap - EXIT`;
