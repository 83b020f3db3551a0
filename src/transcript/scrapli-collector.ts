import { z } from 'zod';
import type { YamlSource } from '../util/yaml-source.js';
import { secretPlaceholder, TranscriptError } from './format.js';
import type { Exchange, OutputChunk, ReplayModel, ReplayPhase, UnknownAnswer } from './replay-model.js';

/**
 * Collector files: the YAML that scrapli_replay's collector writes, one table of answers per privilege
 * level (a mode: its prompt, what each input gets there) rather than a session in time order. The file
 * keeps two tables per level, from before and after the client's session set-up inputs (`on_open_inputs`,
 * e.g. paging off), and the answer to unknown input per level. Outputs leave out the device's echo of the
 * input; the replay adds it back, as the collector's own server does.
 */

/**
 * The echo of an input and the answer after it. The collector cut the typed text out of what the device
 * sent; when the rest of the echo line is still there (a device that echoes "show version " with a
 * trailing space), the answer already starts by ending that line.
 */
function echoed(input: string, output: string): string {
  return /^[ \t]*\r?\n/.test(output) ? `${input}${output}` : `${input}\r\n${output}`;
}

/** The collector's `channel_output` when the device closed the session instead of answering. */
const CLOSES_CONNECTION = '__CLOSES_CONNECTION__';
/** The input the collector typed to record unknown-input answers; it shows up in some of them. */
const UNKNOWN_INPUT = '__UNKNOWN_INPUT__';
/** The collector's stand-ins for hidden inputs (passwords) look like this. */
const HIDDEN_INPUT_NAME = /^__([A-Za-z][A-Za-z0-9_]*)__$/;

const standardEvent = z.object({
  type: z.literal('standard'),
  channel_output: z.string(),
  result_privilege_level: z.string(),
  returns_prompt: z.boolean().default(true),
  closes_connection: z.boolean().default(false),
});

const eventStep = z.object({
  channel_input: z.string(),
  channel_output: z.string(),
  hidden_input: z.boolean().default(false),
  returns_prompt: z.boolean().default(true),
});

const interactiveEvent = z.object({
  type: z.literal('interactive'),
  result_privilege_level: z.string(),
  event_steps: z.array(eventStep).min(1),
});

const collectorEvent = z.discriminatedUnion('type', [standardEvent, interactiveEvent]);

const PHASE_KEYS = { pre_on_open: 'setup', post_on_open: 'ready' } as const satisfies Record<
  string,
  ReplayPhase
>;
type PhaseKey = keyof typeof PHASE_KEYS;

const eventTable = z.record(z.string(), collectorEvent);

const unknownEvent = z.object({
  channel_output: z.string(),
  result_privilege_level: z.string(),
  closes_connection: z.boolean().default(false),
});

export const collectorSchema = z.object({
  events: z.record(
    z.string(),
    z.object({ pre_on_open: eventTable.default({}), post_on_open: eventTable.default({}) }),
  ),
  unknown_events: z
    .record(
      z.string(),
      z.object({ pre_on_open: unknownEvent.optional(), post_on_open: unknownEvent.optional() }),
    )
    .default({}),
  initial_privilege_level: z.string(),
  privilege_level_prompts: z.record(z.string(), z.string()),
  on_open_inputs: z.array(z.string()).default([]),
});

export type CollectorFile = z.infer<typeof collectorSchema>;

/** Does this parsed YAML look like a collector file (rather than something else entirely)? */
export function looksLikeCollector(data: unknown): boolean {
  if (data === null || typeof data !== 'object') return false;
  return ['initial_privilege_level', 'privilege_level_prompts', 'unknown_events'].some((k) => k in data);
}

/** "file:line" from "file:line:col". */
const lineOf = (where: string) => where.replace(/:(\d+):\d+$/, ':$1');

/** Validates with every error naming file:line:col, the field, and what is expected. */
export function parseCollector(source: YamlSource): CollectorFile {
  const parsed = collectorSchema.safeParse(source.data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0] as z.core.$ZodIssue;
    const field = issue.path.join('.') || '(top level)';
    let hint = '';
    if (issue.code === 'invalid_type' && issue.expected === 'string') hint = ' (write the text in quotes)';
    if (issue.code === 'invalid_union' || issue.path[issue.path.length - 1] === 'type') {
      hint = ' (an event has type: standard, with channel_output, or type: interactive, with event_steps)';
    }
    throw new TranscriptError(
      `${source.locate(issue.path as PropertyKey[])}: ${field}: ${issue.message}${hint}`,
    );
  }
  const data = parsed.data;
  const known = (level: string, path: PropertyKey[]) => {
    if (level in data.privilege_level_prompts) return;
    throw new TranscriptError(
      `${source.locate(path)}: ${path.join('.')}: no level "${level}" in privilege_level_prompts (known: ${Object.keys(data.privilege_level_prompts).join(', ')})`,
    );
  };
  known(data.initial_privilege_level, ['initial_privilege_level']);
  for (const [level, phases] of Object.entries(data.events)) {
    for (const phase of Object.keys(PHASE_KEYS) as PhaseKey[]) {
      for (const [input, event] of Object.entries(phases[phase])) {
        known(event.result_privilege_level, ['events', level, phase, input, 'result_privilege_level']);
      }
    }
  }
  for (const [level, phases] of Object.entries(data.unknown_events)) {
    for (const phase of Object.keys(PHASE_KEYS) as PhaseKey[]) {
      const event = phases[phase];
      if (event)
        known(event.result_privilege_level, ['unknown_events', level, phase, 'result_privilege_level']);
    }
  }
  return data;
}

/** The collector stores outputs with bare LF; a device on a terminal sends CR LF. */
const terminalText = (text: string) => text.replace(/\r?\n/g, '\r\n');
const chunk = (text: string): OutputChunk[] =>
  text === '' ? [] : [{ delayMs: 0, bytes: Buffer.from(text, 'utf8') }];
const withoutLineEnd = (input: string) => input.replace(/\r?\n$/, '');

function hiddenInput(channelInput: string): string {
  const m = HIDDEN_INPUT_NAME.exec(channelInput.trim());
  return `${secretPlaceholder(m ? (m[1] as string).toLowerCase() : 'hidden')}\n`;
}

/**
 * The replay model of a collector file. States are privilege levels (plus one state per step of a
 * multi-step exchange, and one after output that stops at a pager); exchanges carry the phase of the
 * table they come from, so answers from before the set-up inputs are preferred until the client has sent
 * them all, and answers from after, afterwards.
 */
export function modelFromCollector(data: CollectorFile, file: string, source?: YamlSource): ReplayModel {
  // An entry is located by its key (the input), a step by its list item.
  const where = (path: PropertyKey[]) => {
    if (!source) return `${file}: ${path.join('.')}`;
    const last = path[path.length - 1];
    return lineOf(typeof last === 'number' ? source.locate(path) : source.locateKey(path));
  };
  const exchanges: Exchange[] = [];
  const singleKeyStates = new Set<string>();
  const secretStates = new Set<string>();
  /** Synthetic states, by the level whose unknown-input answers they share. */
  const statesOfLevel = new Map<string, Set<string>>();
  const addState = (level: string, state: string) => {
    const states = statesOfLevel.get(level) ?? new Set<string>();
    statesOfLevel.set(level, states.add(state));
  };
  /** The state after output: the level's, or, when the output stops at a pager, a single-key one. */
  const stateAfter = (level: string, returnsPrompt: boolean, after: string) => {
    if (returnsPrompt) return level;
    const state = `${level} after ${JSON.stringify(after)}`;
    singleKeyStates.add(state);
    addState(level, state);
    return state;
  };

  for (const [level, phases] of Object.entries(data.events)) {
    for (const phaseKey of Object.keys(PHASE_KEYS) as PhaseKey[]) {
      const phase = PHASE_KEYS[phaseKey];
      for (const [input, event] of Object.entries(phases[phaseKey])) {
        const path = ['events', level, phaseKey, input];
        if (event.type === 'standard') {
          const closes = event.closes_connection || event.channel_output === CLOSES_CONNECTION;
          const output = closes ? '' : terminalText(event.channel_output);
          exchanges.push({
            index: exchanges.length,
            input: `${withoutLineEnd(input)}\n`,
            state: level,
            outputs: chunk(echoed(withoutLineEnd(input), output)),
            ...(closes && { close: { exit: 0 } }),
            next: stateAfter(event.result_privilege_level, event.returns_prompt, input),
            unknown: false,
            phase,
            where: where(path),
          });
          continue;
        }
        // Steps chain through states of their own: step 2 is only answered right after step 1.
        const steps = event.event_steps;
        const stepState = (j: number) =>
          j === 0 ? level : `${level} ${phaseKey} ${JSON.stringify(input)} step ${j + 1}`;
        steps.forEach((step, j) => {
          const state = stepState(j);
          if (j > 0) addState(level, state);
          if (step.hidden_input) secretStates.add(state);
          const last = j === steps.length - 1;
          const typed = step.hidden_input
            ? hiddenInput(step.channel_input)
            : `${withoutLineEnd(step.channel_input)}\n`;
          const echo = step.hidden_input ? '' : withoutLineEnd(step.channel_input);
          exchanges.push({
            index: exchanges.length,
            input: typed,
            state,
            outputs: chunk(echoed(echo, terminalText(step.channel_output))),
            next: last
              ? stateAfter(event.result_privilege_level, step.returns_prompt, input)
              : stepState(j + 1),
            unknown: false,
            phase,
            where: where([...path, 'event_steps', j]),
          });
        });
      }
    }
  }

  const unknownAnswers: UnknownAnswer[] = [];
  for (const [level, phases] of Object.entries(data.unknown_events)) {
    for (const phaseKey of Object.keys(PHASE_KEYS) as PhaseKey[]) {
      const event = phases[phaseKey];
      if (!event) continue;
      for (const state of [level, ...(statesOfLevel.get(level) ?? [])]) {
        unknownAnswers.push({
          state,
          phase: PHASE_KEYS[phaseKey],
          echo: true,
          outputs: chunk(event.closes_connection ? '\r\n' : `\r\n${terminalText(event.channel_output)}`),
          inputMarker: UNKNOWN_INPUT,
          ...(event.closes_connection && { close: { exit: 0 } }),
          next: event.result_privilege_level,
          where: where(['unknown_events', level, phaseKey]),
        });
      }
    }
  }

  const initialPrompt = data.privilege_level_prompts[data.initial_privilege_level] ?? '';
  return {
    kind: 'replay-model',
    file,
    initial: chunk(initialPrompt),
    initialState: data.initial_privilege_level,
    exchanges,
    unknownAnswers,
    ordered: false,
    acrossStates: false,
    singleKeyStates,
    secretStates,
    echoes: true,
    setupInputs: data.on_open_inputs,
  };
}
