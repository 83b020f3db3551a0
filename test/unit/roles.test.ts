import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { deploymentOf } from '../../src/config/deployment.js';
import { loadConfig } from '../../src/config/load.js';
import { compileRoles, rightsOf, userDeployment } from '../../src/config/roles.js';
import { checkRoles } from '../../src/server/http/roles-check.js';
import { narrowTools, selectTools } from '../../src/server/toolsets.js';
import { CommandDeniedError } from '../../src/session/manager.js';
import { loadDialect } from '../support/device-policy.js';
import { tempDir } from '../support/temp.js';

async function configWith(text: string) {
  const dir = tempDir('mcpt-roles-');
  const file = path.join(dir, 'config.yaml');
  writeFileSync(file, text);
  try {
    return await loadConfig({ explicitPath: file });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const BASE = `
defaults: { dialect: linux }
groups: { core: {}, edge: {} }
hosts:
  core1: { host: 192.0.2.1, groups: [core] }
  edge1: { host: 192.0.2.2, groups: [edge], policy: { deny: [reboot] } }
roles:
  viewer: { hosts: [group:core], tools: [commands, inventory], read_only: true, policy: { preset: read-only } }
  edger: { hosts: ["edge*"], policy: { allow: ["systemctl restart *"] } }
  admin: { hosts: ["*"] }
`;

describe('roles: what a user of a shared server may reach and do', () => {
  it('adds roles up: hosts reachable by one role, commands allowed by one role reaching the host', async () => {
    const loaded = await configWith(BASE);
    assert.ok(loaded);
    const linux = await loadDialect('linux');
    const roles = compileRoles(loaded);
    const rights = rightsOf(loaded, 'ann', ['viewer', 'edger', 'unknown']);
    assert.ok(typeof rights !== 'string');
    assert.deepEqual(rights.roles, ['viewer', 'edger']);
    const ann = userDeployment(deploymentOf(loaded), roles, rights);
    assert.equal(ann.reachable?.(['core1']), undefined);
    assert.equal(ann.reachable?.(['edge1']), undefined);
    assert.match(
      ann.reachable?.([]) ?? '',
      /hosts outside the inventory is outside what ann's roles \(viewer, edger\)/,
    );
    assert.equal(ann.checkCommand(['core1'], 'uptime', linux), 'allowed');
    assert.throws(() => ann.checkCommand(['core1'], 'systemctl restart nginx', linux), /role viewer/);
    assert.equal(ann.checkCommand(['edge1'], 'systemctl restart nginx', linux), 'allowed');
    assert.throws(() => ann.checkCommand(['edge1'], 'uptime', linux), CommandDeniedError);
    const admin = userDeployment(deploymentOf(loaded), roles, rightsOf(loaded, 'root', ['admin']) as never);
    assert.equal(admin.reachable?.([]), undefined);
    assert.equal(admin.checkCommand(['core1'], 'rm -rf /tmp/x', linux), 'not-checked');
    // The host's own policy still holds under a role without one.
    assert.throws(() => admin.checkCommand(['edge1'], 'reboot', linux), /policy for edge1/);
    // Audited as a role policy's decision only when one checked it: here admin (no policy) reaches core1,
    // and viewer's policy, also held, was not what let the command through.
    const both = userDeployment(
      deploymentOf(loaded),
      roles,
      rightsOf(loaded, 'kim', ['admin', 'edger']) as never,
    );
    assert.equal(both.checkCommand(['core1'], 'rm -rf /tmp/x', linux), 'not-checked');
    assert.equal(both.checkInput(['core1'], { text: 'y\n' }, linux).policy, 'not-checked');
  });

  it('refuses a user without a role the config defines, and gives everything when there is no roles section', async () => {
    const loaded = await configWith(BASE);
    assert.match(
      rightsOf(loaded, 'bob', []) as string,
      /user bob holds no role; this server's roles: viewer, edger, admin/,
    );
    assert.match(
      rightsOf(loaded, 'bob', ['root']) as string,
      /holds no role this server defines \(held: root/,
    );
    const open = await configWith('hosts:\n  a: { host: 192.0.2.1 }\n');
    const rights = rightsOf(open, 'bob', []);
    assert.ok(typeof rights !== 'string');
    const bob = userDeployment(deploymentOf(open as never), compileRoles(open as never), rights);
    assert.equal(bob.reachable?.([]), undefined);
  });

  it("narrows the server's tools to what the roles offer", () => {
    const server = selectTools({ names: ['all'] });
    const viewer = narrowTools(server, [{ names: ['commands', 'inventory'], readOnly: true }], 'ann');
    assert.ok(viewer.tools.has('execute_command') && !viewer.tools.has('write_file'));
    assert.match(viewer.whyHidden('write_file') ?? '', /not among the tools ann's roles may use/);
    const both = narrowTools(
      server,
      [
        { names: ['commands'], readOnly: true },
        { names: ['files'], readOnly: false },
      ],
      'ann',
    );
    assert.ok(both.tools.has('write_file'), 'a second role adds its tools');
    const small = selectTools({ names: ['commands'] });
    assert.throws(
      () => narrowTools(small, [{ names: ['files'], readOnly: false }], 'role x'),
      /leave no tool/,
    );
  });

  it('names the role and what to fix for an unknown group or tool set', async () => {
    const badGroup = await configWith(`${BASE}  broken: { hosts: [group:nope] }\n`);
    assert.throws(
      () => checkRoles({ config: badGroup as never }),
      /roles\.broken\.hosts: no group named "nope"/,
    );
    const badTools = await configWith(`${BASE}  broken: { tools: [comands] }\n`);
    assert.throws(() => checkRoles({ config: badTools as never }), /roles\.broken\.tools: .*comands/);
    // A read-only role on a server that offers only tools that change things: refused at start too.
    const writer = selectTools({ names: ['write_file'] });
    const readOnly = await configWith(
      'hosts:\n  a: { host: 192.0.2.1 }\nroles:\n  looker: { read_only: true }\n',
    );
    assert.throws(() => checkRoles({ config: readOnly as never }, writer), /roles\.looker: .*leave no tool/);
  });
});
