import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { it } from 'node:test';

const SRC = new URL('../../src/', import.meta.url).pathname;
const PLATFORM_NAMES =
  /\b(?:cisco|juniper|junos|arista|eos|ios(?:-xe)?|nx-?os|linux|huawei|vrp|mikrotik|routeros|bash)\b/i;

/**
 * The command policy is exempt: to find every command a line would run it must read the languages
 * themselves (bash -c, eval, a device's `do`/`run` prefixes, pipes into filters). It checks input; it does
 * not talk to devices, and no session, runner or tool depends on a platform through it.
 */
const EXEMPT = new Set([path.join(SRC, 'policy')]);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (EXEMPT.has(full)) return [];
    return entry.isDirectory() ? sourceFiles(full) : [full];
  });
}

it('names no vendor or platform in src/: how to talk to a device is data in the dialect files', () => {
  const hits = sourceFiles(SRC).flatMap((file) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .map((line, i) => ({ line, where: `${path.relative(SRC, file)}:${i + 1}` }))
      .filter(({ line }) => PLATFORM_NAMES.test(line))
      .map(({ line, where }) => `${where}: ${line.trim()}`),
  );
  assert.deepEqual(hits, []);
});
