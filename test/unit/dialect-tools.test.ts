// The dialect tools behind `mcp-ssh-session dialect`: the example checker, validate's messages and
// explain. The examples in the built-in dialects are also replayed through the real runner, so the
// checker and the runner cannot drift apart.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { Dialect } from '../../src/dialect/dialect.js';
import { checkExamples } from '../../src/dialect/examples.js';
import { explainLine } from '../../src/dialect/explain.js';
import {
  BUILTIN_DIALECT_DIR,
  DialectRegistry,
  loadDialectFile,
  readDialectFile,
} from '../../src/dialect/loader.js';
import { regexErrorHint, regexPitfalls } from '../../src/dialect/regex-pitfalls.js';
import { dialectFileSchema } from '../../src/dialect/schema.js';
import { formatValidation, validateDialectFile } from '../../src/dialect/validate.js';
import { ExpectRunner, type RunOutcome, type ShellChannel } from '../../src/expect/runner.js';
import { tempDir } from '../support/temp.js';

const EXAMPLE_NXOS = new URL('../../examples/dialects/cisco-nxos.yaml', import.meta.url).pathname;

async function dialectFile(name: string, text: string, dir?: string): Promise<string> {
  const folder = dir ?? tempDir('dialect-tools-');
  const file = path.join(folder, `${name}.yaml`);
  await writeFile(file, text);
  return file;
}

/** A small prompt dialect; each test adds the examples (and fields) it needs. */
const LAB = `name: lab
channel: { type: shell }
completion: { strategy: prompt }
echo: true
prompt_learn: '^(?<host>[a-z0-9-]+)[>#]\\s?$'
modes:
  user: { prompt: '{{host|regex_escape}}>\\s?' }
  enable: { prompt: '{{host|regex_escape}}#\\s?' }
  config:
    prompt: '{{host|regex_escape}}\\(config[^)]*\\)#\\s?'
    context_lines: ['^\\[edit\\]$']
pagers:
  - { pattern: '--More--\\s*$', send: " " }
input_wait:
  prompts:
    - { kind: question, pattern: '\\?\\s*$' }
    - { kind: yes_no, pattern: '\\[yes/no\\]\\?\\s*$' }
errors: ['^% ']
login:
  - { pattern: '^Press RETURN', send: "\\r" }
interrupt: { send: "\\u0003" }
`;

async function lab(extra: string): Promise<{ file: string; dialect: Dialect }> {
  const file = await dialectFile('lab', LAB + extra);
  return { file, dialect: await loadDialectFile(file) };
}

function examplesOf(yaml: string) {
  const examples = dialectFileSchema.parse({ name: 'x', examples: yaml }).examples;
  assert.ok(examples);
  return examples;
}

describe('checkExamples', () => {
  it('passes examples the patterns handle, and counts them', async () => {
    const { dialect } = await lab('');
    const { findings, checked } = checkExamples(
      dialect,
      examplesOf({
        prompts: [
          { line: 'rtr1>', mode: 'user', learns: { host: 'rtr1' } },
          { line: 'rtr1(config-if)#', mode: 'config', after: 'rtr1#', context: ['[edit]'] },
        ],
        not_prompts: ['description to core1 #'],
        errors: ['% Invalid input'],
        not_errors: ['Building configuration...'],
        pagers: [' --More-- '],
        questions: [{ line: 'Destination filename [startup-config]? ', kind: 'question' }],
        login: ['Press RETURN to get started.'],
      } as never),
    );
    assert.deepEqual(findings, []);
    assert.equal(checked, 8);
  });

  it('says which mode a prompt fell in, or which rendered prompt failed to match', async () => {
    const { dialect } = await lab('');
    const { findings } = checkExamples(
      dialect,
      examplesOf({
        prompts: [
          { line: 'rtr1#', mode: 'user', after: 'rtr1>' },
          { line: 'rtr1(cfg)#', mode: 'config', after: 'rtr1>' },
          { line: 'rtr2(config)#', mode: 'config', after: 'rtr1>' },
          { line: 'rtr1>', mode: 'user', learns: { host: 'router1' } },
          { line: 'rtr1>', mode: 'usr' },
          { line: 'Router 1>', mode: 'user' },
        ],
      } as never),
    );
    const byIndex = new Map(findings.map((f) => [f.path.slice(0, 3).join('.'), f.message]));
    assert.match(
      byIndex.get('examples.prompts.0') ?? '',
      /"rtr1#" is in mode enable, not user: modes\.enable\.prompt rendered as \^\(\?:rtr1#\\s\?\)\$ matches first, and modes\.user\.prompt rendered as \^\(\?:rtr1>\\s\?\)\$ does not match/,
    );
    assert.match(
      byIndex.get('examples.prompts.1') ?? '',
      /"rtr1\(cfg\)#" is in no mode \(expected config\): modes\.config\.prompt rendered as \^\(\?:rtr1\\\(config\[\^\)\]\*\\\)#\\s\?\)\$ does not match$/,
    );
    assert.match(
      byIndex.get('examples.prompts.2') ?? '',
      /is in no mode \(expected config\).*it has the shape of modes\.config\.prompt with host=rtr2/,
    );
    assert.match(
      byIndex.get('examples.prompts.3') ?? '',
      /prompt_learn learns host=rtr1 from "rtr1>", not router1/,
    );
    assert.match(byIndex.get('examples.prompts.4') ?? '', /no mode named "usr" — did you mean "user"\?/);
    assert.match(
      byIndex.get('examples.prompts.5') ?? '',
      /"Router 1>" is no first prompt: prompt_learn .* does not match it/,
    );
    assert.ok(findings.every((f) => f.severity === 'error'));
  });

  it('checks context lines the way the runner walks up from the prompt', async () => {
    const { dialect } = await lab('');
    const { findings } = checkExamples(
      dialect,
      examplesOf({
        prompts: [
          { line: 'rtr1(config)#', mode: 'config', after: 'rtr1#', context: ['[edit]', '{master:0}'] },
        ],
      } as never),
    );
    assert.equal(findings.length, 1);
    assert.deepEqual(findings[0]?.path, ['examples', 'prompts', 0, 'context', 1]);
    assert.match(
      findings[0]?.message ?? '',
      /"\{master:0\}" does not belong to the prompt: none of modes\.config\.context_lines matches it/,
    );
  });

  it('reports lines the other sections get wrong', async () => {
    const { dialect } = await lab('input_prompts:\n  - { pattern: "More password:", secret: enable }\n');
    const { findings } = checkExamples(
      dialect,
      examplesOf({
        not_prompts: ['rtr9#'],
        errors: ['Error: no such thing'],
        not_errors: ['% done'],
        pagers: ['-- More password:', '(END)'],
        questions: [{ line: 'Save? [yes/no]? ', kind: 'yes_no' }],
        login: ['rtr1>', 'Welcome'],
      } as never),
    );
    const messages = findings.map((f) => `${f.path.join('.')}: ${f.message}`);
    const expected = [
      /^examples\.not_prompts\.0: "rtr9#" is taken for a first prompt: prompt_learn .* learns host=rtr9/,
      /^examples\.not_prompts\.0: "rtr9#" has the shape of modes\.enable\.prompt/,
      /^examples\.errors\.0: "Error: no such thing" is no error: no errors pattern matches it \(errors\[0\] \^% \)/,
      /^examples\.not_errors\.0: errors\[0\] \(\^% \) matches "% done": a command that prints it would be reported as failed/,
      /^examples\.pagers\.0: "-- More password:" is answered by input_prompts\[0\] .* first, not by pagers/,
      /^examples\.pagers\.1: "\(END\)" is not answered: no pagers pattern matches it/,
      /^examples\.questions\.0\.kind: "Save\? \[yes\/no\]\? " is reported as question, not yes_no: input_wait\.prompts\[0\] .* matches first/,
      /^examples\.login\.0: "rtr1>" is taken for the first prompt \(prompt_learn learns host=rtr1\), so no login answer is tried/,
      /^examples\.login\.1: "Welcome" gets no answer: no login pattern matches it/,
    ];
    assert.equal(messages.length, expected.length, messages.join('\n'));
    for (const [i, pattern] of expected.entries()) assert.match(messages[i] ?? '', pattern);
  });

  it('warns when another mode or a pager matches a prompt too, without failing', async () => {
    // A catch-all mode after enable, and a pager that also matches the enable prompt.
    const overlapping = await loadDialectFile(
      await dialectFile(
        'lab',
        LAB.replace(
          'pagers:\n',
          () =>
            "  anyhash: { prompt: '[a-z0-9-]+#\\s?' }\npagers:\n  - { pattern: '^rtr1#$', send: \"q\" }\n",
        ),
      ),
    );
    const { findings } = checkExamples(
      overlapping,
      examplesOf({ prompts: [{ line: 'rtr1#', mode: 'enable' }] } as never),
    );
    assert.deepEqual(
      findings.map((f) => f.severity),
      ['warning', 'warning'],
    );
    assert.match(
      findings[0]?.message ?? '',
      /also matches modes\.anyhash\.prompt .*the order of modes decides/,
    );
    assert.match(
      findings[1]?.message ?? '',
      /pagers\[0\] \(\^rtr1#\$\) matches this prompt too: the runner answers it with "q" before it looks for a prompt/,
    );
  });

  it('refuses prompt examples in a marker dialect', async () => {
    const linux = await new DialectRegistry().get('linux');
    const { findings } = checkExamples(linux, examplesOf({ prompts: [{ line: '$ ', mode: 'x' }] } as never));
    assert.match(findings[0]?.message ?? '', /ends each command with a marker, not a prompt/);
  });
});

describe('regex pitfalls', () => {
  it('explains the habits that make a pattern fail to load', () => {
    assert.match(regexErrorHint('(?i)password') ?? '', /no inline flag groups/);
    assert.match(regexErrorHint('(?im)^x') ?? '', /no inline flag groups/);
    assert.match(regexErrorHint('#\\s?+$') ?? '', /no possessive quantifiers \(\?\+\)/);
    assert.match(regexErrorHint('(?P<host>\\S+)') ?? '', /written \(\?<name>\.\.\.\)/);
    assert.match(regexErrorHint('(?>a|b)') ?? '', /no atomic groups/);
    assert.equal(regexErrorHint('(unclosed'), undefined);
    // Lookarounds, named groups and lazy quantifiers are JavaScript: no hint.
    assert.equal(regexErrorHint('(?<=a)(?<n>b)+?(?:c)(?!d)'), undefined);
  });

  it('warns about what loads but means something else', () => {
    assert.deepEqual(regexPitfalls('^% \\s?[A-Z]{1,3}\\d+\\[x\\]'), []);
    assert.match(regexPitfalls('a{,3}').join(), /\{,3\} matches the text "\{,3\}" .* write \{0,3\}/);
    assert.match(
      regexPitfalls('\\Ahost').join(),
      /\\A is no escape in JavaScript: it matches the letter "A" — write \^/,
    );
    assert.match(regexPitfalls('[[:alpha:]]+').join(), /\[:alpha:\] is no class .* write \[A-Za-z\]/);
    assert.deepEqual(regexPitfalls('[{,3}]'), [], 'inside a class, {,3} is just characters');
  });
});

describe('validateDialectFile', () => {
  it('names every problem with its line, column, field and fix', async () => {
    const file = await dialectFile(
      'my-ios',
      [
        'name: my-ios',
        'extends: cisco-ios',
        "prompt_lean: '^x$'",
        'modes:',
        '  config:',
        "    prompt: '{{hots}}\\(config(?i)\\)#'",
        '  bash:',
        "    prompt: 'x{,3}y'",
        'transitions:',
        '  - { from: privileged, to: confg, send: configure terminal }',
        '',
      ].join('\n'),
    );
    const report = await validateDialectFile(file);
    assert.equal(report.dialect, undefined);
    const lines = formatValidation(report);
    const at = (line: number, col: number) => `${file}:${line}:${col}: `;
    assert.equal(
      lines[0],
      `${at(3, 1)}prompt_lean: unknown key (did you mean "prompt_learn"?); expected one of: ${lines[0]?.split('expected one of: ')[1]}`,
    );
    assert.match(
      lines[1] ?? '',
      new RegExp(
        `^${escapeRegex(at(6, 13))}modes\\.config\\.prompt: Invalid regular expression: .*Invalid group — JavaScript has no inline flag groups`,
      ),
    );
    assert.match(
      lines[2] ?? '',
      new RegExp(
        `^${escapeRegex(at(6, 13))}modes\\.config\\.prompt: \\{\\{hots\\}\\} is neither .* — did you mean \\{\\{host\\}\\}\\?`,
      ),
    );
    assert.match(
      lines[3] ?? '',
      new RegExp(`^${escapeRegex(at(8, 13))}warning: modes\\.bash\\.prompt: \\{,3\\} matches the text`),
    );
    assert.match(
      lines[4] ?? '',
      new RegExp(
        `^${escapeRegex(at(10, 29))}transitions\\[0\\]\\.to: no mode named "confg" — did you mean "config"\\?`,
      ),
    );
    assert.equal(lines.length, 5);
  });

  it('says ok with counts, and warns only about fields written in the file', async () => {
    const dir = tempDir('dialect-tools-');
    const base = LAB.replace('name: lab', 'name: base').replace(
      'pagers:\n',
      () => "  odd: { prompt: 'x{,2}' }\npagers:\n",
    );
    await dialectFile('base', base, dir);
    const child = await dialectFile(
      'child',
      "name: child\nextends: base\nerrors: ['^%\\s', '\\Aoops']\nexamples:\n  errors: ['% no']\n",
      dir,
    );
    const report = await validateDialectFile(child);
    assert.deepEqual(report.problems, []);
    assert.deepEqual(formatValidation(report), [
      `${child}:3:18: warning: errors[1]: \\A is no escape in JavaScript: it matches the letter "A" — write ^ for the start`,
      `ok ${child} (child, 4 modes, 1 example checked, 1 warning)`,
    ]);
  });

  it('reports a file named unlike its name, and a YAML error with its line', async () => {
    const renamed = await dialectFile('renamed', `${LAB}`);
    assert.match(
      (await validateDialectFile(renamed)).problems.join('\n'),
      /renamed\.yaml:1:7: name: "lab" must match the file name "renamed" — rename the file to lab\.yaml, or write name: renamed/,
    );
    const yaml = await dialectFile('quoted', 'name: quoted\nerrors: ["^%\\sx"]\n');
    assert.match(
      (await validateDialectFile(yaml)).problems.join('\n'),
      /quoted\.yaml:2:\d+: Invalid escape sequence .* put the pattern in single quotes/,
    );
  });

  it('passes every built-in dialect and the NX-OS example with their examples', async () => {
    const files = ['cisco-ios', 'arista-eos', 'junos', 'linux', 'linux-sudo'].map((n) =>
      path.join(BUILTIN_DIALECT_DIR, `${n}.yaml`),
    );
    for (const file of [...files, EXAMPLE_NXOS]) {
      const report = await validateDialectFile(file);
      assert.deepEqual([...report.problems, ...report.warnings], [], file);
      assert.ok(report.examplesChecked > 0, `${file} has examples`);
    }
  });
});

describe('explainLine', () => {
  const ios = () => new DialectRegistry().get('cisco-ios');

  it('places an IOS config prompt in its mode, with every mode prompt as rendered', async () => {
    const text = explainLine(await ios(), {
      line: 'csr1000v(config-if)#',
      prompt: 'csr1000v#',
      mode: 'config',
    });
    const lines = text.split('\n');
    assert.equal(lines[0], '"csr1000v(config-if)#" in the cisco-ios dialect');
    assert.equal(lines[1], 'values learned from the first prompt "csr1000v#": host=csr1000v');
    assert.ok(
      lines.includes(
        '  as the last line while a command runs: it ends the command: it is the prompt of mode config',
      ),
    );
    assert.ok(lines.includes('  expected mode config: yes'));
    assert.ok(lines.includes('  no match  modes.user.prompt        ^(?:csr1000v>\\s?)$'));
    assert.ok(lines.includes('  no match  modes.privileged.prompt  ^(?:csr1000v#\\s?)$'));
    assert.ok(lines.some((l) => /^ {2}match {5}modes\.config\.prompt {6}\^\(\?:c\(\?:s/.test(l)));
    assert.ok(
      lines.includes('  no match  input_wait.prompts[1]  \\[yes/no\\]\\s*:?\\s*$  (kind yes_no)'),
      'shows / unescaped',
    );
  });

  it('tells a renamed device from output, and learns from a first prompt on its own', async () => {
    const renamed = explainLine(await ios(), { line: 'core2(config)#', prompt: 'csr1000v#', mode: 'config' });
    assert.match(
      renamed,
      /it is the config prompt of a device with host=core2, not the learned host=csr1000v: once the device is quiet for 500 ms the runner learns host=core2 and ends the command in mode config/,
    );
    assert.match(renamed, /expected mode config: no: modes\.config\.prompt rendered as .* does not match/);
    const first = explainLine(await ios(), { line: 'rtr1>' });
    assert.match(first, /^values learned from this line as a first prompt: host=rtr1$/m);
    assert.match(
      first,
      /while the session opens: it is the first prompt: prompt_learn learns host=rtr1, and the session opens in mode user/,
    );
    assert.match(first, /when detecting the dialect: its prompt fits detect\.prompt/);
  });

  it('shows a Junos [edit] line as part of the configuration prompt', async () => {
    const junos = await new DialectRegistry().get('junos');
    const text = explainLine(junos, { line: '[edit interfaces ge-0/0/0]', prompt: 'admin@vsrx> ' });
    assert.match(text, /values learned from the first prompt "admin@vsrx> ": base=admin@vsrx/);
    assert.match(text, /as the last line while a command runs: it is output; the command goes on/);
    assert.match(
      text,
      /just above a prompt of mode configuration, it belongs to that prompt and is not output \(modes\.configuration\.context_lines\[1\]\)/,
    );
    assert.match(text, /^ {2}no match {2}modes\.configuration\.context_lines\[0\] +\^\$$/m);
    assert.match(text, /^ {2}match {5}modes\.configuration\.context_lines\[1\] +\^.*\\\[edit/m);
  });

  it('names the pager that answers a line and the error that matches one', async () => {
    const pager = explainLine(await ios(), { line: ' --More-- ', prompt: 'csr1000v#' });
    assert.match(
      pager,
      /as the last line while a command runs: pagers\[0\] answers it with " ", and it is not output/,
    );
    assert.match(pager, /^ {2}match {5}pagers\[0\] {2}--More--\\s\*\$ {2}\(sends " "\)$/m);
    const error = explainLine(await ios(), {
      line: "% Invalid input detected at '^' marker.",
      prompt: 'csr1000v#',
    });
    assert.match(
      error,
      /as a line of output: errors\[0\] matches: the command fails with this line as its error/,
    );
    assert.match(error, /^ {2}no match {2}errors\[1\] {2}\^Command authorization failed$/m);
    assert.match(
      error,
      /when detecting the dialect: detect\.probes\[1\]\.expect matches it, in the answer to "show mcp-ssh-session-detect"/,
    );
  });

  it('explains a marker dialect without prompts', async () => {
    const linux = await new DialectRegistry().get('linux');
    const text = explainLine(linux, { line: '[sudo] password for bob: ' });
    assert.doesNotMatch(text, /prompt_learn|while the session opens/);
    assert.match(
      text,
      /the command is reported as waiting for input, kind password \(input_wait\.prompts\[0\]\)/,
    );
  });
});

/**
 * The runner itself, over a scripted channel: each examples.prompts line ends a command in the mode the
 * example names, its context lines are not output, each error line fails the command, each pager is
 * answered. What validate accepts, the runner does.
 */
describe('the runner agrees with the examples of the dialects that ship', () => {
  const files = [
    ...['cisco-ios', 'arista-eos', 'junos'].map((n) => path.join(BUILTIN_DIALECT_DIR, `${n}.yaml`)),
    EXAMPLE_NXOS,
  ];
  const opts = { timeoutMs: 2000, maxOutputBytes: 64 * 1024 };

  /** Opens a runner at `first`, runs one command the device answers with `answer`; a pager gets `more`. */
  async function runOnce(
    dialect: Dialect,
    first: string,
    answer: string,
    more = '',
  ): Promise<{ outcome: RunOutcome; written: string[] }> {
    const written: string[] = [];
    let runner: ExpectRunner | undefined;
    const reply = (text: string) => setImmediate(() => runner?.feed(Buffer.from(text)));
    const channel: ShellChannel = {
      write(data) {
        written.push(data);
        const sent = data.replace(/\n$/, '');
        if (sent === 'show clock') reply(`${sent}\r\n${answer}`);
        else if (data === dialect.pagers[0]?.send) reply(more);
        else if (data.endsWith('\n')) reply(`${sent}\r\n${first}`);
      },
      execSide: async () => null,
      close() {},
    };
    runner = new ExpectRunner(channel, dialect);
    const opened = runner.open(2000);
    runner.feed(Buffer.from(`\r\n${first}`));
    await opened;
    const outcome = await runner.run('show clock', opts);
    runner.close();
    return { outcome, written };
  }

  for (const file of files) {
    it(`${path.basename(file)}: prompts, errors and pagers`, async () => {
      const source = await readDialectFile(file);
      const dialect = await new DialectRegistry([BUILTIN_DIALECT_DIR, path.dirname(file)]).compile(source);
      const examples = source.data.examples ?? {};
      const firstPrompt = examples.prompts?.[0]?.after ?? (examples.prompts?.[0]?.line as string);
      assert.ok(examples.prompts?.length, 'has prompt examples');
      for (const example of examples.prompts ?? []) {
        const context = (example.context ?? []).map((l) => `${l}\r\n`).join('');
        const { outcome } = await runOnce(
          dialect,
          example.after ?? example.line,
          `12:00:00 UTC\r\n${context}${example.line}`,
        );
        assert.equal(outcome.mode, example.mode, `${example.line} after ${example.after ?? 'itself'}`);
        assert.equal(outcome.output.head, '12:00:00 UTC\n', `${example.line}: context lines are not output`);
      }
      for (const line of examples.errors ?? []) {
        const { outcome } = await runOnce(dialect, firstPrompt, `${line}\r\n${firstPrompt}`);
        assert.equal(outcome.error, line.trim());
        assert.equal(outcome.exitCode, 1);
      }
      for (const line of examples.not_errors ?? []) {
        const { outcome } = await runOnce(dialect, firstPrompt, `${line}\r\n${firstPrompt}`);
        assert.equal(outcome.error, undefined, line);
      }
      for (const line of examples.pagers ?? []) {
        const { outcome, written } = await runOnce(
          dialect,
          firstPrompt,
          `page one\r\n${line}`,
          `\r\npage two\r\n${firstPrompt}`,
        );
        assert.ok(written.includes(dialect.pagers[0]?.send as string), `${line} is answered`);
        assert.equal(outcome.output.head.replace(/\n+/g, '\n'), 'page one\npage two\n');
      }
    });
  }
});

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
