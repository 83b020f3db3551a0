// close_all_sessions closes what was asked for before it, even a session whose host was still being
// resolved (config, addresses, dialect file) when it came: found by the soak, 4 of 4 such sessions stayed
// connected, with a login shell on the host.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Dialect } from '../../src/dialect/dialect.js';
import { DialectRegistry } from '../../src/dialect/loader.js';
import { SessionManager } from '../../src/session/manager.js';
import { tempDir } from '../support/temp.js';

/** A registry whose dialect files take a while to load, as on a slow or busy disk. */
class SlowRegistry extends DialectRegistry {
  override async get(name: string): Promise<Dialect> {
    await sleep(300);
    return super.get(name);
  }
}

describe('SessionManager.closeAll', () => {
  it('closes a session still being resolved when it came: it never opens', async () => {
    const home = tempDir('mcpt-closeall-');
    await writeFile(path.join(home, 'config'), '');
    const manager = new SessionManager({
      dialects: new SlowRegistry(),
      connectTimeoutMs: 2000,
      sshPaths: { sshConfig: path.join(home, 'config'), knownHosts: path.join(home, 'known_hosts'), home },
      output: { memoryBytes: 64 * 1024, spillBytes: 0 },
    });
    try {
      // Port 1 refuses: without the fix the session opens after close_all_sessions and fails to connect,
      // but it is in the list meanwhile and a reachable host would have kept a shell.
      const call = manager
        .execute({ host: '127.0.0.1', port: 1, username: 'nobody' }, 'true', {
          timeoutMs: 5000,
          dialect: 'linux',
        })
        .then(
          () => 'ran',
          (error: Error) => error.message,
        );
      await sleep(100);
      await manager.closeAll();
      assert.equal(manager.list().length, 0);
      assert.match(await call, /was closed by close_all_sessions before it opened; call again/);
      assert.equal(manager.list().length, 0, 'a session opened after close_all_sessions');
    } finally {
      await manager.dispose();
    }
  });
});
