/**
 * Named rule sets a config can use with `policy: { preset: NAME }`. They are written in the same pattern
 * syntax as the config's own rules (see docs/command-policy.md) and combine with them the same way.
 */
export interface Preset {
  description: string;
  allow: string[];
  /** Each deny rule with why it is there, for the refusal message. */
  deny: { pattern: string; why: string }[];
}

/**
 * `read-only` for network devices (Cisco IOS/IOS-XE/NX-OS, Arista EOS, Juniper Junos and alike): look,
 * never change. It allows what shows state and the output filters after `|`; everything else (configure,
 * copy, write, reload, clear, delete, request, commit, set, debug, start shell, bash, terminal ...)
 * matches no allow rule and is refused. The deny rules close what an allowed command could still do:
 * write its output to a file, or pipe into a filter that writes one.
 */
const READ_ONLY: Preset = {
  description: 'network devices: show, display, ping, traceroute and output filters only',
  allow: [
    'show',
    'display',
    'ping',
    'traceroute',
    '| include',
    '| exclude',
    '| begin',
    '| section',
    '| count',
    '| no-more',
    '| match',
    '| except',
    '| find',
    '| last',
    '| trim',
    '| display',
    '| json',
    '| xml',
    '| head',
    '| tail',
    '| grep',
    '| compare',
    '| resolve',
  ],
  deny: [
    { pattern: '>', why: 'output redirection writes a file' },
    { pattern: 'redirect', why: 'it writes the output to a file' },
    { pattern: 'tee', why: 'it writes the output to a file' },
    { pattern: 'append', why: 'it writes the output to a file' },
    { pattern: 'save', why: 'it writes the output to a file' },
    { pattern: 'file', why: 'it writes or removes files' },
  ],
};

export const PRESETS: Readonly<Record<string, Preset>> = { 'read-only': READ_ONLY };

export const PRESET_NAMES: readonly string[] = Object.keys(PRESETS);
