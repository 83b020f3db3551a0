import { defaultPlatformPolicy } from '../policy/platform.js';
import type { Dialect, Responder } from './dialect.js';
import { compilePattern } from './pattern.js';
import { Template } from './template.js';

/** The terminal detection opens: what every built-in device dialect asks for, so it can hand the channel on. */
export const DETECTION_CHANNEL: Dialect['channel'] = {
  type: 'shell',
  pty: { term: 'vt100', cols: 511, rows: 24 },
};

/**
 * A dialect that drives an unknown device just far enough to tell which dialect fits: its first prompt is
 * any line a candidate's `detect.prompt` accepts, taken literally; a command ends when that prompt comes
 * back; pagers are answered the way any candidate says. Made from the candidates' data, so detection runs
 * on the same runner as every command.
 */
export function detectionDialect(candidates: Dialect[], channel: Dialect['channel']): Dialect {
  // Named groups of different rules could clash: they become plain groups (rules that refer back to one
  // are left out rather than guessed at).
  const rules = candidates
    .map((d) => d.detect.prompt?.source.replace(/\(\?<([A-Za-z_]\w*)>/g, '(?:'))
    .filter((source): source is string => source !== undefined && !source.includes('\\k<'));
  // A rule may or may not be anchored at the start of the line: each is looked for anywhere in it.
  const anyRule = rules.length > 0 ? `(?=${rules.map((r) => `.*?(?:${r})`).join('|')})` : '';
  const trusted = candidates.every((d) => d.trusted);
  const promptLearn = compilePattern(`^${anyRule}(?<prompt>.*?\\S)\\s*$`, '', trusted).regexp;
  const pagers = new Map<string, Responder>();
  for (const pager of candidates.flatMap((d) => d.pagers)) {
    if (pager.secret === undefined) pagers.set(`${pager.pattern.source}\u0000${pager.send}`, pager);
  }
  return {
    name: 'detection',
    // Made of the candidates' rules: as trusted as the least trusted of them.
    trusted,
    description: 'Drives an unknown device until its dialect is known.',
    source: '(detection)',
    channel,
    lineEnding: candidates.find((d) => d.channel.type === 'shell')?.lineEnding ?? '\n',
    completion: { strategy: 'prompt', send: new Template('{{command}}') },
    // The echo stays in the probe's answer: expectations are written not to match the probe itself.
    echo: false,
    abbreviations: false,
    promptLearn,
    modes: [{ name: 'detected', prompt: new Template('{{prompt|regex_escape}}\\s*'), contextLines: [] }],
    transitions: [],
    defaults: {},
    onOpen: [],
    login: [],
    onClose: [],
    pagers: [...pagers.values()],
    inputPrompts: [],
    commandRewrite: [],
    inputWait: { quietMs: 400, prompts: [] },
    errors: [],
    withSecret: {},
    interrupt: { send: '\u0003', graceMs: 1000 },
    detect: { probes: [] },
    // Probes are the session's own commands: the policy checks only what an agent sends.
    policy: defaultPlatformPolicy(false),
    // A probe answered at another prompt a candidate knows (a device that changed mode, a replay that
    // only knows the answer elsewhere) still ends, once the device is quiet; that prompt is learned.
    promptShapes: [{ name: 'detected', prompt: promptLearn }],
  };
}
