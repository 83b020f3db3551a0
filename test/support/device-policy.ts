import type { Dialect } from '../../src/dialect/dialect.js';
import { DialectRegistry } from '../../src/dialect/loader.js';
import type { CliSyntax, Preset, PresetSource } from '../../src/policy/policy.js';

/**
 * What the network dialects shipped with the project (dialects/ and examples/dialects/) tell the command
 * policy, loaded from their YAML: the policy code itself knows no device.
 */
const registry = new DialectRegistry([
  new URL('../../dialects/', import.meta.url).pathname,
  new URL('../../examples/dialects/', import.meta.url).pathname,
]);

export const NETWORK_DIALECTS = ['cisco-ios', 'arista-eos', 'junos', 'cisco-nxos', 'huawei-vrp'] as const;

export function loadDialect(name: string): Promise<Dialect> {
  return registry.get(name);
}

const dialects = await Promise.all(NETWORK_DIALECTS.map((name) => registry.get(name)));

/** Every network dialect's prefix words together: `do` (IOS), `run` (Junos), `bash` (EOS). */
export const DEVICE_CLI: CliSyntax = {
  runPrefixes: [...new Set(dialects.flatMap((d) => d.policy.cli.runPrefixes))],
  shellPrefixes: [...new Set(dialects.flatMap((d) => d.policy.cli.shellPrefixes))],
  pipe: '|',
  separators: [';'],
};

/**
 * Every network dialect's read-only preset in one: what the single built-in preset allowed before the
 * presets moved into the dialect files. Each rule is kept once, the first dialect's `why` with it.
 */
function union(presets: Preset[]): Preset {
  const deny = new Map<string, Preset['deny'][number]>();
  for (const rule of presets.flatMap((p) => p.deny))
    if (!deny.has(rule.pattern)) deny.set(rule.pattern, rule);
  return {
    description: 'the shipped network dialects together',
    allow: [...new Set(presets.flatMap((p) => p.allow))],
    deny: [...deny.values()],
  };
}

export const NETWORK_PRESETS: PresetSource = {
  name: 'network (test)',
  presets: {
    'read-only': union(dialects.map((d) => d.policy.presets['read-only']).filter((p) => p !== undefined)),
  },
};
