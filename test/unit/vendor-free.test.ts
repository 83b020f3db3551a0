import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { it } from 'node:test';

const SRC = new URL('../../src/', import.meta.url).pathname;
const PLATFORM_NAMES =
  /\b(?:cisco|juniper|junos|arista|eos|ios(?:-xe)?|nx-?os|linux|huawei|vrp|mikrotik|routeros)\b/i;

/**
 * The shell language. The command policy's parser implements it (to find every command `bash -c`, `eval`
 * or a here-document runs, it must read bash syntax), so naming it there is naming a language, not a
 * platform; anywhere else it would be knowledge of the linux dialect leaking into code.
 */
const SHELL_LANGUAGE = /\bbash\b/i;
const SHELL_PARSER = path.join(SRC, 'policy');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? sourceFiles(full) : [full];
  });
}

it('names no vendor or platform in src/: how to talk to a device is data in the dialect files', () => {
  const hits = sourceFiles(SRC).flatMap((file) => {
    const language = path.dirname(file) === SHELL_PARSER;
    return readFileSync(file, 'utf8')
      .split('\n')
      .map((line, i) => ({ line, where: `${path.relative(SRC, file)}:${i + 1}` }))
      .filter(({ line }) => PLATFORM_NAMES.test(line) || (!language && SHELL_LANGUAGE.test(line)))
      .map(({ line, where }) => `${where}: ${line.trim()}`);
  });
  assert.deepEqual(hits, []);
});
