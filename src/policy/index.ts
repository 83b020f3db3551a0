export { PolicyConfigError, PolicyParseError } from './errors.js';
export {
  type CheckOptions,
  type CompiledPolicy,
  type CompiledRule,
  checkCommand,
  compilePolicy,
  type PatternSpec,
  type PolicyDecision,
  type PolicyRules,
} from './policy.js';
export { PRESET_NAMES, PRESETS, type Preset } from './presets.js';
export { type CommandSyntax, type SimpleCommand, splitCommands } from './split.js';
