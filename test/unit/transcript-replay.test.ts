// The replay model and input matching, served over an in-memory channel (no SSH): what each input gets.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseListen } from '../../src/cli/args.js';
import { isLoopback } from '../../src/ssh/addresses.js';
import type { ShellChannel } from '../../src/ssh/server.js';
import { TranscriptError } from '../../src/transcript/format.js';
import { parseReplaySource } from '../../src/transcript/load.js';
import {
  compileModel,
  describeMiss,
  ReplayConnection,
  type ReplayMiss,
} from '../../src/transcript/replay.js';
import { compileInput, firstInputUnit, InputBuffer, matchInput } from '../../src/transcript/replay-input.js';
import type { ReplayModel } from '../../src/transcript/replay-model.js';
import { renderLine, ScreenLine } from '../../src/transcript/screen-line.js';

const WAIT_MS = 2000;

/** A router session as a recorder would write it: banner, a command, enable with a secret, a pager,
 *  an unknown command, the same command twice with different answers, exit. */
const LAB = `transcript: 1
device: "hand-written test router"
channel: {type: shell, pty: {term: vt100, cols: 80, rows: 24}}
events:
  - {t: 0.05, out: "\\r\\nAuthorized access only\\r\\n\\r\\nlab1>"}
  - {t: 1.0, command: "show clock"}
  - {t: 1.0, in: "show clock\\n"}
  - {t: 1.01, out: "show clock\\r\\n"}
  - {t: 1.3, out: "*10:00:01.000 UTC Fri Dec 4 2026\\r\\nlab1>"}
  - {t: 1.3, result: {status: ok, exit: 0}}
  - {t: 2.0, command: "enable"}
  - {t: 2.0, in: "enable\\n"}
  - {t: 2.1, out: "enable\\r\\nPassword: "}
  - {t: 2.2, in: "{{secret:enable}}\\n"}
  - {t: 2.3, out: "\\r\\nlab1#"}
  - {t: 2.3, result: {status: ok, mode: privileged}}
  - {t: 3.0, command: "show version"}
  - {t: 3.0, in: "show version\\n"}
  - {t: 3.1, out: "show version\\r\\nVersion 1.2.3\\r\\nuptime 1 day\\r\\n --More-- "}
  - {t: 3.5, in: " "}
  - {t: 3.6, out: "\\r          \\rmemory 4 GB\\r\\nlab1#"}
  - {t: 3.6, result: {status: ok}}
  - {t: 4.0, command: "shw clock", unknown: true}
  - {t: 4.0, in: "shw clock\\n"}
  - {t: 4.1, out: "shw clock\\r\\n     ^\\r\\n% Invalid input detected at '^' marker.\\r\\n\\r\\nlab1#"}
  - {t: 4.1, result: {status: ok}}
  - {t: 5.0, in: "show clock\\n"}
  - {t: 5.1, out: "show clock\\r\\n*10:00:05.000 UTC Fri Dec 4 2026\\r\\nlab1#"}
  - {t: 6.0, in: "exit\\n"}
  - {t: 6.1, out: "exit\\r\\n"}
  - {t: 6.1, close: {exit: 0}}
`;

/** A channel in memory: what the replay writes, and a way to type into it. */
class FakeChannel implements ShellChannel {
  readonly connection = 1;
  readonly username = 'tester';
  readonly pty = { term: 'vt100', cols: 80, rows: 24 };
  output = '';
  exit: number | null | undefined = undefined;
  ended = false;
  private readonly data: Array<(d: Buffer) => void> = [];
  private readonly eof: Array<() => void> = [];
  private readonly closes: Array<() => void> = [];
  private readonly written: Array<() => void> = [];

  constructor(readonly command: string | undefined = undefined) {}

  get closed(): boolean {
    return this.ended;
  }
  write(data: Buffer | string): Promise<void> {
    this.output += data.toString();
    for (const l of this.written) l();
    return Promise.resolve();
  }
  onData(l: (d: Buffer) => void): void {
    this.data.push(l);
  }
  onEnd(l: () => void): void {
    this.eof.push(l);
  }
  onClose(l: () => void): void {
    this.closes.push(l);
  }
  end(exitCode?: number | null): void {
    if (this.ended) return;
    this.ended = true;
    this.exit = exitCode;
    for (const l of this.written) l();
    for (const l of this.closes) l();
  }
  type(text: string | Buffer): void {
    for (const l of this.data) l(typeof text === 'string' ? Buffer.from(text, 'utf8') : text);
  }
  sendEof(): void {
    for (const l of this.eof) l();
  }

  private read = 0;
  /** Waits until the unread output matches; returns the unread text up to the match's end. */
  expect(re: RegExp, ms = WAIT_MS): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const unread = this.output.slice(this.read);
        const m = re.exec(unread);
        if (!m) return false;
        this.read += m.index + m[0].length;
        clearTimeout(timer);
        this.written.splice(this.written.indexOf(check), 1);
        resolve(unread.slice(0, m.index + m[0].length));
        return true;
      };
      const timer = setTimeout(() => {
        this.written.splice(this.written.indexOf(check), 1);
        reject(
          new Error(`timed out waiting for ${re}; unread: ${JSON.stringify(this.output.slice(this.read))}`),
        );
      }, ms);
      this.written.push(check);
      check();
    });
  }
  /** Waits for the channel to end. */
  async ending(ms = WAIT_MS): Promise<void> {
    await this.expect(/$/, 1);
    const deadline = Date.now() + ms;
    while (!this.ended && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.ok(this.ended, 'the channel did not end');
  }
}

/** Like assert.throws, but the pattern is matched against the message alone (anchors work). */
function throwsMessage(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: Error) => {
    assert.ok(e instanceof TranscriptError, `not a TranscriptError: ${e}`);
    assert.match(e.message, re);
    return true;
  });
}

function serve(
  source: string | ReplayModel,
  options: { secrets?: Record<string, string>; command?: string; inputWaitMs?: number } = {},
) {
  const model = typeof source === 'string' ? parseReplaySource(source, 'lab.yaml') : source;
  const channel = new FakeChannel(options.command);
  const misses: ReplayMiss[] = [];
  const errors: Error[] = [];
  const connection = new ReplayConnection(channel, compileModel(model, options.secrets), {
    speed: 0,
    inputWaitMs: options.inputWaitMs ?? 100,
    onMiss: (m) => misses.push(m),
    onError: (e) => errors.push(e),
  });
  connection.start();
  return { channel, misses, errors, connection };
}

describe('screen line', () => {
  it('is the last line as a terminal shows it', () => {
    assert.equal(renderLine('csr1000v#'), 'csr1000v#');
    assert.equal(renderLine('\x1b[1mlab\x1b[0m> '), 'lab> ');
    assert.equal(renderLine(' --More-- \r          \rlab1#'), 'lab1#     ');
    assert.equal(renderLine('abc\b\bX'), 'aXc');
    assert.equal(renderLine('long text\r\x1b[Klab#'), 'lab#');
    const screen = new ScreenLine();
    screen.feed('banner\r\n\r\ncsr1000v');
    screen.feed(Buffer.from('#'));
    assert.equal(screen.line, 'csr1000v#');
    screen.feed('show clock\r\n');
    assert.equal(screen.line, '');
  });
});

describe('input matching', () => {
  it('treats CR, LF and CR LF as the same line end', () => {
    const p = compileInput('show clock\r\n');
    assert.deepEqual(matchInput(p, 'show clock\n'), { length: 11 });
    assert.equal(matchInput(p, 'show cl'), 'prefix');
    assert.equal(matchInput(p, 'show clack\n'), undefined);
    const buffer = new InputBuffer(true);
    buffer.push(Buffer.from('show clock\r'));
    buffer.push(Buffer.from('\nx\ry'));
    assert.equal(buffer.text, 'show clock\nx\ny');
  });

  it('a secret placeholder matches any text up to the line end, or exactly the value given', () => {
    const any = compileInput('{{secret:enable}}\r');
    assert.ok(any.hasSecret && !any.blank);
    assert.equal(matchInput(any, 'hunter'), 'prefix');
    assert.deepEqual(matchInput(any, 'hunter2\nshow'), { length: 8 });
    assert.deepEqual(matchInput(any, '\n'), { length: 1 });
    const given = compileInput('{{secret:enable}}\n', { enable: 's3cret' });
    assert.deepEqual(matchInput(given, 's3cret\n'), { length: 7 });
    assert.equal(matchInput(given, 'wrong\n'), undefined);
  });

  it('cuts input into whole lines, control keys and, at a pager, single keys', () => {
    assert.equal(firstInputUnit('show', false), undefined);
    assert.equal(firstInputUnit('show\nmore', false), 5);
    assert.equal(firstInputUnit('ab\x03', false), 3);
    assert.equal(firstInputUnit('\x1b[A', false), 3);
    assert.equal(firstInputUnit('\x1b[', false), undefined);
    assert.equal(firstInputUnit('q', true), 1);
    const editing = new InputBuffer(true);
    editing.push('shw\x7f\x7fhow');
    assert.equal(editing.text, 'show');
  });
});

describe('replay model from a transcript', () => {
  it('has the initial output, then one exchange per input with the state it came in', () => {
    const model = parseReplaySource(LAB, 'lab.yaml');
    assert.equal(
      Buffer.concat(model.initial.map((c) => c.bytes)).toString(),
      '\r\nAuthorized access only\r\n\r\nlab1>',
    );
    assert.deepEqual(
      model.exchanges.map((e) => [e.input, e.state, e.where, e.unknown]),
      [
        ['show clock\n', 'lab1>', 'lab.yaml:7', false],
        ['enable\n', 'lab1>', 'lab.yaml:12', false],
        ['{{secret:enable}}\n', 'Password:', 'lab.yaml:14', false],
        ['show version\n', 'lab1#', 'lab.yaml:18', false],
        [' ', '--More--', 'lab.yaml:20', false],
        ['shw clock\n', 'lab1#', 'lab.yaml:24', true],
        ['show clock\n', 'lab1#', 'lab.yaml:27', false],
        ['exit\n', 'lab1#', 'lab.yaml:29', false],
      ],
    );
    assert.deepEqual(
      model.exchanges[0]?.outputs.map((o) => Math.round(o.delayMs)),
      [10, 290],
    );
    assert.deepEqual(model.exchanges[7]?.close, { exit: 0 });
    assert.ok(model.echoes);
    assert.deepEqual([...model.singleKeyStates], ['--More--']);
    assert.deepEqual([...model.secretStates], ['Password:']);
    const [unknown] = model.unknownAnswers;
    assert.equal(unknown?.state, 'lab1#');
    assert.equal(unknown?.echo, true);
    assert.equal(
      Buffer.concat(unknown?.outputs.map((c) => c.bytes) ?? []).toString(),
      "\r\n     ^\r\n% Invalid input detected at '^' marker.\r\n\r\nlab1#",
    );
  });

  it('names file:line for a transcript cut off mid-line', () => {
    const cut = LAB.slice(0, LAB.indexOf('"shw clock\\r\\n     ^'));
    assert.throws(
      () => parseReplaySource(cut, 'cut.yaml'),
      (e: Error) => {
        assert.ok(e instanceof TranscriptError);
        assert.match(e.message, /^cut\.yaml:\d+:\d+: .*delet(e|ing) its last line/);
        return true;
      },
    );
  });

  it('names file:line:col and the field for a hand-edited event', () => {
    const edited = LAB.replace('{t: 1.0, in: "show clock\\n"}', '{t: 1.0, input: "show clock\\n"}');
    throwsMessage(
      () => parseReplaySource(edited, 'lab.yaml'),
      /^lab\.yaml:7:5: events\.2: .*one of: out, out_b64, in/,
    );
    const backwards = LAB.replace('{t: 2.1, out:', '{t: 1.5, out:');
    throwsMessage(
      () => parseReplaySource(backwards, 'lab.yaml'),
      /^lab\.yaml:13:\d+: events\.8\.t: 1\.5 is earlier/,
    );
    const empty = LAB.replace('{t: 6.0, in: "exit\\n"}', '{t: 6.0, in: ""}');
    throwsMessage(
      () => parseReplaySource(empty, 'lab.yaml'),
      /^lab\.yaml:29:5: events\.24\.in: an empty input/,
    );
  });

  it('says what a file is not when it is neither format', () => {
    throwsMessage(
      () => parseReplaySource('hosts: {}\n', 'x.yaml'),
      /^x\.yaml: neither a transcript .* nor a collector file/,
    );
    throwsMessage(
      () => parseReplaySource('transcript: 2\nevents: []\n', 'x.yaml'),
      /^x\.yaml:1:\d+: transcript: this is version 2/,
    );
    throwsMessage(() => parseReplaySource('a: [\n', 'x.yaml'), /^x\.yaml:\d+:\d+: .*not valid YAML/);
  });
});

describe('serving one connection', () => {
  it('sends the banner, answers a recorded command byte-exactly, and ends at the close event', async () => {
    const { channel, misses } = serve(LAB);
    assert.equal(await channel.expect(/lab1>$/), '\r\nAuthorized access only\r\n\r\nlab1>');
    channel.type('show clock\r');
    assert.equal(await channel.expect(/lab1>$/), 'show clock\r\n*10:00:01.000 UTC Fri Dec 4 2026\r\nlab1>');
    channel.type('enable\r');
    await channel.expect(/Password: $/);
    channel.type('anything at all\r');
    await channel.expect(/^\r\nlab1#$/);
    channel.type('exit\r\n');
    await channel.expect(/^exit\r\n$/);
    await channel.ending();
    assert.equal(channel.exit, 0);
    assert.deepEqual(misses, []);
  });

  it('gives a command recorded twice each recorded answer in turn, and one asked out of order its own', async () => {
    const { channel } = serve(LAB);
    await channel.expect(/lab1>$/);
    channel.type('show clock\r');
    await channel.expect(/10:00:01.*\r\nlab1>$/);
    channel.type('enable\r');
    await channel.expect(/Password: $/);
    channel.type('x\r');
    await channel.expect(/lab1#$/);
    // Skipping ahead: "show clock" in this state was recorded later, with a later time.
    channel.type('show clock\r');
    assert.match(await channel.expect(/lab1#$/), /10:00:05/);
    channel.type('show version\r');
    await channel.expect(/ --More-- $/);
    channel.type(' ');
    assert.equal(await channel.expect(/lab1#$/), '\r          \rmemory 4 GB\r\nlab1#');
  });

  it('an empty line gets the prompt again; a lone Ctrl+C too, and is reported', async () => {
    const { channel, misses } = serve(LAB);
    await channel.expect(/lab1>$/);
    channel.type('\r');
    assert.equal(await channel.expect(/lab1>$/), '\r\nlab1>');
    assert.equal(misses.length, 0);
    channel.type('\x03');
    assert.equal(await channel.expect(/lab1>$/), '\r\nlab1>');
    assert.deepEqual(misses, [
      { connection: 1, state: 'lab1>', input: '\\u0003', answer: 'prompt', where: 'lab.yaml' },
    ]);
  });

  it("answers unknown input with the device's recorded unknown-command answer, echoing the client's input", async () => {
    const { channel, misses } = serve(LAB);
    await channel.expect(/lab1>$/);
    channel.type('enable\r');
    await channel.expect(/Password: $/);
    channel.type('x\r');
    await channel.expect(/lab1#$/);
    channel.type('shiw interfaces\r');
    assert.equal(
      await channel.expect(/lab1#$/),
      "shiw interfaces\r\n     ^\r\n% Invalid input detected at '^' marker.\r\n\r\nlab1#",
    );
    assert.deepEqual(misses, [
      {
        connection: 1,
        state: 'lab1#',
        input: 'shiw interfaces',
        answer: 'unknown-command',
        where: 'lab.yaml:24',
      },
    ]);
    assert.match(
      describeMiss(misses[0] as ReplayMiss),
      /connection 1: no recorded answer for "shiw interfaces" at "lab1#"/,
    );
  });

  it('answers input with no recorded answer and no unknown answer with a replay error line and the prompt', async () => {
    const { channel, misses } = serve(LAB);
    await channel.expect(/lab1>$/);
    channel.type('xyz\r');
    assert.equal(
      await channel.expect(/lab1>$/),
      'xyz\r\n% replay: no recorded answer for "xyz" at "lab1>" (transcript lab.yaml:7 has "show clock" next)\r\nlab1>',
    );
    assert.equal(misses[0]?.answer, 'replay-error');
    // The session goes on as recorded.
    channel.type('show clock\r');
    await channel.expect(/10:00:01.*\r\nlab1>$/);
  });

  it('at a pager, any single key is a whole input', async () => {
    const { channel, misses } = serve(LAB);
    await channel.expect(/lab1>$/);
    channel.type('enable\rs3\rshow version\r');
    await channel.expect(/ --More-- $/);
    channel.type('z');
    assert.match(
      await channel.expect(/ --More-- $/),
      /^z\r\n% replay: no recorded answer for "z" at "--More--"/,
    );
    assert.equal(misses.length, 1);
  });

  it('never echoes or reports what is typed at a secret prompt', async () => {
    const { channel, misses } = serve(LAB, { secrets: { enable: 'right-one' } });
    await channel.expect(/lab1>$/);
    channel.type('enable\r');
    await channel.expect(/Password: $/);
    channel.type('wrong-one\r');
    const answer = await channel.expect(/Password: $/);
    assert.ok(!answer.includes('wrong-one'), answer);
    assert.equal(misses[0]?.input, '(hidden)');
    assert.ok(!JSON.stringify(misses).includes('wrong-one'));
    channel.type('right-one\r');
    await channel.expect(/lab1#$/);
  });

  it('waits for the rest of a recorded multi-line input, then answers a lone line on its own', async () => {
    const twoLines = `transcript: 1
events:
  - {out: "r1#"}
  - {in: "terminal length 0\\nterminal width 200\\n"}
  - {out: "terminal length 0\\r\\nr1#terminal width 200\\r\\nr1#"}
  - {in: "terminal length 0\\n"}
  - {out: "terminal length 0\\r\\nr1#"}
`;
    const both = serve(twoLines, { inputWaitMs: 100 });
    await both.channel.expect(/r1#$/);
    both.channel.type('terminal length 0\r');
    await new Promise((r) => setTimeout(r, 20));
    both.channel.type('terminal width 200\r');
    assert.equal(await both.channel.expect(/r1#$/), 'terminal length 0\r\nr1#terminal width 200\r\nr1#');
    const alone = serve(twoLines, { inputWaitMs: 100 });
    await alone.channel.expect(/r1#$/);
    const started = Date.now();
    alone.channel.type('terminal length 0\r');
    assert.equal(await alone.channel.expect(/r1#$/), 'terminal length 0\r\nr1#');
    assert.ok(Date.now() - started >= 90, 'answered before the wait for more input ran out');
  });

  it('an exec request on a recorded shell types the command and then ends the channel', async () => {
    const { channel } = serve(LAB, { command: 'show clock' });
    await channel.ending();
    assert.equal(
      channel.output,
      '\r\nAuthorized access only\r\n\r\nlab1>show clock\r\n*10:00:01.000 UTC Fri Dec 4 2026\r\nlab1>',
    );
    assert.equal(channel.exit, 0);
  });

  it('a recorded exec is served whole; another command gets an error and exit status 1', async () => {
    const exec = `transcript: 1
channel: {type: exec, command: "uptime", pty: false}
events:
  - {t: 0.01, out: " 10:00:00 up 1 day\\n"}
  - {t: 0.02, close: {exit: 0}}
`;
    const right = serve(exec, { command: 'uptime' });
    await right.channel.ending();
    assert.equal(right.channel.output, ' 10:00:00 up 1 day\n');
    assert.equal(right.channel.exit, 0);
    const wrong = serve(exec, { command: 'reboot' });
    await wrong.channel.ending();
    assert.match(
      wrong.channel.output,
      /% replay: no recorded answer for exec "reboot" .*recorded exec "uptime"/,
    );
    assert.equal(wrong.channel.exit, 1);
  });

  it('input after EOF is answered, then the channel ends', async () => {
    const { channel } = serve(LAB);
    await channel.expect(/lab1>$/);
    channel.type('show clock\r');
    channel.sendEof();
    await channel.ending();
    assert.match(channel.output, /10:00:01\.000 .*\r\nlab1>$/s);
    assert.equal(channel.exit, 0);
  });

  it('malformed input (invalid UTF-8, NULs, escape sequences) is answered, not thrown', async () => {
    const { channel, errors, misses } = serve(LAB);
    await channel.expect(/lab1>$/);
    channel.type('\x00\x1b[A\x1b[1;5D');
    channel.type(Buffer.from([0xff, 0xfe, 0x0d]));
    channel.type('show clock\r');
    await channel.expect(/10:00:01/);
    assert.deepEqual(errors, []);
    assert.deepEqual(
      misses.map((m) => [m.input, m.answer]),
      [
        ['\\u0000', 'prompt'],
        ['\\u001b[A', 'prompt'],
        ['\\u001b[1;5D', 'prompt'],
        ['\ufffd\ufffd', 'replay-error'],
      ],
    );
  });
});

const COLLECTOR = `events:
  user:
    pre_on_open:
      terminal length 0:
        channel_output: "r1>"
        result_privilege_level: user
        returns_prompt: true
        closes_connection: false
        type: standard
      show clock:
        channel_output: "(paged) 10:00\\nr1>"
        result_privilege_level: user
        returns_prompt: true
        closes_connection: false
        type: standard
    post_on_open:
      show clock:
        channel_output: "10:00\\nr1>"
        result_privilege_level: user
        returns_prompt: true
        closes_connection: false
        type: standard
      enable:
        result_privilege_level: privileged
        event_steps:
          - channel_input: enable
            channel_output: "Password: "
            hidden_input: false
            returns_prompt: true
          - channel_input: __AUTH_SECONDARY__
            channel_output: "r1#"
            hidden_input: true
            returns_prompt: true
        type: interactive
  privileged:
    post_on_open:
      show log:
        channel_output: "line 1\\n --More-- "
        result_privilege_level: privileged
        returns_prompt: false
        closes_connection: false
        type: standard
      exit:
        channel_output: __CLOSES_CONNECTION__
        result_privilege_level: privileged
        returns_prompt: false
        closes_connection: true
        type: standard
unknown_events:
  user:
    post_on_open:
      channel_output: "% Unknown command: \\"__UNKNOWN_INPUT__\\"\\nr1>"
      result_privilege_level: user
      returns_prompt: true
      closes_connection: false
  privileged:
    post_on_open:
      channel_output: "% Invalid input\\nr1#"
      result_privilege_level: privileged
      returns_prompt: true
      closes_connection: false
initial_privilege_level: user
privilege_level_prompts:
  user: "r1>"
  privileged: "r1#"
on_open_inputs:
  - terminal length 0
`;

describe('collector files', () => {
  it('become a model: levels are states, steps chain, a pager output leads to a single-key state', () => {
    const model = parseReplaySource(COLLECTOR, 'c.yaml');
    assert.equal(model.ordered, false);
    assert.equal(model.initialState, 'user');
    assert.deepEqual(
      model.exchanges.map((e) => [e.state, e.input, e.phase, e.next, e.where]),
      [
        ['user', 'terminal length 0\n', 'setup', 'user', 'c.yaml:4'],
        ['user', 'show clock\n', 'setup', 'user', 'c.yaml:10'],
        ['user', 'show clock\n', 'ready', 'user', 'c.yaml:17'],
        ['user', 'enable\n', 'ready', 'user post_on_open "enable" step 2', 'c.yaml:26'],
        [
          'user post_on_open "enable" step 2',
          '{{secret:auth_secondary}}\n',
          'ready',
          'privileged',
          'c.yaml:30',
        ],
        ['privileged', 'show log\n', 'ready', 'privileged after "show log"', 'c.yaml:37'],
        ['privileged', 'exit\n', 'ready', 'privileged after "exit"', 'c.yaml:43'],
      ],
    );
    assert.equal(model.exchanges[2]?.outputs[0]?.bytes.toString(), 'show clock\r\n10:00\r\nr1>');
    assert.deepEqual(model.exchanges[6]?.close, { exit: 0 });
    assert.ok(model.secretStates.has('user post_on_open "enable" step 2'));
    assert.ok(model.singleKeyStates.has('privileged after "show log"'));
  });

  it('answers from before the set-up inputs until they were all sent, then from after', async () => {
    const { channel, misses } = serve(parseReplaySource(COLLECTOR, 'c.yaml'));
    assert.equal(await channel.expect(/r1>$/), 'r1>');
    channel.type('show clock\n');
    assert.equal(await channel.expect(/r1>$/), 'show clock\r\n(paged) 10:00\r\nr1>');
    channel.type('terminal length 0\n');
    await channel.expect(/r1>$/);
    channel.type('show clock\n');
    assert.equal(await channel.expect(/r1>$/), 'show clock\r\n10:00\r\nr1>');
    channel.type('bogus\n');
    assert.equal(await channel.expect(/r1>$/), 'bogus\r\n% Unknown command: "bogus"\r\nr1>');
    channel.type('enable\n');
    await channel.expect(/Password: $/);
    channel.type('whatever\n');
    assert.equal(await channel.expect(/r1#$/), '\r\nr1#');
    channel.type('show log\n');
    await channel.expect(/--More-- $/);
    channel.type('q');
    assert.equal(await channel.expect(/r1#$/), 'q\r\n% Invalid input\r\nr1#');
    channel.type('exit\n');
    await channel.ending();
    assert.equal(channel.exit, 0);
    assert.deepEqual(
      misses.map((m) => [m.input, m.answer]),
      [
        ['bogus', 'unknown-command'],
        ['q', 'unknown-command'],
      ],
    );
  });

  it('moves to the level a command leads to, and keeps an echo line the collector left open', async () => {
    const collector = `events:
  exec:
    post_on_open:
      configure:
        channel_output: " \\nEntering configuration mode\\n\\n[edit]\\nsw# "
        result_privilege_level: configuration
        returns_prompt: true
        closes_connection: false
        type: standard
  configuration:
    post_on_open:
      exit configuration-mode:
        channel_output: " \\nExiting configuration mode\\n\\nsw> "
        result_privilege_level: exec
        returns_prompt: true
        closes_connection: false
        type: standard
unknown_events: {}
initial_privilege_level: exec
privilege_level_prompts:
  exec: sw>
  configuration: sw#
on_open_inputs: []
`;
    const { channel, misses } = serve(parseReplaySource(collector, 'c.yaml'));
    await channel.expect(/sw>$/);
    channel.type('configure\n');
    // The device echoed "configure " and ended the line itself: no extra line.
    assert.equal(
      await channel.expect(/sw# $/),
      'configure \r\nEntering configuration mode\r\n\r\n[edit]\r\nsw# ',
    );
    channel.type('exit configuration-mode\n');
    assert.match(await channel.expect(/sw> $/), /Exiting configuration mode/);
    assert.deepEqual(misses, []);
  });

  it('names file:line:col and what to fix in a broken collector file', () => {
    const noOutput = COLLECTOR.replace('channel_output: "10:00\\nr1>"', 'output: "10:00"');
    throwsMessage(
      () => parseReplaySource(noOutput, 'c.yaml'),
      /^c\.yaml:18:9: events\.user\.post_on_open\.show clock\.channel_output: /,
    );
    const badLevel = COLLECTOR.replace(
      'result_privilege_level: privileged\n        event_steps',
      'result_privilege_level: enabled\n        event_steps',
    );
    throwsMessage(
      () => parseReplaySource(badLevel, 'c.yaml'),
      /^c\.yaml:24:\d+: .*no level "enabled" in privilege_level_prompts \(known: user, privileged\)/,
    );
    const number = COLLECTOR.replace('user: "r1>"', 'user: 42');
    throwsMessage(
      () => parseReplaySource(number, 'c.yaml'),
      /^c\.yaml:\d+:\d+: privilege_level_prompts\.user: .*quotes/,
    );
    const noType = COLLECTOR.replace('        type: interactive\n', '');
    throwsMessage(
      () => parseReplaySource(noType, 'c.yaml'),
      /^c\.yaml:\d+:\d+: events\.user\.post_on_open\.enable.*type: standard/,
    );
  });
});

describe('replay command arguments', () => {
  it('reads --listen as HOST:PORT, [IPv6]:PORT or a port on 127.0.0.1, and knows loopback from the rest', () => {
    assert.deepEqual(parseListen('--listen', '127.0.0.1:2222'), { host: '127.0.0.1', port: 2222 });
    assert.deepEqual(parseListen('--listen', '[::1]:0'), { host: '::1', port: 0 });
    assert.deepEqual(parseListen('--listen', '2222'), { host: '127.0.0.1', port: 2222 });
    assert.throws(
      () => parseListen('--listen', '127.0.0.1:70000'),
      /^Error: --listen 127\.0\.0\.1:70000: give a port/,
    );
    assert.ok(
      isLoopback('127.0.0.1') && isLoopback('127.1.2.3') && isLoopback('::1') && isLoopback('localhost'),
    );
    assert.ok(!isLoopback('0.0.0.0') && !isLoopback('10.0.0.1') && !isLoopback('::'));
  });
});
