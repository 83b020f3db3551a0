import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { symlinkSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { DialectRegistry, defaultDialectDirs, loadDialectFile } from '../../src/dialect/loader.js';
import { Template } from '../../src/dialect/template.js';
import { tempDir } from '../support/temp.js';

async function dialectFile(name: string, text: string): Promise<string> {
  const dir = tempDir('dialect-');
  const file = path.join(dir, `${name}.yaml`);
  await writeFile(file, text);
  return file;
}

describe('Template', () => {
  it('fills placeholders and applies filters', () => {
    const t = new Template('run {{command|shell_quote}} as {{user}}');
    assert.equal(t.render({ command: "echo 'hi'", user: 'bob' }), `run 'echo '\\''hi'\\''' as bob`);
    assert.deepEqual([...t.names], ['command', 'user']);
  });

  it('rejects unknown filters and missing values', () => {
    assert.throws(() => new Template('{{x|nope}}'), /unknown filter "nope"/);
    assert.throws(() => new Template('{{x}}').render({}), /"x" is not known/);
  });
});

describe('loadDialectFile', () => {
  it('loads the built-in linux dialect', async () => {
    const dialect = await new DialectRegistry().get('linux');
    assert.equal(dialect.name, 'linux');
    assert.equal(dialect.channel.pty, false);
    assert.equal(dialect.completion.strategy, 'marker');
  });

  it('names file, line, column and field of a schema error', async () => {
    const file = await dialectFile(
      'bad',
      'name: bad\ndescription: x\nchannel:\n  type: telnet\ncompletion:\n  strategy: marker\n  send: x\n  match: y\ninterrupt:\n  send: "\\u0003"\n',
    );
    await assert.rejects(loadDialectFile(file), (error: Error) => {
      assert.match(error.message, new RegExp(`${file.replaceAll('.', '\\.')}:4:9: channel\\.type: `));
      return true;
    });
  });

  it('reports an invalid regex', async () => {
    const file = await dialectFile(
      'badre',
      'name: badre\ndescription: x\nchannel: { type: shell }\ncompletion:\n  strategy: marker\n  send: x\n  match: "(unclosed{{marker}}"\ninterrupt: { send: "x" }\n',
    );
    await assert.rejects(
      loadDialectFile(file),
      /badre\.yaml:7:10: completion\.match: Invalid regular expression/,
    );
  });

  it('says which dialects folder it searched for an unknown name', async () => {
    await assert.rejects(
      new DialectRegistry(['/nonexistent']).get('nope'),
      /no dialect named "nope"; known dialects: none \(folders: \/nonexistent\)/,
    );
  });

  it('lets a user folder override a built-in that it extends, and rejects real cycles', async () => {
    const dir = path.dirname(
      await dialectFile('cisco-ios', 'name: cisco-ios\nextends: cisco-ios\ndescription: mine\n'),
    );
    const registry = new DialectRegistry(defaultDialectDirs([dir]));
    const mine = await registry.get('cisco-ios');
    assert.equal(mine.description, 'mine');
    assert.ok(
      mine.modes.some((m) => m.name === 'privileged'),
      'inherits the built-in modes',
    );
    assert.equal((await registry.get('arista-eos')).name, 'arista-eos');
    writeFileSync(path.join(dir, 'a.yaml'), 'name: a\nextends: b\n');
    writeFileSync(path.join(dir, 'b.yaml'), 'name: b\nextends: a\n');
    await assert.rejects(registry.get('a'), /extends: cycle a -> b -> a/);
    const listed = await registry.list();
    assert.match(listed.find((d) => d.name === 'a')?.description ?? '', /does not load/);
    assert.ok(
      listed.some((d) => d.name === 'linux' && d.source === 'builtin'),
      'a broken file hides nothing else',
    );
  });

  it('points at template mistakes: unknown filters and values a prompt cannot have', async () => {
    const base = 'channel: { type: shell }\ncompletion: { strategy: prompt }\ninterrupt: { send: "x" }\n';
    const filter = await dialectFile(
      'f1',
      `name: f1\n${base}prompt_learn: '(?<host>\\w+)#'\nmodes:\n  m: { prompt: '{{host|nope}}#' }\n`,
    );
    await assert.rejects(loadDialectFile(filter), /f1\.yaml:7:\d+: modes\.m\.prompt: unknown filter "nope"/);
    const value = await dialectFile(
      'f2',
      `name: f2\n${base}prompt_learn: '(?<host>\\w+)#'\nmodes:\n  m: { prompt: '{{hostname}}#' }\n`,
    );
    await assert.rejects(
      loadDialectFile(value),
      /modes\.m\.prompt: \{\{hostname\}\} is neither a named group of prompt_learn nor in defaults \(known: host\)/,
    );
  });
});

describe('DialectRegistry against hostile dialect folders', () => {
  it('refuses a FIFO or a link to /dev/zero at once instead of reading it forever', async () => {
    const dir = tempDir('mcpt-dialects-');
    execFileSync('mkfifo', [path.join(dir, 'fifo.yaml')]);
    symlinkSync('/dev/zero', path.join(dir, 'zero.yaml'));
    const registry = new DialectRegistry([...defaultDialectDirs(), dir]);
    const listed = await registry.list();
    for (const name of ['fifo', 'zero']) {
      const listing = listed.find((l) => l.name === name);
      assert.equal(listing?.source, 'error', JSON.stringify(listing));
      assert.match(String(listing?.description), /not a regular file/, JSON.stringify(listing));
      await assert.rejects(registry.get(name), /not a regular file/);
    }
    assert.ok(
      listed.some((l) => l.name === 'linux' && l.source === 'builtin'),
      'the good dialects still list',
    );
  });

  it('does not echo a name that is not one back whole', async () => {
    const registry = new DialectRegistry(defaultDialectDirs());
    await assert.rejects(registry.get('😀'.repeat(3000)), (error: Error) => {
      assert.match(error.message, /is not a dialect name/);
      assert.ok(error.message.length < 300, `${error.message.length} characters`);
      return true;
    });
  });
});
