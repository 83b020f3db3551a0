import { expectFor, type FuzzCase, type FuzzLine, freshId, isBlank, line, request } from './case.js';
import type { Rng } from './rng.js';
import { type Fixtures, hostileString, hostileValue, nest } from './values.js';

const METHODS = [
  'initialize',
  'ping',
  'tools/list',
  'tools/call',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'prompts/list',
  'completion/complete',
  'logging/setLevel',
  'tasks/list',
  'notifications/initialized',
  'notifications/cancelled',
  'notifications/progress',
  'nope',
  '',
  'tools/list/../call',
  'rpc.discover',
];

/** A line the server must answer with something (any non-blank line is a message or an error). */
const garbage = (bytes: Buffer | string): FuzzLine => {
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes);
  const clean = Buffer.from(b.filter((x) => x !== 0x0a));
  return line(clean, isBlank(clean) ? 'none' : 'some');
};

const valid = (rng: Rng) =>
  JSON.stringify({
    jsonrpc: '2.0',
    id: freshId('v'),
    method: rng.pick(['ping', 'tools/list', 'resources/list']),
  });

/** Raw JSON-RPC garbage: each generator makes one case. */
export const protocolGenerators: Record<string, (rng: Rng, f: Fixtures) => FuzzCase['lines']> = {
  'invalid JSON': (rng) => [
    garbage(
      rng.pick([
        () => rng.string('{}[]":,0123456789abcdefnulltrue\\ ', 1, 200),
        () => valid(rng).slice(0, rng.int(1, 30)),
        () => `${valid(rng).slice(0, -1)},}`,
        () => "{'jsonrpc':'2.0','id':1,'method':'ping'}",
        () => '{"jsonrpc":"2.0","id":NaN,"method":"ping"}',
        () => '{"jsonrpc":"2.0","id":Infinity,"method":"ping"}',
        () => '{"jsonrpc":"2.0","id":1,"method":"ping"} // comment',
        () => '{"jsonrpc":"2.0","id":1,"method":"ping"}{"jsonrpc":"2.0","id":2,"method":"ping"}',
        () => '\ufeff{"jsonrpc":"2.0","id":1,"method":"ping"}',
        () => '{"a":"\\ud800"',
        () => `{"a":"\\u${rng.string('0123456789abcdefxyz', 0, 4)}"}`,
      ])(),
    ),
  ],
  'random bytes': (rng) => [garbage(rng.bytes(1, 2000))],
  'NUL bytes': (rng) => {
    const text = valid(rng);
    const at = rng.int(0, text.length);
    return [
      garbage(
        Buffer.concat([
          Buffer.from(text.slice(0, at)),
          Buffer.alloc(rng.int(1, 50)),
          Buffer.from(text.slice(at)),
        ]),
      ),
    ];
  },
  'invalid UTF-8': (rng) => {
    const text = Buffer.from(`{"jsonrpc":"2.0","id":"${freshId('u')}","method":"ping","params":{"x":"`);
    const bad = Buffer.from(
      rng.pick([
        [0xff],
        [0xc3, 0x28],
        [0xe2, 0x82],
        [0xf0, 0x28, 0x8c, 0x28],
        [0xed, 0xa0, 0x80],
        [0xc0, 0xaf],
      ]),
    );
    return [garbage(Buffer.concat([text, bad, Buffer.from('"}}')]))];
  },
  'huge numbers': (rng) => {
    const n = rng.pick([
      '1e400',
      '-1e400',
      '123456789012345678901234567890',
      '1.5',
      '-0',
      '9007199254740993',
      '1e-400',
    ]);
    return rng.chance(0.5)
      ? [garbage(`{"jsonrpc":"2.0","id":${n},"method":"ping"}`)]
      : [
          line(
            `{"jsonrpc":"2.0","id":"${freshId('n')}","method":"tools/list","params":{"cursor":${n}}}`,
            'some',
          ),
        ];
  },
  'deep nesting': (rng) => {
    const depth = rng.pick([63, 65, 100, 10_000, 1_000_000, 4_000_000]);
    if (rng.chance(0.5)) return [garbage(`${'['.repeat(depth)}${']'.repeat(depth)}`)];
    const id = freshId('d');
    return [
      line(
        `{"jsonrpc":"2.0","id":"${id}","method":"tools/call","params":{"name":"list_hosts","arguments":{"tag":${'['.repeat(depth)}${']'.repeat(depth)}}}}`,
        'some',
      ),
    ];
  },
  'wrong envelope types': (rng, f) => {
    const message: Record<string, unknown> = { jsonrpc: '2.0', id: freshId('w'), method: rng.pick(METHODS) };
    const member = rng.pick(['jsonrpc', 'id', 'method', 'params', 'extra', 'result', 'error']);
    if (member === 'extra') message[hostileString(rng, f).slice(0, 100) || 'x'] = hostileValue(rng, f);
    else if (rng.chance(0.2)) delete message[member];
    else message[member] = hostileValue(rng, f);
    return [line(JSON.stringify(message), expectFor(message))];
  },
  'wrong message shapes': (rng) =>
    rng.pick<() => FuzzLine[]>([
      () => [garbage(rng.pick(['5', '"x"', 'null', 'true', '[]', '{}', '[1,2]', '""', '0']))],
      () => [garbage(`[${valid(rng)},${valid(rng)}]`)],
      () => [garbage(`{"jsonrpc":"2.0","id":"${freshId('w')}"}`)],
      () => [garbage(`{"jsonrpc":"2.0","id":"${freshId('w')}","result":5}`)],
      () => [garbage(`{"jsonrpc":"2.0","id":"${freshId('w')}","error":"no"}`)],
      () => [
        garbage(`{"jsonrpc":"2.0","id":"${freshId('w')}","result":{},"error":{"code":1,"message":"x"}}`),
      ],
      // A well-formed response to a request the server never sent: JSON-RPC answers no response.
      () => [line(`{"jsonrpc":"2.0","id":"${freshId('r')}","result":{}}`, 'none')],
      () => [line(`{"jsonrpc":"2.0","id":"${freshId('r')}","error":{"code":-1,"message":"x"}}`, 'none')],
    ])(),
  'huge strings': (rng) => {
    const size = rng.pick([64 * 1024, 1024 * 1024, 5 * 1024 * 1024]);
    const big = 'x'.repeat(size);
    return [
      rng.pick([
        () => line(JSON.stringify({ jsonrpc: '2.0', id: freshId('h'), method: big }), 'some'),
        () => line(JSON.stringify({ jsonrpc: '2.0', id: big, method: 'ping' }), 'some'),
        () => request('tools/list', { cursor: big }),
        () => request('ping', { [big.slice(0, 100_000)]: big }),
        () => request('tools/call', { name: big, arguments: {} }),
      ])(),
    ];
  },
  oversized: (rng) => {
    const id = freshId('o');
    const content = 'y'.repeat(10 * 1024 * 1024 + rng.int(1, 1024 * 1024));
    const withId = rng.chance(0.7);
    const message = {
      jsonrpc: '2.0',
      method: 'tools/call',
      params: { name: 'write_file', arguments: { content } },
    };
    // The id after the huge value: the streaming scan must still find it.
    const text = withId ? `${JSON.stringify(message).slice(0, -1)},"id":"${id}"}` : JSON.stringify(message);
    return [line(text, withId ? { id } : 'null')];
  },
  'many in one write': (rng) =>
    Array.from({ length: rng.int(2, 300) }, () =>
      rng.chance(0.8)
        ? request(rng.pick(['ping', 'tools/list', 'resources/list']))
        : garbage(rng.string('{}[]",:ab', 1, 20)),
    ),
  'blank and CRLF lines': (rng) => [
    line(rng.pick(['', ' ', '\t', '\r', ' \t \r']), 'none'),
    line(`${valid(rng)}\r`, 'some'),
  ],
  'unknown methods': (rng, f) => [
    request(
      rng.chance(0.5) ? rng.pick(METHODS) : hostileString(rng, f).slice(0, 10_000),
      rng.chance(0.5) ? {} : undefined,
    ),
  ],
  'hostile params': (rng, f) => {
    const method = rng.pick(METHODS.filter((m) => !m.startsWith('notifications/')));
    const params = rng.chance(0.3)
      ? hostileValue(rng, f)
      : {
          [rng.pick([
            'name',
            'uri',
            'cursor',
            'arguments',
            '_meta',
            'level',
            'ref',
            'argument',
            'protocolVersion',
            'capabilities',
          ])]: hostileValue(rng, f),
        };
    return [request(method, params)];
  },
  'hostile notifications': (rng, f) => {
    const message = {
      jsonrpc: '2.0',
      method: rng.pick([
        'notifications/cancelled',
        'notifications/progress',
        'notifications/initialized',
        'notifications/roots/list_changed',
        'notifications/x',
      ]),
      params: rng.chance(0.3)
        ? hostileValue(rng, f)
        : {
            requestId: hostileValue(rng, f),
            progressToken: hostileValue(rng, f),
            reason: hostileString(rng, f),
          },
    };
    return [line(JSON.stringify(message), expectFor(message))];
  },
  'initialize again': (rng, f) => [
    request('initialize', {
      protocolVersion: rng.pick(['2025-06-18', '1999-01-01', hostileString(rng, f).slice(0, 1000)]),
      capabilities: rng.chance(0.5) ? {} : hostileValue(rng, f),
      clientInfo: rng.chance(0.5) ? { name: 'x', version: '1' } : hostileValue(rng, f),
    }),
  ],
  'nesting near the limit': (rng) => [
    request('tools/call', { name: 'list_hosts', arguments: { tag: nest(rng.int(55, 70)) } }),
  ],
};
