import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import type { SFTPWrapper } from 'ssh2';
import { Sftp } from '../../src/ssh/sftp.js';

/** ssh2's SFTPWrapper as it behaves once its channel closed: requests are taken and never answered. */
function silentChannel() {
  const raw = new EventEmitter() as EventEmitter & { realpath: (path: string, cb: unknown) => void };
  raw.realpath = () => {};
  return raw;
}

describe('Sftp on a channel that closes', () => {
  it('fails a waiting call when the channel closes, and later calls at once', async () => {
    const raw = silentChannel();
    const sftp = new Sftp(raw as unknown as SFTPWrapper);
    const waiting = sftp.realpath('/a');
    raw.emit('close');
    await assert.rejects(waiting, /the SFTP channel closed/);
    const started = performance.now();
    await assert.rejects(sftp.realpath('/b'), /the SFTP channel closed/);
    assert.ok(performance.now() - started < 100);
  });
});
