// Host bytes as text: UTF-8 as it is, each byte of anything else one `?`, so byte counts stay the host's.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { it } from 'node:test';
import { ByteTextDecoder } from '../../src/expect/byte-text.js';

const decodeAll = (chunks: Buffer[]) => {
  const d = new ByteTextDecoder();
  return chunks.map((c) => d.write(c)).join('') + d.end();
};

it('passes UTF-8 through, a character split across chunks too', () => {
  const text = 'héllo 日本 \u{1F600} \uFFFD end';
  const bytes = Buffer.from(text);
  for (let cut = 0; cut <= bytes.length; cut++) {
    assert.equal(decodeAll([bytes.subarray(0, cut), bytes.subarray(cut)]), text, `cut at ${cut}`);
  }
});

it('turns each byte of an invalid sequence into one ?, keeping the byte count', () => {
  const cases: [number[], string][] = [
    [[0x61, 0xff, 0x62], 'a?b'],
    [[0xe9, 0x74, 0xe9], '?t?'], // Latin-1 "été"
    [[0xc0, 0xaf], '??'], // overlong
    [[0xed, 0xa0, 0x80], '???'], // a surrogate
    [[0xe2, 0x82], '??'], // cut short at the end of the stream
    [[0xf4, 0x90, 0x80, 0x80], '????'], // past U+10FFFF
  ];
  for (const [bytes, want] of cases)
    assert.equal(decodeAll([Buffer.from(bytes)]), want, JSON.stringify(bytes));
});

it('gives random bytes, however they are cut, as many UTF-8 bytes of text as were sent', () => {
  for (let round = 0; round < 20; round++) {
    const data = randomBytes(20_000);
    const chunks: Buffer[] = [];
    for (let at = 0; at < data.length; ) {
      const n = 1 + Math.floor(Math.random() * 700);
      chunks.push(data.subarray(at, at + n));
      at += n;
    }
    const text = decodeAll(chunks);
    assert.equal(Buffer.byteLength(text), data.length);
    assert.equal(text, decodeAll([data]), 'the same however it was cut');
  }
});
