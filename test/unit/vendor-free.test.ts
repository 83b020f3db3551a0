import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { it } from 'node:test';

const SRC = new URL('../../src/', import.meta.url).pathname;
const PLATFORM_NAMES =
  /\b(?:cisco|juniper|junos|arista|eos|ios(?:-xe)?|nx-?os|linux|huawei|vrp|mikrotik|routeros|bash)\b/i;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(path.join(dir, entry.name)) : [path.join(dir, entry.name)],
  );
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
