// `mcp-ssh-session dialect validate|explain|test|try` as a network engineer runs them: the built CLI, its output
// and its exit status. Build first (npm run build); a missing build fails every test here.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { startDeviceSimulator } from '../simulators/device-sim.js';
import { iosProfile } from '../simulators/ios.js';
import { CLI } from '../support/mcp-client.js';
import { tempDir } from '../support/temp.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const BUILTINS = ['arista-eos', 'cisco-ios', 'junos', 'linux', 'linux-sudo'].map((n) => `dialects/${n}.yaml`);
const NXOS = 'examples/dialects/cisco-nxos.yaml';

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const env = { ...process.env };
  delete env.MCP_SSH_DIALECT_PATH; // only the built-ins and the files named here
  const result = spawnSync(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    env,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function folder(files: Record<string, string>): string {
  const dir = tempDir('dialect-cli-');
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return dir;
}

describe('mcp-ssh-session dialect', () => {
  it('is listed by --help, and lists its subcommands', () => {
    const top = cli('--help');
    assert.equal(top.status, 0);
    assert.match(
      top.stdout,
      /^ {2}dialect +write and check dialect files \(validate, explain, test, try\)$/m,
    );
    const group = cli('dialect', '--help');
    assert.equal(group.status, 0);
    assert.match(group.stdout, /^ {2}validate +load dialect files as the server would/m);
    assert.match(group.stdout, /^ {2}explain +say what a dialect makes of one line/m);
    assert.match(
      cli('dialect', 'validate', '--help').stdout,
      /^mcp-ssh-session dialect validate <file\.yaml\|name>\.\.\./,
    );
    assert.match(cli('dialect', 'explain', '--help').stdout, /--prompt TEXT +the session's first prompt/);
  });

  it('exits 2 for a missing or unknown subcommand and for missing arguments', () => {
    const none = cli('dialect');
    assert.equal(none.status, 2);
    assert.match(none.stderr, /name a subcommand/);
    assert.equal(cli('dialect', 'lint').status, 2);
    assert.equal(cli('dialect', 'validate').status, 2);
    const noLine = cli('dialect', 'explain', 'cisco-ios');
    assert.equal(noLine.status, 2);
    assert.match(noLine.stderr, /give the line to explain with --line/);
    const unknown = cli('dialect', 'explain', 'no-such-dialect', '--line', 'x');
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /no dialect named "no-such-dialect"; known dialects: arista-eos, cisco-ios/);
    const badMode = cli('dialect', 'explain', 'junos', '--line', 'x', '--mode', 'config');
    assert.equal(badMode.status, 2);
    assert.match(
      badMode.stderr,
      /--mode: no mode named "config" in junos \(modes: operational, configuration, shell\)/,
    );
  });

  it('validates every built-in dialect and the NX-OS example, examples included', () => {
    const result = cli('dialect', 'validate', ...BUILTINS, NXOS);
    assert.equal(result.status, 0, result.stdout + result.stderr);
    const lines = result.stdout.trim().split('\n');
    assert.deepEqual(
      lines.map((l) => l.replace(/, \d+ examples? checked\)$/, ')')),
      [
        'ok dialects/arista-eos.yaml (arista-eos, 4 modes)',
        'ok dialects/cisco-ios.yaml (cisco-ios, 3 modes)',
        'ok dialects/junos.yaml (junos, 3 modes)',
        'ok dialects/linux.yaml (linux, 0 modes)',
        'ok dialects/linux-sudo.yaml (linux-sudo, 0 modes)',
        'ok examples/dialects/cisco-nxos.yaml (cisco-nxos, 2 modes)',
      ],
    );
    for (const line of lines) assert.doesNotMatch(line, / 0 examples checked/, `${line} has examples`);
    assert.equal(cli('dialect', 'validate', 'cisco-ios').status, 0, 'a name is validated too');
  });

  it('reports every problem of a broken file with file:line:col and the field, and exits 1', () => {
    const dir = folder({
      'broken.yaml': [
        'name: broken',
        'extends: cisco-ios',
        "prompt_lean: '^x$'",
        'modes:',
        '  config:',
        "    prompt: '{{host}}\\(config\\s?+\\)#'",
        'transitions:',
        '  - { from: privileged, to: enabled, send: enable }',
        '',
      ].join('\n'),
      'good.yaml': 'name: good\nextends: cisco-ios\n',
    });
    const broken = path.join(dir, 'broken.yaml');
    const good = path.join(dir, 'good.yaml');
    const result = cli('dialect', 'validate', good, broken);
    assert.equal(result.status, 1);
    assert.deepEqual(result.stdout.trim().split('\n'), [
      `ok ${good} (good, 3 modes, 0 examples checked)`,
      `${broken}:3:1: prompt_lean: unknown key (did you mean "prompt_learn"?); expected one of: ${
        result.stdout.split('expected one of: ')[1]?.split('\n')[0]
      }`,
      `${broken}:6:13: modes.config.prompt: Invalid regular expression: /probe\\(config\\s?+\\)#/: Nothing to repeat — JavaScript has no possessive quantifiers (?+): drop the last +, as in \\s? for \\s?+`,
      `${broken}:8:29: transitions[0].to: no mode named "enabled" — modes: user, privileged, config`,
    ]);
  });

  it('resolves extends in the file’s own folder and reports a failing example', () => {
    const dir = folder({
      'base-ios.yaml': 'name: base-ios\nextends: cisco-ios\n',
      'my-ios.yaml': [
        'name: my-ios',
        'extends: base-ios',
        'examples:',
        '  prompts:',
        '    - { line: "csr1000v#", mode: privileged }',
        '    - { line: "csr1000v(config-if)#", mode: config, after: "csr1000v#" }',
        '    - { line: "csr1000v(tcl)#", mode: config, after: "csr1000v#" }',
        '',
      ].join('\n'),
    });
    const file = path.join(dir, 'my-ios.yaml');
    const result = cli('dialect', 'validate', file);
    assert.equal(result.status, 1, result.stdout + result.stderr);
    assert.equal(
      result.stdout.trim(),
      `${file}:7:15: examples.prompts[2].line: "csr1000v(tcl)#" is in no mode (expected config): modes.config.prompt rendered as ^(?:c(?:s(?:r(?:1(?:0(?:0(?:0(?:v)?)?)?)?)?)?)?\\((?:config|cfg)[^)\\n]{0,40}\\)#\\s?)$ does not match`,
    );
  });

  it('explains an IOS config prompt: its mode, and each mode prompt as rendered', () => {
    const result = cli(
      'dialect',
      'explain',
      'cisco-ios',
      '--line',
      'csr1000v(config-if)#',
      '--prompt',
      'csr1000v#',
    );
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^values learned from the first prompt "csr1000v#": host=csr1000v$/m);
    assert.match(
      result.stdout,
      /^ {2}as the last line while a command runs: it ends the command: it is the prompt of mode config$/m,
    );
    assert.match(result.stdout, /^ {2}no match {2}modes\.user\.prompt {8}\^\(\?:csr1000v>\\s\?\)\$$/m);
    assert.match(result.stdout, /^ {2}match {5}modes\.config\.prompt {6}\^\(\?:c\(\?:s/m);
  });

  it('explains a Junos [edit] line as part of the configuration prompt', () => {
    const result = cli(
      'dialect',
      'explain',
      'junos',
      '--line',
      '[edit]',
      '--prompt',
      'user@host> ',
      '--mode',
      'configuration',
    );
    assert.equal(result.status, 0, result.stderr);
    assert.match(
      result.stdout,
      /just above a prompt of mode configuration, it belongs to that prompt and is not output \(modes\.configuration\.context_lines\[1\]\)/,
    );
    assert.match(
      result.stdout,
      /expected mode configuration: no: modes\.configuration\.prompt rendered as \^\(\?:user@host#\\s\?\)\$ does not match/,
    );
    const prompt = cli(
      'dialect',
      'explain',
      'junos',
      '--line',
      'user@host# ',
      '--prompt',
      'user@host> ',
      '--mode',
      'configuration',
    );
    assert.match(prompt.stdout, /expected mode configuration: yes/);
  });

  it('explains a pager line and an error line', () => {
    const pager = cli('dialect', 'explain', 'junos', '--line', '---(more 45%)---', '--prompt', 'user@host> ');
    assert.equal(pager.status, 0);
    assert.match(
      pager.stdout,
      /as the last line while a command runs: pagers\[0\] answers it with " ", and it is not output/,
    );
    const error = cli(
      'dialect',
      'explain',
      'dialects/cisco-ios.yaml',
      '--line',
      "% Invalid input detected at '^' marker.",
    );
    assert.equal(error.status, 0);
    assert.match(
      error.stdout,
      /as a line of output: errors\[0\] matches: the command fails with this line as its error/,
    );
    assert.match(error.stdout, /^ {2}no match {2}pagers\[0\] {2}--More--\\s\*\$ {2}\(sends " "\)$/m);
  });

  it('exits 1 with validate’s message when the dialect does not load', () => {
    const dir = folder({ 'bad.yaml': "name: bad\nextends: cisco-ios\nerrors: ['(?i)error']\n" });
    const result = cli('dialect', 'explain', path.join(dir, 'bad.yaml'), '--line', 'x');
    assert.equal(result.status, 1);
    assert.equal(result.stdout, '');
    assert.match(
      result.stderr,
      /bad\.yaml:3:10: errors\[0\]: Invalid regular expression: .* no inline flag groups/,
    );
  });

  it('tests a dialect against a transcript: every command ok, or the first difference', () => {
    const junos = 'test/transcripts/junos-17.3-vsrx.yaml';
    const good = cli('dialect', 'test', 'junos', junos);
    assert.equal(good.status, 0, good.stdout + good.stderr);
    assert.match(good.stdout, /^ {2}ok {4}show version \(operational\)$/m);
    assert.match(good.stdout, /^ {2}(\d+) of \1 commands as recorded$/m);
    const wrong = cli('dialect', 'test', 'cisco-ios', junos);
    assert.equal(wrong.status, 1);
    assert.match(wrong.stdout, /^ {2}FAIL {2}show version: mode: expected operational, got user$/m);
    const detected = cli('dialect', 'test', 'detect', 'test/transcripts/eos-4.22-veos.yaml');
    assert.equal(detected.status, 0, detected.stdout);
    assert.match(detected.stdout, /eos-4\.22-veos\.yaml with arista-eos:/);
  });

  it('names the line of a transcript that was cut off or edited by hand', () => {
    const dir = folder({
      'cut.yaml': 'transcript: 1\nevents:\n  - {"t": 0.1, "out": "r1>"}\n  - {"t": 0.2, "in": "show ver',
      'edited.yaml':
        'transcript: 1\nevents:\n  - {t: 0.1, out: "r1>"}\n  - {t: 0.2, input: "show version"}\n',
    });
    // Both in one run: a file that cannot be read does not stop the others from being tested.
    const both = cli(
      'dialect',
      'test',
      'cisco-ios',
      path.join(dir, 'cut.yaml'),
      path.join(dir, 'edited.yaml'),
    );
    assert.equal(both.status, 1);
    assert.match(both.stdout, /FAIL {2}.*cut\.yaml:4:\d+: /);
    assert.match(both.stdout, /FAIL {2}.*edited\.yaml:4:\d+: events\.1/);
  });

  it('tests a dialect against a collector file: each answer at the first prompt', () => {
    const r = cli(
      'dialect',
      'test',
      'junos',
      'test/transcripts/collector/junos-17.3-vsrx.yaml',
      '--speed',
      '0',
    );
    assert.equal(r.status, 0, r.stdout);
    assert.match(r.stdout, /^ {2}ok {4}show version \(operational\)$/m);
  });

  it('tries a dialect on a device, showing what the runner saw and decided', async () => {
    const sim = await startDeviceSimulator(iosProfile({ hostname: 'try-rtr1' }));
    try {
      // Not spawnSync: the simulator runs in this process.
      const { stdout, stderr } = await promisify(execFile)(
        process.execPath,
        [
          CLI,
          'dialect',
          'try',
          '127.0.0.1',
          '--port',
          String(sim.port),
          '--user',
          sim.username,
          '--password-env',
          'MCP_SSH_TRY_PASSWORD',
          '--command',
          'show clock',
        ],
        {
          cwd: ROOT,
          encoding: 'utf8',
          timeout: 60_000,
          env: {
            ...process.env,
            HOME: tempDir('try-home-'),
            MCP_SSH_TRY_PASSWORD: sim.password,
          },
        },
      ).catch((error: { stdout: string; stderr: string }) => error);
      assert.match(stderr, /learned the prompt "try-rtr1>": \{"host":"try-rtr1"\}, mode user/);
      assert.match(stderr, /== dialect cisco-ios/);
      assert.match(stderr, /-> "show clock\\n"/);
      assert.match(stderr, /the command ended at "try-rtr1>": mode user/);
      assert.match(stdout, /UTC/);
    } finally {
      await sim.close();
    }
  });
});
