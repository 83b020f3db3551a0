import { closest } from '../util/suggest.js';
import type { Dialect, Responder } from './dialect.js';
import {
  contextStart,
  definedOnly,
  errorLineIn,
  inputWaitFor,
  learnFromPrompt,
  loginAnswersFor,
  type ModePattern,
  modeOfLine,
  patternText,
  promptShapeOf,
  renderModePrompts,
  responderFor,
} from './matching.js';
import type { DialectFile } from './schema.js';

export type DialectExamples = NonNullable<DialectFile['examples']>;

/** One example that does not do what it says (error), or does it with a catch (warning). */
export interface ExampleFinding {
  severity: 'error' | 'warning';
  /** The field of the example, e.g. ['examples', 'prompts', 2]. */
  path: (string | number)[];
  message: string;
}

export interface ExampleCheck {
  findings: ExampleFinding[];
  /** How many examples were checked. */
  checked: number;
}

const quote = (line: string) => JSON.stringify(line);
const values = (vars: Record<string, string>) =>
  Object.entries(vars)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ') || 'nothing';
const list = (patterns: { field: string; pattern: RegExp }[]) =>
  patterns.map((p) => `${p.field} ${patternText(p.pattern)}`).join('; ');

/** The responders a running command answers on its last line, in the runner's order, with their fields. */
function commandResponders(dialect: Dialect): { field: string; responder: Responder }[] {
  return [
    ...dialect.inputPrompts.map((responder, i) => ({ field: `input_prompts[${i}]`, responder })),
    ...dialect.pagers.map((responder, i) => ({ field: `pagers[${i}]`, responder })),
  ];
}

function answeredBy(dialect: Dialect, line: string): { field: string; responder: Responder } | undefined {
  const all = commandResponders(dialect);
  const responder = responderFor(
    all.map((r) => r.responder),
    line,
  );
  return all.find((r) => r.responder === responder);
}

/** Check every example the way the runner would meet its line. */
export function checkExamples(dialect: Dialect, examples: DialectExamples): ExampleCheck {
  const findings: ExampleFinding[] = [];
  const error = (path: (string | number)[], message: string) =>
    findings.push({ severity: 'error', path: ['examples', ...path], message });
  const warning = (path: (string | number)[], message: string) =>
    findings.push({ severity: 'warning', path: ['examples', ...path], message });
  const promptDialect = dialect.completion.strategy === 'prompt';
  const notForMarkers = (section: string) =>
    error([section], 'this dialect ends each command with a marker, not a prompt: remove these examples');
  let checked = 0;

  if (examples.prompts?.length && !promptDialect) notForMarkers('prompts');
  else {
    examples.prompts?.forEach((example, i) => {
      checked++;
      checkPrompt(
        dialect,
        example,
        (path, message) => error(['prompts', i, ...path], message),
        (message) => warning(['prompts', i], message),
      );
    });
  }

  if (examples.not_prompts?.length && !promptDialect) notForMarkers('not_prompts');
  else {
    examples.not_prompts?.forEach((line, i) => {
      checked++;
      const learned = learnFromPrompt(dialect, line);
      if (learned) {
        error(
          ['not_prompts', i],
          `${quote(line)} is taken for a first prompt: prompt_learn ${dialect.promptLearn ? patternText(dialect.promptLearn) : ''} learns ${values(learned)} from it (a banner line like it would be taken for the prompt at open)`,
        );
      }
      const shape = promptShapeOf(dialect, line);
      if (shape) {
        error(
          ['not_prompts', i],
          `${quote(line)} has the shape of modes.${shape.name}.prompt (${patternText(shape.prompt)}): as the last line, the runner would take it for the prompt of a renamed device once the device is quiet`,
        );
      }
    });
  }

  const errorPatterns = dialect.errors.map((pattern, i) => ({ field: `errors[${i}]`, pattern }));
  examples.errors?.forEach((line, i) => {
    checked++;
    if (!errorLineIn(line, dialect.errors)) {
      error(
        ['errors', i],
        errorPatterns.length === 0
          ? `${quote(line)} is no error: the dialect has no errors patterns`
          : `${quote(line)} is no error: no errors pattern matches it (${list(errorPatterns)})`,
      );
    }
  });
  examples.not_errors?.forEach((line, i) => {
    checked++;
    const found = errorLineIn(line, dialect.errors);
    if (found) {
      const field = errorPatterns.find((p) => p.pattern === found.pattern)?.field;
      error(
        ['not_errors', i],
        `${field} (${patternText(found.pattern)}) matches ${quote(line)}: a command that prints it would be reported as failed`,
      );
    }
  });

  const answerer = (section: 'pagers' | 'input_prompts', lines: string[] | undefined) => {
    lines?.forEach((line, i) => {
      checked++;
      const by = answeredBy(dialect, line);
      const own = commandResponders(dialect).filter((r) => r.field.startsWith(`${section}[`));
      if (!by) {
        error(
          [section, i],
          own.length === 0
            ? `${quote(line)} is not answered: the dialect has no ${section}`
            : `${quote(line)} is not answered: no ${section} pattern matches it (${own.map((r) => `${r.field} ${patternText(r.responder.pattern)}`).join('; ')})`,
        );
      } else if (!by.field.startsWith(`${section}[`)) {
        error(
          [section, i],
          `${quote(line)} is answered by ${by.field} (${patternText(by.responder.pattern)}) first, not by ${section}`,
        );
      }
    });
  };
  answerer('pagers', examples.pagers);
  answerer('input_prompts', examples.input_prompts);

  examples.questions?.forEach((question, i) => {
    checked++;
    const by = answeredBy(dialect, question.line);
    if (by && by.responder.secret === undefined) {
      error(
        ['questions', i],
        `${quote(question.line)} is answered by ${by.field} (${patternText(by.responder.pattern)}) before input_wait sees it`,
      );
      return;
    }
    const prompts = dialect.inputWait.prompts;
    const found = inputWaitFor(prompts, question.line);
    if (!found) {
      error(
        ['questions', i],
        prompts.length === 0
          ? `${quote(question.line)} is not seen as a question: the dialect has no input_wait.prompts`
          : `${quote(question.line)} is not seen as a question: no input_wait.prompts pattern matches it, ignoring case (${prompts.map((p, j) => `[${j}] ${p.kind} ${patternText(p.pattern)}`).join('; ')})`,
      );
    } else if (found.kind !== question.kind) {
      const j = prompts.indexOf(found);
      error(
        ['questions', i, 'kind'],
        `${quote(question.line)} is reported as ${found.kind}, not ${question.kind}: input_wait.prompts[${j}] (${patternText(found.pattern)}) matches first — list specific prompts before general ones`,
      );
    }
  });

  examples.login?.forEach((line, i) => {
    checked++;
    const learned = learnFromPrompt(dialect, line);
    if (learned) {
      error(
        ['login', i],
        `${quote(line)} is taken for the first prompt (prompt_learn learns ${values(learned)}), so no login answer is tried`,
      );
      return;
    }
    if (loginAnswersFor(dialect.login, line).length === 0) {
      error(
        ['login', i],
        dialect.login.length === 0
          ? `${quote(line)} gets no answer: the dialect has no login answers`
          : `${quote(line)} gets no answer: no login pattern matches it (${dialect.login.map((l, j) => `login[${j}] ${patternText(l.pattern)}`).join('; ')})`,
      );
    }
  });

  return { findings, checked };
}

type PromptExample = NonNullable<DialectExamples['prompts']>[number];

function checkPrompt(
  dialect: Dialect,
  example: PromptExample,
  error: (path: (string | number)[], message: string) => void,
  warning: (message: string) => void,
): void {
  const first = example.after ?? example.line;
  const firstField = example.after === undefined ? 'line' : 'after';
  const learned = learnFromPrompt(dialect, first);
  if (!learned) {
    error(
      [firstField],
      `${quote(first)} is no first prompt: prompt_learn ${dialect.promptLearn ? patternText(dialect.promptLearn) : ''} does not match it`,
    );
    return;
  }
  for (const [name, value] of Object.entries(example.learns ?? {})) {
    if (learned[name] !== value) {
      error(
        ['learns', name],
        `prompt_learn learns ${name}=${learned[name] ?? '(nothing)'} from ${quote(first)}, not ${value}`,
      );
    }
  }
  let modes: ModePattern[];
  try {
    modes = renderModePrompts(dialect, learned);
  } catch (cause) {
    error(
      [firstField],
      `the mode prompts cannot be rendered with ${values(learned)}: ${(cause as Error).message}`,
    );
    return;
  }
  const expected = modes.find((m) => m.name === example.mode);
  if (!expected) {
    const names = modes.map((m) => m.name);
    const guess = closest(example.mode, names);
    error(
      ['mode'],
      `no mode named "${example.mode}" — ${guess ? `did you mean "${guess}"? ` : ''}modes: ${names.join(', ')}`,
    );
    return;
  }
  const found = modeOfLine(modes, example.line);
  if (!found) {
    const shape = promptShapeOf(dialect, example.line);
    const groups = shape?.prompt.exec(example.line)?.groups ?? {};
    error(
      ['line'],
      `${quote(example.line)} is in no mode (expected ${example.mode}): modes.${example.mode}.prompt rendered as ${patternText(expected.prompt)} does not match${
        shape
          ? `; it has the shape of modes.${shape.name}.prompt with ${values(definedOnly(groups))}, so the runner would take it for a renamed device's prompt only after the device is quiet`
          : ''
      }`,
    );
    return;
  }
  if (found.name !== example.mode) {
    const alsoExpected = expected.prompt.test(example.line);
    error(
      ['mode'],
      `${quote(example.line)} is in mode ${found.name}, not ${example.mode}: modes.${found.name}.prompt rendered as ${patternText(found.prompt)} matches first${
        alsoExpected
          ? ` (modes.${example.mode}.prompt matches too, but the first mode that matches wins: order the modes)`
          : `, and modes.${example.mode}.prompt rendered as ${patternText(expected.prompt)} does not match`
      }`,
    );
    return;
  }
  for (const other of modes) {
    if (other !== found && other.prompt.test(example.line)) {
      warning(
        `${quote(example.line)} also matches modes.${other.name}.prompt (rendered as ${patternText(other.prompt)}): only the first mode that matches counts, so the order of modes decides`,
      );
    }
  }
  const by = answeredBy(dialect, example.line);
  if (by && by.responder.secret === undefined) {
    warning(
      `${by.field} (${patternText(by.responder.pattern)}) matches this prompt too: the runner answers it with ${JSON.stringify(by.responder.send ?? '')} before it looks for a prompt, so the command would not end here`,
    );
  }
  checkContext(example, found, error);
}

/** Lines above the prompt are dropped while each matches one of the mode's context_lines, bottom up. */
function checkContext(
  example: PromptExample,
  mode: ModePattern,
  error: (path: (string | number)[], message: string) => void,
): void {
  const context = example.context ?? [];
  if (context.length === 0) return;
  const text = [...context, example.line].join('\n');
  const promptStart = text.length - example.line.length;
  if (contextStart(text, promptStart, mode.contextLines) === 0) return;
  // The runner walks up from the prompt and stops at the first line that is not a context line.
  for (let k = context.length - 1; k >= 0; k--) {
    const line = context[k] as string;
    if (mode.contextLines.some((c) => c.test(line))) continue;
    error(
      ['context', k],
      mode.contextLines.length === 0
        ? `${quote(line)} does not belong to the prompt: mode ${mode.name} has no context_lines`
        : `${quote(line)} does not belong to the prompt: none of modes.${mode.name}.context_lines matches it (${mode.contextLines.map((c) => patternText(c)).join('; ')})`,
    );
    return;
  }
}
