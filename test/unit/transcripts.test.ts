import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseTranscript, type Transcript, type TranscriptEvent } from '../../src/transcript/format.js';

const DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'transcripts');

/** The transcripts the suite relies on; more may be added, none of these may go missing. */
const EXPECTED = [
  'ios-xe-16.12-csr1000v.yaml',
  'ios-15-user-enable.yaml',
  'eos-4.22-veos.yaml',
  'eos-prompt-variants.yaml',
  'junos-17.3-vsrx.yaml',
  'junos-cluster-root-shell.yaml',
  'junos-login-question.yaml',
];

const files = readdirSync(DIR)
  .filter((name) => name.endsWith('.yaml'))
  .sort();

const SECRET_ONLY = /^\{\{secret:[a-z][a-z0-9_-]*\}\}\r?\n?$/;

/** One caller command: where it starts, its result, and what the device sent in between. */
interface Exchange {
  command: Extract<TranscriptEvent, { command: string }>;
  result: Extract<TranscriptEvent, { result: unknown }>['result'];
  /** The line the cursor sat on when the caller's command began: the prompt it was typed at. */
  prompt: string;
  ins: string[];
  outs: string;
}

function exchanges(transcript: Transcript): Exchange[] {
  const found: Exchange[] = [];
  let screen = '';
  let open: Omit<Exchange, 'result'> | undefined;
  for (const event of transcript.events) {
    if ('out' in event) {
      screen += event.out;
      if (open) open.outs += event.out;
    } else if ('in' in event) {
      if (open) open.ins.push(event.in);
    } else if ('command' in event) {
      assert.equal(
        open,
        undefined,
        `command "${event.command}" starts before the one before it has a result`,
      );
      const lastLine = screen.slice(screen.lastIndexOf('\n') + 1);
      open = { command: event, prompt: lastLine, ins: [], outs: '' };
    } else if ('result' in event) {
      assert.ok(open, 'a result with no command before it');
      found.push({ ...open, result: event.result });
      open = undefined;
    }
  }
  assert.equal(open, undefined, `command "${open?.command.command}" has no result`);
  return found;
}

/** What a terminal would keep of the device's bytes: LF line ends, pager prompts and their erasure gone. */
function plain(outs: string): string {
  return outs
    .replace(/\r\n/g, '\n')
    .replace(/ ?--More-- ?/g, '')
    .replace(/\x08+ *\x08+/g, '');
}

/** Prompts that carry a clock are one state: compare them with the digits blanked. */
const promptState = (prompt: string) => prompt.replace(/[0-9]/g, '0');

describe('device transcripts', () => {
  it('has every transcript the suite expects', () => {
    for (const name of EXPECTED) assert.ok(files.includes(name), `${name} is missing from test/transcripts`);
  });

  for (const name of files) {
    describe(name, () => {
      const text = readFileSync(path.join(DIR, name), 'utf8');
      const transcript = parseTranscript(text, name);

      it('names the device, its source and host, and replays over a shell with a pty', () => {
        assert.ok(transcript.device, 'device is set');
        assert.ok(transcript.source, 'source is set');
        assert.ok(transcript.host, 'host is set');
        assert.equal(transcript.channel.type, 'shell');
        assert.notEqual(transcript.channel.pty, false);
        assert.match(text, /^# /, 'the file opens with a comment block listing its sources');
      });

      it('gives every command a result, and every result a command', () => {
        const all = exchanges(transcript);
        assert.ok(all.length > 0);
        const commands = transcript.events.filter((e) => 'command' in e).length;
        const results = transcript.events.filter((e) => 'result' in e).length;
        assert.equal(results, commands);
      });

      it('types each command it marks, and the device echoes it', () => {
        for (const x of exchanges(transcript)) {
          assert.ok(
            x.ins.includes(`${x.command.command}\n`),
            `"${x.command.command}" is never typed between its command and result events`,
          );
          assert.ok(x.outs.includes(`${x.command.command}`), `"${x.command.command}" is not echoed`);
        }
      });

      it('writes outputs as LF text without a trailing line end', () => {
        for (const x of exchanges(transcript)) {
          const output = x.result.output ?? '';
          assert.ok(!output.includes('\r'), `output of "${x.command.command}" has a CR`);
          assert.ok(!output.endsWith('\n'), `output of "${x.command.command}" ends with a line end`);
          if (x.result.status === 'closed') {
            assert.ok(
              transcript.events.some((e) => 'close' in e),
              `"${x.command.command}" closed a session that never closes`,
            );
          } else {
            assert.ok(x.result.mode, `result of "${x.command.command}" names its mode`);
          }
        }
      });

      it('only claims output the device actually sent', () => {
        for (const x of exchanges(transcript)) {
          const sent = plain(x.outs);
          for (const line of (x.result.output ?? '').split('\n')) {
            if (line.trim() === '') continue;
            assert.ok(
              sent.includes(line),
              `"${x.command.command}": output line ${JSON.stringify(line)} was not sent`,
            );
          }
          if (x.result.error) {
            assert.ok(sent.includes(x.result.error), `"${x.command.command}": error line was not sent`);
            assert.ok(
              (x.result.output ?? '').includes(x.result.error),
              'the error line is part of the output',
            );
          }
        }
      });

      it('has an unknown-command exchange at every prompt a command is typed at', () => {
        const all = exchanges(transcript);
        const states = new Map(all.map((x) => [promptState(x.prompt), x.prompt]));
        const covered = new Set(all.filter((x) => x.command.unknown).map((x) => promptState(x.prompt)));
        for (const [state, prompt] of states) {
          assert.ok(covered.has(state), `no unknown: true command is typed at ${JSON.stringify(prompt)}`);
        }
        for (const x of all.filter((y) => y.command.unknown)) {
          assert.ok(x.result.error, `unknown command "${x.command.command}" has no error line`);
        }
      });

      it('answers password prompts with a secret placeholder only', () => {
        let asked = false;
        for (const event of transcript.events) {
          if ('out' in event) {
            if (event.out.trim() !== '') asked = /password: ?$/i.test(event.out);
          } else if ('in' in event) {
            if (asked) assert.match(event.in, SECRET_ONLY, 'typed after a Password: prompt');
            else
              assert.doesNotMatch(event.in, /\{\{secret:/, 'a placeholder typed where no password was asked');
            asked = false;
          }
        }
      });

      it('sends the on-login commands first, and an empty line and show version', () => {
        const commands = exchanges(transcript).map((x) => x.command.command);
        const onLogin = name.startsWith('junos')
          ? ['set cli screen-length 0', 'set cli screen-width 511', 'set cli complete-on-space off']
          : name.startsWith('eos')
            ? ['terminal length 0', 'terminal width 32767']
            : ['terminal length 0', 'terminal width 512', 'terminal width 511'];
        for (const c of [...onLogin, 'show version']) assert.ok(commands.includes(c), `"${c}" is missing`);
        const firstLogin = Math.min(...onLogin.map((c) => commands.indexOf(c)));
        const paged = transcript.events.some((e) => 'out' in e && e.out.includes('--More--'));
        const before = commands.slice(0, firstLogin);
        // Only a client that looks at a device before turning paging off may send something first.
        if (!paged) {
          assert.ok(
            before.every((c) => c === 'cli' || c === 'enable'),
            `commands before the on-login ones: ${before.join(', ')}`,
          );
        }
        assert.ok(
          transcript.events.some((e) => 'in' in e && e.in === '\n'),
          'an empty line, for clients that press Enter to find the prompt',
        );
        const version = exchanges(transcript).find((x) => x.command.command === 'show version');
        assert.ok(version?.result.output, 'show version prints what identifies the device');
        assert.equal(version?.result.error, undefined);
      });
    });
  }
});
