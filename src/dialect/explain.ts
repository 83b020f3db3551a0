import { DETECTION_CHANNEL, detectionDialect } from './detection.js';
import type { Dialect, Responder } from './dialect.js';
import {
  definedOnly,
  errorLineIn,
  FIND_PROMPT_MS,
  FIND_PROMPT_TRIES,
  inputWaitFor,
  LOGIN_ANSWERS_MAX,
  learnFromPrompt,
  loginAnswersFor,
  type ModePattern,
  modeOfLine,
  patternText,
  promptShapeOf,
  RELEARN_QUIET_MS,
  renderModePrompts,
  responderFor,
} from './matching.js';

/** One line as a device prints it, and what is known of the session around it. */
export interface ExplainRequest {
  line: string;
  /** The session's first prompt, which values (host...) are learned from. */
  prompt?: string;
  /** The mode the line is expected to be a prompt of (or a context line of). */
  mode?: string;
}

interface Row {
  matched: boolean;
  field: string;
  pattern: string;
  note?: string;
}

/** A mode prompt as the runner would render it with the values known, or why it cannot be. */
type RenderedMode = { name: string; pattern?: ModePattern; missing?: string };

const q = (text: string) => JSON.stringify(text);
const values = (vars: Record<string, string>) =>
  Object.entries(vars)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');

/**
 * What the runner makes of one line of a device's output, decision by decision, and every pattern of the
 * dialect that was tried, matching or not. Plain text for a person; stable enough to test.
 */
export function explainLine(dialect: Dialect, request: ExplainRequest): string {
  const { line } = request;
  const out: string[] = [`${q(line)} in the ${dialect.name} dialect`];
  const promptDialect = dialect.completion.strategy === 'prompt';

  const fromLine = learnFromPrompt(dialect, line);
  let learned: Record<string, string> = {};
  if (request.prompt !== undefined) {
    const fromPrompt = learnFromPrompt(dialect, request.prompt);
    if (fromPrompt) learned = fromPrompt;
    out.push(
      fromPrompt
        ? `values learned from the first prompt ${q(request.prompt)}: ${values(fromPrompt) || 'none'}`
        : `the first prompt ${q(request.prompt)} (--prompt) is no first prompt: prompt_learn does not match it, so nothing is learned`,
    );
  } else if (fromLine) {
    learned = fromLine;
    out.push(`values learned from this line as a first prompt: ${values(fromLine) || 'none'}`);
  } else if (promptDialect) {
    out.push('no values learned: give the first prompt with --prompt to fill in the mode prompts');
  }
  const rendered = renderEach(dialect, learned);
  const renderable = rendered.flatMap((r) => (r.pattern ? [r.pattern] : []));
  const mode = modeOfLine(renderable, line);

  out.push('', 'What the runner does with it:');
  if (promptDialect) out.push(`  while the session opens: ${atOpen(dialect, line, fromLine)}`);
  out.push(
    `  as the last line while a command runs: ${whileRunning(dialect, line, mode, learned, rendered)}`,
  );
  for (const note of whileMoving(dialect, line)) out.push(`  while changing modes: ${note}`);
  out.push(`  as a line of output: ${asOutput(dialect, line)}`);
  for (const note of detection(dialect, line)) out.push(`  when detecting the dialect: ${note}`);
  if (request.mode !== undefined)
    out.push(`  expected mode ${request.mode}: ${expectedMode(request.mode, line, mode, rendered)}`);

  out.push('', 'Each pattern tried against the line:');
  if (promptDialect) {
    out.push(
      ...table('prompt_learn', [
        {
          matched: fromLine !== undefined,
          field: 'prompt_learn',
          pattern: (dialect.promptLearn ? patternText(dialect.promptLearn) : '') ?? '',
          note: fromLine ? `learns ${values(fromLine) || 'nothing'}` : undefined,
        },
      ]),
      ...table(
        `modes${Object.keys(learned).length > 0 ? ` (with ${values(learned)})` : ''}`,
        rendered.map((r) => ({
          matched: r.pattern?.prompt.test(line) ?? false,
          field: `modes.${r.name}.prompt`,
          pattern: r.pattern ? patternText(r.pattern.prompt) : '-',
          note: r.missing ? `not rendered: ${r.missing}; give --prompt` : undefined,
        })),
      ),
      ...table(
        'mode prompt shapes (any learned values)',
        dialect.promptShapes.map((s) => {
          const groups = s.prompt.exec(line)?.groups;
          return {
            matched: groups !== undefined,
            field: `modes.${s.name}.prompt`,
            pattern: patternText(s.prompt),
            note: groups ? `with ${values(definedOnly(groups)) || 'no values'}` : undefined,
          };
        }),
      ),
      ...table(
        'context_lines',
        dialect.modes.flatMap((m) =>
          m.contextLines.map((c, i) => ({
            matched: c.test(line),
            field: `modes.${m.name}.context_lines[${i}]`,
            pattern: patternText(c),
          })),
        ),
      ),
      ...table(
        'login',
        dialect.login.map((l, i) => ({
          matched: l.pattern.test(line),
          field: `login[${i}]`,
          pattern: patternText(l.pattern),
          note: `sends ${q(l.send)}`,
        })),
      ),
    );
  }
  out.push(
    ...table('pagers', responderRows('pagers', dialect.pagers, line)),
    ...table('input_prompts', responderRows('input_prompts', dialect.inputPrompts, line)),
    ...table(
      'input_wait.prompts (case ignored)',
      dialect.inputWait.prompts.map((p, i) => ({
        matched: p.pattern.test(line),
        field: `input_wait.prompts[${i}]`,
        pattern: patternText(p.pattern),
        note: `kind ${p.kind}`,
      })),
    ),
    ...table(
      'errors',
      dialect.errors.map((e, i) => ({
        matched: e.test(line),
        field: `errors[${i}]`,
        pattern: patternText(e),
      })),
    ),
    ...table(
      'transitions',
      dialect.transitions.flatMap((t, i) => [
        ...responderRows(`transitions[${i}].expect`, t.expect, line),
        ...t.failure.map((f, j) => ({
          matched: f.test(line),
          field: `transitions[${i}].failure[${j}]`,
          pattern: patternText(f),
        })),
      ]),
    ),
    ...table('detect', detectRows(dialect, line)),
  );
  return out.join('\n');
}

/** Each mode rendered on its own, so one that lacks a value does not hide the others. */
function renderEach(dialect: Dialect, learned: Record<string, string>): RenderedMode[] {
  return dialect.modes.map((m) => {
    try {
      return {
        name: m.name,
        pattern: renderModePrompts(
          { modes: [m], defaults: dialect.defaults, trusted: dialect.trusted },
          learned,
        )[0],
      };
    } catch (error) {
      return { name: m.name, missing: (error as Error).message };
    }
  });
}

function atOpen(dialect: Dialect, line: string, fromLine: Record<string, string> | undefined): string {
  if (fromLine) {
    const mode = modeOfLine(
      renderEach(dialect, fromLine).flatMap((r) => (r.pattern ? [r.pattern] : [])),
      line,
    );
    return `it is the first prompt: prompt_learn learns ${values(fromLine) || 'nothing'}, and the session opens in ${mode ? `mode ${mode.name}` : 'no known mode (no mode prompt matches it)'}`;
  }
  const answers = loginAnswersFor(dialect.login, line);
  if (answers.length > 0) {
    return answers
      .map(
        (i) =>
          `login[${i}] answers it with ${q(dialect.login[i]?.send ?? '')} (${LOGIN_ANSWERS_MAX} times at most)`,
      )
      .join('; ');
  }
  return `no first prompt and no login answer: the runner keeps waiting for a prompt (pressing Enter after ${FIND_PROMPT_MS} ms of quiet, ${FIND_PROMPT_TRIES} times at most)`;
}

function whileRunning(
  dialect: Dialect,
  line: string,
  mode: ModePattern | undefined,
  learned: Record<string, string>,
  rendered: RenderedMode[],
): string {
  const responders = [
    ...dialect.inputPrompts.map((r, i) => ({ field: `input_prompts[${i}]`, r })),
    ...dialect.pagers.map((r, i) => ({ field: `pagers[${i}]`, r })),
  ];
  const responder = responderFor(
    responders.map((x) => x.r),
    line,
  );
  const by = responders.find((x) => x.r === responder);
  if (by) {
    return by.r.secret === undefined
      ? `${by.field} answers it with ${q(by.r.send ?? '')}, and it is not output`
      : `${by.field} answers it with the ${by.r.secret} secret, once (without the secret, the command waits for send_input)`;
  }
  if (dialect.completion.strategy === 'prompt') {
    if (mode) return `it ends the command: it is the prompt of mode ${mode.name}`;
    const shape = promptShapeOf(dialect, line);
    if (shape) {
      const groups = definedOnly(shape.prompt.exec(line)?.groups);
      const relearned = { ...learned, ...groups };
      const newMode =
        modeOfLine(
          renderEach(dialect, relearned).flatMap((r) => (r.pattern ? [r.pattern] : [])),
          line,
        )?.name ?? shape.name;
      const changed = Object.keys(groups).filter((k) => learned[k] !== undefined && learned[k] !== groups[k]);
      const unrendered = rendered.some((r) => r.missing);
      const who =
        changed.length > 0
          ? `the ${shape.name} prompt of a device with ${changed.map((k) => `${k}=${groups[k]}`).join(', ')}, not the learned ${changed.map((k) => `${k}=${learned[k]}`).join(', ')}`
          : `shaped like the ${shape.name} prompt, with ${values(groups) || 'no values'}${unrendered ? ' (no first prompt was given to compare with)' : ''}`;
      return `no mode prompt matches, but it is ${who}: once the device is quiet for ${RELEARN_QUIET_MS} ms the runner learns ${values(groups) || 'it'} and ends the command in mode ${newMode}`;
    }
  }
  const question = inputWaitFor(dialect.inputWait.prompts, line);
  if (question) {
    const j = dialect.inputWait.prompts.indexOf(question);
    return `once the device is quiet for ${dialect.inputWait.quietMs} ms, the command is reported as waiting for input, kind ${question.kind} (input_wait.prompts[${j}])`;
  }
  return dialect.completion.strategy === 'prompt'
    ? 'it is output; the command goes on (no responder, mode prompt or input_wait prompt matches)'
    : 'it is output; the command goes on until its marker arrives';
}

function whileMoving(dialect: Dialect, line: string): string[] {
  return dialect.transitions.flatMap((t, i) => {
    const notes: string[] = [];
    const j = t.expect.findIndex((r) => r.pattern.test(line));
    const r = t.expect[j];
    if (r) {
      notes.push(
        `from ${t.from} to ${t.to}, transitions[${i}].expect[${j}] answers it with ${r.secret === undefined ? q(r.send ?? '') : `the ${r.secret} secret`}`,
      );
    }
    const k = t.failure.findIndex((f) => f.test(line));
    if (k >= 0)
      notes.push(`from ${t.from} to ${t.to}, transitions[${i}].failure[${k}] means the move failed`);
    return notes;
  });
}

function asOutput(dialect: Dialect, line: string): string {
  const notes: string[] = [];
  const found = errorLineIn(line, dialect.errors);
  notes.push(
    found
      ? `errors[${dialect.errors.indexOf(found.pattern)}] matches: the command fails with this line as its error`
      : 'no errors pattern matches: ordinary output',
  );
  for (const m of dialect.modes) {
    const i = m.contextLines.findIndex((c) => c.test(line));
    if (i >= 0) {
      notes.push(
        `just above a prompt of mode ${m.name}, it belongs to that prompt and is not output (modes.${m.name}.context_lines[${i}])`,
      );
    }
  }
  return notes.join('; ');
}

/** Detection looks for detect.prompt anywhere in the last line, then tests it on the line without its trailing blanks. */
function detection(dialect: Dialect, line: string): string[] {
  const notes: string[] = [];
  const { greeting, prompt, probes } = dialect.detect;
  if (prompt)
    notes.push(
      detectPromptFits(dialect, line) ? 'its prompt fits detect.prompt' : 'detect.prompt does not match it',
    );
  if (greeting?.test(line))
    notes.push('detect.greeting matches it (a greeting shown before the first prompt)');
  probes.forEach((p, i) => {
    if (p.expect.test(line))
      notes.push(`detect.probes[${i}].expect matches it, in the answer to ${q(p.send)}`);
  });
  return notes;
}

function detectPromptFits(dialect: Dialect, line: string): boolean {
  const prompt = learnFromPrompt(detectionDialect([dialect], DETECTION_CHANNEL), line)?.prompt;
  return prompt !== undefined && (dialect.detect.prompt?.test(prompt) ?? false);
}

function detectRows(dialect: Dialect, line: string): Row[] {
  const { greeting, prompt, probes } = dialect.detect;
  return [
    ...(prompt
      ? [{ matched: detectPromptFits(dialect, line), field: 'detect.prompt', pattern: patternText(prompt) }]
      : []),
    ...(greeting
      ? [{ matched: greeting.test(line), field: 'detect.greeting', pattern: patternText(greeting) }]
      : []),
    ...probes.map((p, i) => ({
      matched: p.expect.test(line),
      field: `detect.probes[${i}].expect`,
      pattern: patternText(p.expect),
    })),
  ];
}

function expectedMode(
  expected: string,
  line: string,
  mode: ModePattern | undefined,
  rendered: RenderedMode[],
): string {
  if (mode?.name === expected) return 'yes';
  const target = rendered.find((r) => r.name === expected);
  if (target?.missing)
    return `unknown: modes.${expected}.prompt is not rendered (${target.missing}); give --prompt`;
  const own = target?.pattern;
  if (mode && own?.prompt.test(line)) {
    return `no: modes.${mode.name}.prompt matches first (modes.${expected}.prompt matches too; the first mode that matches wins)`;
  }
  return `no: modes.${expected}.prompt rendered as ${own ? patternText(own.prompt) : '(none)'} does not match${mode ? `; it is the prompt of mode ${mode.name}` : ''}`;
}

function responderRows(field: string, responders: Responder[], line: string): Row[] {
  return responders.map((r, i) => ({
    matched: r.pattern.test(line),
    field: `${field}[${i}]`,
    pattern: patternText(r.pattern),
    note: r.secret === undefined ? `sends ${q(r.send ?? '')}` : `sends the ${r.secret} secret`,
  }));
}

function table(title: string, rows: Row[]): string[] {
  if (rows.length === 0) return [`${title}: none in this dialect`];
  const width = Math.max(...rows.map((r) => r.field.length));
  return [
    `${title}:`,
    ...rows.map(
      (r) =>
        `  ${(r.matched ? 'match' : 'no match').padEnd(8)}  ${r.field.padEnd(width)}  ${r.pattern}${r.note ? `  (${r.note})` : ''}`,
    ),
  ];
}
