/**
 * Named rule sets a config can use with `policy: { preset: NAME }`. They are written in the same pattern
 * syntax as the config's own rules (see docs/command-policy.md) and combine with them the same way. The
 * rules themselves are data: each dialect file brings its own (its `policy.read_only` section), since only
 * the dialect knows which of its platform's commands only read state.
 */
export interface Preset {
  description: string;
  allow: string[];
  /** Each deny rule with why it is there, for the refusal message. */
  deny: { pattern: string; why: string }[];
}

/** The presets a config may name. */
export const PRESET_NAMES = ['read-only'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

/** Where a host's presets come from: its dialect, by name (for messages), and the presets it defines. */
export interface PresetSource {
  name: string;
  presets: Readonly<Partial<Record<PresetName, Preset>>>;
}
