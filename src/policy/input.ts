import { analyze, type CheckOptions, type CompiledPolicy, checkAnalysis, checkCommand } from './policy.js';

/**
 * Text typed into a running command (send_input, send_keys) goes to whatever reads it: the answer to a
 * question, or, when a shell or an interpreter is reading, command lines of their own. This decides which
 * it is and checks it. It keeps no state: the caller passes back `pending` (text typed on the current line
 * without Enter yet) so that a command typed in pieces is checked whole.
 */

/** What the running command waits for, as its dialect's `input_wait` recognized it (the `kind`). */
export interface InputWait {
  kind: string;
  /** The question as shown, for messages. */
  prompt?: string;
}

export interface TypedInput {
  /** What is typed, line endings and keys included (send_input's text and Enter, send_keys' bytes). */
  text: string;
  /** What the running command waits for; undefined when no question was recognized. */
  waiting?: InputWait;
  /** The command line that started the running command; under an allow list it must still be allowed. */
  running?: string;
  /** Typed earlier on the current line, not ended yet: the `pending` of the previous decision. */
  pending?: string;
}

export type InputDecision =
  | {
      allowed: true;
      /** `answer`: a plausible answer to the question; `commands`: checked as command lines; `key`: an
       * interrupt or end-of-input key alone; `unchecked`: no policy. */
      as: 'answer' | 'commands' | 'key' | 'unchecked';
      /** Commands checked. */
      checked: number;
      /** Text on the current line without Enter yet: pass it back as `pending` with the next input. */
      pending: string;
    }
  | { allowed: false; command: string; rule: string; reason: string };

/**
 * The kinds of question whose answers are allowed, and what a plausible answer is (one line, without the
 * Enter that ends it). Any other kind (a generic `question`, which also matches an interpreter's `>>>`
 * prompt) counts as no recognized question.
 */
const ANSWERS: Readonly<Record<string, (line: string) => boolean>> = {
  yes_no: (line) => /^\s*(?:y|yes|n|no)?\s*$/i.test(line),
  confirm: (line) => /^\s*(?:y|yes|n|no)?\s*$/i.test(line),
  // Any single key, or Enter alone.
  press_key: (line) => [...line].length <= 1,
  // Paging and searching, never a pager's command escapes (less `!cmd`, `|cmd`, `v`, `s file`, `:e file`).
  pager: (line) => /^(?:[ qQbBfFjJkKdDuUgGnNhHpP]|\/[^\n]*|\x1b\[[ABCD56]~?|\x1b\[[HF])?$/.test(line),
};

export const ANSWER_KINDS: readonly string[] = ['password', ...Object.keys(ANSWERS)];

/** Keys that only interrupt, suspend or end input: they type no command. */
const SIGNAL_KEYS = /^[\x03\x04\x1a\x1c]+$/;

const LINE_BREAK = /\r\n|\r|\n/;

/**
 * Whether `input.text` may be typed into the running command. Answers to a recognized question are allowed
 * (a `y`, a password, Enter); multi-line text, or text that is no plausible answer, is checked as command
 * lines. With no recognized question the text is checked line by line as commands: under a deny list that
 * is all; under an allow list the running command itself must also still be allowed.
 */
export function checkInput(policy: CompiledPolicy, input: TypedInput, options: CheckOptions): InputDecision {
  const typed = (input.pending ?? '') + input.text;
  const lines = typed.split(LINE_BREAK);
  const tail = lines.pop() as string; // after the last Enter: not submitted yet
  if (!policy.active) return { allowed: true, as: 'unchecked', checked: 0, pending: tail };
  if (SIGNAL_KEYS.test(input.text)) {
    // Ctrl+D on an unfinished line hands that line over as it is (a shell reading stdin runs it).
    if (input.text.includes('\x04') && (input.pending ?? '').trim() !== '') {
      return checkLines(policy, [input.pending as string], '', input.running, options);
    }
    return { allowed: true, as: 'key', checked: 0, pending: '' };
  }
  const kind = input.waiting?.kind;
  if (kind === 'password') {
    // The first line answers, unseen: a password is never checked, quoted or kept. What follows is typed
    // to whatever reads after the question.
    if (lines.length === 0) return { allowed: true, as: 'answer', checked: 0, pending: '' };
    const rest = lines.slice(1);
    if (rest.length === 0 && tail === '') return { allowed: true, as: 'answer', checked: 0, pending: '' };
    return checkLines(policy, rest, tail, input.running, options);
  }
  const plausible = kind === undefined ? undefined : ANSWERS[kind];
  // One answer: typed without Enter yet (it stays pending), or one line ended by Enter and nothing after.
  if (plausible && lines.length === 0 && plausible(tail)) {
    return { allowed: true, as: 'answer', checked: 0, pending: tail };
  }
  if (plausible && lines.length === 1 && tail === '' && plausible(lines[0] as string)) {
    return { allowed: true, as: 'answer', checked: 0, pending: '' };
  }
  if (kind === 'pager') {
    // A pager runs `!cmd` (and `|mark cmd`) in a shell: check the command, not the escape.
    const shellCommand = (line: string) => line.replace(/^\s*(?:!|\|.)/, '');
    return checkLines(policy, lines.map(shellCommand), shellCommand(tail), input.running, options);
  }
  return checkLines(policy, lines, tail, input.running, options);
}

/** Complete lines are commands; the unfinished tail is checked too when it can be read on its own. */
function checkLines(
  policy: CompiledPolicy,
  lines: string[],
  tail: string,
  running: string | undefined,
  options: CheckOptions,
): InputDecision {
  if (policy.allowListing) {
    const refusal = runningRefusal(policy, running, options);
    if (refusal) return refusal;
  }
  for (const line of [...lines, tail]) {
    if (historyExpansion(line)) {
      return {
        allowed: false,
        command: shorten(line),
        rule: '(history expansion)',
        reason: `not allowed: "${shorten(line)}" would be rewritten by an interactive shell's history expansion (!, ^old^new) into a line the policy has not seen; quote the ! or leave it out`,
      };
    }
  }
  let checked = 0;
  if (lines.length > 0) {
    const decision = checkCommand(policy, lines.join('\n'), options);
    if (!decision.allowed) return typedRefusal(decision);
    checked = decision.checked;
  }
  if (tail.trim() !== '') {
    // Not run until Enter, so a tail the splitter cannot read yet (an open quote) waits for the rest.
    const analysis = analyze(tail, options);
    if (!('refusal' in analysis)) {
      const decision = checkAnalysis(policy, analysis, options.abbreviations);
      if (!decision.allowed) return typedRefusal(decision);
    }
  }
  return { allowed: true, as: 'commands', checked, pending: tail };
}

/** Under an allow list, typing into a command is allowed only while that command is itself allowed. */
function runningRefusal(
  policy: CompiledPolicy,
  running: string | undefined,
  options: CheckOptions,
): Extract<InputDecision, { allowed: false }> | undefined {
  if (running === undefined) {
    return {
      allowed: false,
      command: '(typed input)',
      rule: '(no allow rule)',
      reason:
        'not allowed: the running command asks no question the policy recognizes, and which command reads the text is not known: an allow list refuses typed input it cannot attribute',
    };
  }
  const decision = checkCommand(policy, running, options);
  if (decision.allowed) return undefined;
  return {
    allowed: false,
    command: decision.command,
    rule: decision.rule,
    reason: `not allowed: the running command asks no question the policy recognizes, so the text would be read as input to "${shorten(running)}", which the allow list does not allow (${decision.reason})`,
  };
}

function typedRefusal(
  decision: Extract<ReturnType<typeof checkCommand>, { allowed: false }>,
): Extract<InputDecision, { allowed: false }> {
  return {
    ...decision,
    reason: `typed input is checked as command lines when it answers no recognized question: ${decision.reason}`,
  };
}

/**
 * An interactive shell rewrites a typed line before it runs it: `!!`, `!-2`, `!rm`, `!#` and `^old^new`
 * bring back earlier lines (or any text `history -s` put there). `!` before a blank, `=`, `(` or the end of
 * the line, and anything in single quotes, is left alone.
 */
function historyExpansion(line: string): boolean {
  if (/^\s*\^/.test(line)) return true;
  return /!(?![\s=(]|$)/.test(line.replace(/'[^']*'/g, "''"));
}

function shorten(text: string): string {
  return text.length <= 120 ? text : `${text.slice(0, 120)}...`;
}
