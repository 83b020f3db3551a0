// Opening connections at a bounded pace: at most maxConnecting at once, a connection the server dropped
// before the handshake (OpenSSH MaxStartups) tried again after a backoff, anything else failing at once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { ConnectPacer, droppedEarly } from '../../src/session/pacing.js';
import { SshError } from '../../src/ssh/index.js';

const dropped = () =>
  new SshError('disconnected', '127.0.0.1:22 closed the connection before the SSH handshake');

describe('connection pacing', () => {
  it('opens at most maxConnecting at once', async () => {
    const pacer = new ConnectPacer({ maxConnecting: 3 });
    let open = 0;
    let most = 0;
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        pacer.connect(`h${i}`, async () => {
          open++;
          most = Math.max(most, open);
          await delay(10);
          open--;
          return i;
        }),
      ),
    );
    assert.equal(most, 3);
    assert.deepEqual(
      results,
      Array.from({ length: 12 }, (_, i) => i),
    );
    assert.equal(pacer.connecting, 0);
  });

  it('tries a connection dropped before the handshake again, with a growing backoff', async () => {
    const pacer = new ConnectPacer({ maxConnecting: 2, backoffMs: 10 });
    const times: number[] = [];
    const result = await pacer.connect('h', async () => {
      times.push(performance.now());
      if (times.length < 3) throw dropped();
      return 'up';
    });
    assert.equal(result, 'up');
    assert.equal(pacer.retried, 2);
    assert.ok((times[1] ?? 0) - (times[0] ?? 0) >= 9, 'first backoff');
    assert.ok((times[2] ?? 0) - (times[1] ?? 0) >= 19, 'second backoff doubles');
    assert.equal(pacer.connecting, 0);
  });

  it('opens fewer at once after drops, so a server that takes 2 at a time gets every host in its retries', async () => {
    // An sshd with MaxStartups 2: a third connection before the first two have logged in is dropped.
    const pacer = new ConnectPacer({ maxConnecting: 10, retries: 3, backoffMs: 10 });
    let open = 0;
    const results = await Promise.allSettled(
      Array.from({ length: 14 }, (_, i) =>
        pacer.connect(`h${i}`, async () => {
          if (open >= 2) throw dropped();
          open++;
          await delay(40);
          open--;
          return i;
        }),
      ),
    );
    const failed = results.filter((r) => r.status === 'rejected').length;
    assert.equal(failed, 0, `${failed} of 14 hosts gave up after ${pacer.retried} retries`);
    assert.equal(pacer.connecting, 0);
  });

  it('gives up after its retries, or at the deadline, and never retries other failures', async () => {
    const pacer = new ConnectPacer({ maxConnecting: 1, retries: 2, backoffMs: 1 });
    let tries = 0;
    await assert.rejects(
      pacer.connect('h', async () => {
        tries++;
        throw dropped();
      }),
      /before the SSH handshake/,
    );
    assert.equal(tries, 3);
    tries = 0;
    await assert.rejects(
      pacer.connect('h', async () => {
        tries++;
        throw new SshError('auth-failed', 'All configured authentication methods failed');
      }),
      /authentication/,
    );
    assert.equal(tries, 1);
    tries = 0;
    await assert.rejects(
      new ConnectPacer({ maxConnecting: 1, backoffMs: 1000 }).connect(
        'h',
        async () => {
          tries++;
          throw dropped();
        },
        Date.now() + 100,
      ),
    );
    assert.equal(tries, 1, 'no retry that would start past the deadline');
    assert.equal(pacer.connecting, 0);
  });

  it('knows a dropped connection from a refused one', () => {
    assert.equal(droppedEarly(dropped()), true);
    assert.equal(droppedEarly(new SshError('disconnected', 'Cannot connect to h:22: read ECONNRESET')), true);
    assert.equal(droppedEarly(new SshError('refused', 'Connection refused by h:22')), false);
    assert.equal(droppedEarly(new Error('closed the connection before the SSH handshake')), false);
  });
});
