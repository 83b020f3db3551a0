// One dialect cannot stall the server: patterns of dialects that do not ship with it run on a
// linear-time engine, and every pattern sees bounded input (a last line's end, an output's two ends).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Dialect } from '../../src/dialect/dialect.js';
import { DialectRegistry, defaultDialectDirs } from '../../src/dialect/loader.js';
import { errorLineIn, responderFor } from '../../src/dialect/matching.js';

/** Milliseconds `fn` takes. */
function took(fn: () => unknown): number {
  const start = performance.now();
  fn();
  return performance.now() - start;
}

/** Bounds are far above a quiet machine's time (a few ms) and far below a backtracking blow-up (minutes). */
const BOUND_MS = 1000;

describe('bounded pattern matching', () => {
  let dir: string;
  let hostile: Dialect;
  let registry: DialectRegistry;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'hostile-dialects-'));
    writeFileSync(
      path.join(dir, 'hostile.yaml'),
      `name: hostile
extends: cisco-ios
errors: ['(a+)+$', '^(x|x)*y']
pagers:
  - pattern: '(b+b+)+c$'
    send: " "
`,
    );
    registry = new DialectRegistry(defaultDialectDirs([dir]));
    hostile = await registry.get('hostile');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("runs a user dialect's catastrophic patterns in linear time", () => {
    assert.equal(hostile.trusted, false);
    const line = `${'a'.repeat(40)}!`;
    assert.ok(took(() => errorLineIn(`${line}\n${'x'.repeat(5000)}`, hostile.errors)) < BOUND_MS);
    assert.ok(took(() => responderFor(hostile.pagers, `${'b'.repeat(5000)}!`)) < BOUND_MS);
  });

  it('keeps the built-in dialects fast on lines and outputs built to hurt them', async () => {
    const sudo = await registry.get('linux-sudo');
    const junos = await registry.get('junos');
    assert.equal(junos.trusted, true);
    const longLine = `[sudo x] ${'password '.repeat(4000)}`;
    assert.ok(took(() => responderFor(sudo.inputPrompts, longLine)) < BOUND_MS);
    assert.ok(took(() => errorLineIn('\n'.repeat(120_000), junos.errors)) < BOUND_MS);
    assert.ok(took(() => errorLineIn(`${' '.repeat(200_000)}x`, junos.errors)) < BOUND_MS);
  });

  it('still finds an error in the first and last part of a long output', async () => {
    const ios = await registry.get('cisco-ios');
    const filler = 'interface x\n'.repeat(20_000);
    assert.match(
      errorLineIn(`% Invalid input detected at '^' marker.\n${filler}`, ios.errors)?.line ?? '',
      /Invalid input/,
    );
    assert.match(errorLineIn(`${filler}% Ambiguous command: "sh i"`, ios.errors)?.line ?? '', /Ambiguous/);
  });
});
