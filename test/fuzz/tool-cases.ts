import { type FuzzLine, freshId, line, request, toolCall } from './case.js';
import type { Rng } from './rng.js';
import { type Fixtures, hostileNumber, hostileString, hostileValue } from './values.js';

/** A tool as tools/list describes it: what the generators need of its JSON schema. */
export interface ToolSchema {
  name: string;
  inputSchema: { properties?: Record<string, { type?: string; enum?: unknown[] }>; required?: string[] };
}

/** A value that passes the schema, pointing at something harmless on this machine. */
function validValue(field: string, type: string | undefined, rng: Rng, f: Fixtures): unknown {
  switch (field) {
    case 'host':
      return rng.pick(['127.0.0.1', 'localhost', '127.0.0.2']);
    case 'port':
      return rng.pick([f.refusedPort, f.closingPort]);
    case 'command':
      return rng.pick(['true', 'echo hi', 'cat /etc/hostname']);
    case 'remote_path':
    case 'path':
      return rng.pick(['/tmp/fuzz.txt', '~/x', '.']);
    case 'local_path':
      return `${f.dir}/local.txt`;
    case 'command_id':
      return rng.pick(['cmd-1', 'cmd-999999']);
    case 'encoding':
      return rng.pick(['utf8', 'base64']);
    case 'permissions':
      return '644';
    case 'dialect':
      return rng.pick(['linux', 'cisco-ios']);
  }
  if (type === 'integer' || type === 'number') return rng.int(1, 5);
  if (type === 'boolean') return rng.chance(0.5);
  return 'x';
}

/** One hostile change to an argument object: mostly values of the right type, so the handlers get them. */
function mutate(args: Record<string, unknown>, tool: ToolSchema, rng: Rng, f: Fixtures): void {
  const props = tool.inputSchema.properties ?? {};
  const fields = Object.keys(props);
  const field = fields.length > 0 ? rng.pick(fields) : undefined;
  const draw = rng.next();
  if (field === undefined || draw < 0.1) {
    // An argument no tool takes, or a typo of one that exists.
    const typo =
      field && rng.chance(0.5) ? `${field.slice(0, -1)}${field.at(-1) === 's' ? 'z' : 's'}` : undefined;
    args[typo ?? (hostileString(rng, f).slice(0, 200) || 'x')] = hostileValue(rng, f);
    return;
  }
  if (draw < 0.15) {
    delete args[field];
    return;
  }
  if (draw < 0.3) {
    args[field] = hostileValue(rng, f); // most likely the wrong type
    return;
  }
  const type = props[field]?.type;
  if (type === 'integer' || type === 'number')
    args[field] = rng.chance(0.5) ? hostileNumber(rng) : rng.int(0, 100_000);
  else if (type === 'boolean') args[field] = rng.chance(0.5);
  else if (field === 'command' && rng.chance(0.3))
    args[field] = rng.pick(['x'.repeat(1024 * 1024), 'echo a;'.repeat(100_000), '\n'.repeat(10_000)]);
  else args[field] = hostileString(rng, f);
}

export function toolCase(tools: ToolSchema[], rng: Rng, f: Fixtures): { kind: string; lines: FuzzLine[] } {
  const tool = rng.pick(tools);
  return { kind: tool.name, lines: toolLines(tool, rng, f) };
}

function toolLines(tool: ToolSchema, rng: Rng, f: Fixtures): FuzzLine[] {
  const props = tool.inputSchema.properties ?? {};
  const args: Record<string, unknown> = {};
  for (const [field, schema] of Object.entries(props)) {
    if ((tool.inputSchema.required ?? []).includes(field) || rng.chance(0.3))
      args[field] = validValue(field, schema.type, rng, f);
  }
  const changes = rng.int(0, 3);
  for (let i = 0; i < changes; i++) mutate(args, tool, rng, f);
  if (rng.chance(0.05)) {
    // Numbers JSON cannot carry, as some clients write them anyway: a parse error, id null.
    const text = JSON.stringify({
      jsonrpc: '2.0',
      id: freshId('t'),
      method: 'tools/call',
      params: { name: tool.name, arguments: { ...args, port: '@@' } },
    });
    return [line(text.replace('"@@"', rng.pick(['NaN', 'Infinity', '-Infinity', 'undefined'])), 'some')];
  }
  if (rng.chance(0.05)) return [toolCall(tool.name, rng.pick([5, 'x', [], null, true, [args]]))];
  return [toolCall(tool.name, args)];
}

/** encodeURIComponent, with surrogates (it refuses lone ones) replaced first. */
const encodeLoosely = (text: string): string =>
  encodeURIComponent(text.replace(/[\uD800-\uDFFF]/g, '\uFFFD'));

const URIS = (rng: Rng, f: Fixtures): string =>
  rng.pick<() => string>([
    () => 'dialect://linux',
    () => 'inventory://hosts',
    () => `dialect://${hostileString(rng, f)}`,
    () => `dialect://${encodeLoosely(hostileString(rng, f))}`,
    () => 'dialect://..%2F..%2F..%2Fetc%2Fpasswd',
    () => 'dialect://../../etc/passwd',
    () => 'dialect:///linux',
    () => 'DIALECT://linux',
    () => 'dialect://linux?x=1#frag',
    () => 'dialect://{name}',
    () => 'dialect://',
    () => 'dialect:',
    () => 'file:///etc/shadow',
    () => `http://127.0.0.1:${f.closingPort}/`,
    () => 'inventory://hosts/../../x',
    () => '',
    () => hostileString(rng, f),
    () => `dialect://${'a'.repeat(rng.pick([100, 10_000, 1_000_000]))}`,
    () => `inventory://${'%'.repeat(1000)}`,
  ])();

export function resourceCase(rng: Rng, f: Fixtures): FuzzLine[] {
  return [
    rng.pick<() => FuzzLine>([
      () => request('resources/read', { uri: URIS(rng, f) }),
      () => request('resources/read', { uri: hostileValue(rng, f) }),
      () => request('resources/list', rng.chance(0.5) ? { cursor: hostileValue(rng, f) } : {}),
      () => request('resources/templates/list', { cursor: hostileString(rng, f) }),
      () => request('resources/subscribe', { uri: URIS(rng, f) }),
    ])(),
  ];
}
