import { type CliSyntax, PLAIN_CLI } from './cli.js';
import type { CheckOptions } from './policy.js';
import type { Preset, PresetName, PresetSource } from './presets.js';
import type { CommandSyntax } from './split.js';

/**
 * What a dialect tells the command policy about its platform: how a command line is read, and the presets
 * it defines. src/dialect builds this from a dialect file's `policy:` section; the policy names no device.
 */
export interface PlatformPolicy {
  /** How a line is read outside shell modes. */
  syntax: CommandSyntax;
  /** The device CLI's prefix words, pipe and separators (used when syntax is `cli`). */
  cli: CliSyntax;
  /** Modes whose prompt is a shell: input there is read as a shell command line, without abbreviations. */
  shellModes: readonly string[];
  presets: Readonly<Partial<Record<PresetName, Preset>>>;
}

/** What a dialect without a `policy:` section means: the syntax its abbreviations imply, no presets. */
export function defaultPlatformPolicy(abbreviations: boolean): PlatformPolicy {
  return { syntax: abbreviations ? 'cli' : 'shell', cli: PLAIN_CLI, shellModes: [], presets: {} };
}

/** How to check a command sent to a session of this platform, in this mode (the mode it is in, if known). */
export function checkOptionsFor(
  platform: PlatformPolicy,
  abbreviations: boolean,
  mode?: string,
): CheckOptions {
  if (mode !== undefined && platform.shellModes.includes(mode))
    return { abbreviations: false, syntax: 'shell' };
  return { abbreviations, syntax: platform.syntax, cli: platform.cli };
}

/** The presets of a dialect, named for messages ("dialect NAME has no read-only preset"). */
export function presetSource(dialectName: string, platform: PlatformPolicy): PresetSource {
  return { name: dialectName, presets: platform.presets };
}
