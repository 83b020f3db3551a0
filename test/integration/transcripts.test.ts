// The built-in dialects against sessions as real devices printed them (test/transcripts, written from
// public device output and vendor documentation, never from our dialect files), replayed over SSH: every
// recorded command must come back with its recorded mode, error and output, with the dialect named and
// with the dialect detected.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { checkPassed, checkTranscript, formatCheck } from '../../src/cli/transcript-check.js';
import { parseTranscript } from '../../src/transcript/format.js';

const DIR = new URL('../transcripts/', import.meta.url).pathname;
const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => path.join(DIR, f));

describe('dialects against recorded devices', () => {
  it('has transcripts for every built-in network dialect', () => {
    const dialects = new Set(files.map((f) => parseTranscript(readFileSync(f, 'utf8'), f).dialect));
    for (const name of ['cisco-ios', 'arista-eos', 'junos']) assert.ok(dialects.has(name), name);
  });

  for (const file of files) {
    const { dialect } = parseTranscript(readFileSync(file, 'utf8'), file);
    const name = path.basename(file);

    it(`${name}: ${dialect} answers every command as recorded`, async () => {
      const check = await checkTranscript(file, { dialect });
      assert.ok(checkPassed(check), formatCheck(check));
      assert.ok(check.commands.length >= 5, formatCheck(check));
    });

    it(`${name}: detection picks ${dialect}`, async () => {
      const check = await checkTranscript(file);
      assert.equal(check.dialect, dialect, formatCheck(check));
      assert.ok(checkPassed(check), formatCheck(check));
    });
  }
});
