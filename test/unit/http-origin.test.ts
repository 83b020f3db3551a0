import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseListen } from '../../src/cli/args.js';
import { allowedHostnames, checkOrigin, hostnameOf, requestHostname } from '../../src/server/http/origin.js';
import { isLoopback } from '../../src/ssh/addresses.js';

describe('HTTP listen address and Host/Origin checks', () => {
  it('reads --http as a port or HOST:PORT, loopback by default', () => {
    assert.deepEqual(parseListen('--http', '8080'), { host: '127.0.0.1', port: 8080 });
    assert.deepEqual(parseListen('--http', '0.0.0.0:9000'), { host: '0.0.0.0', port: 9000 });
    assert.deepEqual(parseListen('--http', '[::1]:8080'), { host: '::1', port: 8080 });
    assert.deepEqual(parseListen('--http', 'mcp.internal:80'), { host: 'mcp.internal', port: 80 });
    assert.ok(!isLoopback('127.attacker.example'), 'a name starting 127. is no loopback address');
    for (const bad of ['', 'x', '80000', '1.2.3.4:', ':80:1', '[::1]8080']) {
      assert.throws(() => parseListen('--http', bad), /give a port \(8080\) or HOST:PORT/, bad);
    }
  });

  it('accepts the loopback names on a loopback bind, the public URL and listed names, nothing else', () => {
    const names = allowedHostnames('127.0.0.1', new URL('https://mcp.example.net/mcp'), [
      'Jump.Example.net:8443',
    ]);
    for (const ok of ['localhost:8080', '127.0.0.1', '[::1]:80', 'mcp.example.net', 'jump.example.net']) {
      assert.ok(names.has(hostnameOf(ok) as string), ok);
    }
    for (const bad of ['attacker.example', '127.0.0.1.nip.io', 'localhost.attacker.example', '10.0.0.1']) {
      assert.ok(hostnameOf(bad) !== undefined, `${bad} is read as a name`);
      assert.ok(!names.has(hostnameOf(bad) as string), bad);
    }
    assert.equal(hostnameOf(undefined), undefined);
    assert.equal(hostnameOf('bad host/x'), undefined);
  });

  it('accepts no Origin (an agent), an Origin of its own names or a listed one, and refuses others', () => {
    const names = allowedHostnames('10.1.2.3', new URL('https://mcp.example.net/mcp'), []);
    assert.ok(names.has('10.1.2.3'));
    assert.ok(!names.has('localhost'), 'a bind to one address does not answer to localhost');
    assert.equal(checkOrigin(undefined, names, []), undefined);
    assert.equal(checkOrigin('https://mcp.example.net', names, []), undefined);
    assert.equal(checkOrigin('https://tool.example.org', names, ['https://tool.example.org']), undefined);
    assert.match(
      checkOrigin('https://evil.example', names, []) ?? '',
      /may not use this server.*allowed_origins/,
    );
    assert.match(checkOrigin('null', names, []) ?? '', /may not use this server/);
  });

  it("reads a request's Host only when written as URLs write it: other spellings name no host", () => {
    for (const [header, name] of [
      ['localhost:8080', 'localhost'],
      ['LOCALHOST', 'localhost'],
      ['127.0.0.1:80', '127.0.0.1'],
      ['[::1]:8080', '[::1]'],
      ['localhost.', 'localhost.'],
    ] as const) {
      assert.equal(requestHostname(header), name, header);
    }
    for (const odd of [
      '127.1',
      '2130706433:80',
      '0x7f.1',
      '[0:0:0:0:0:0:0:1]',
      'localhost:80/x',
      'x@localhost',
      'local%68ost',
      'localhost:',
      undefined,
    ]) {
      assert.equal(requestHostname(odd), undefined, odd);
    }
  });
});
