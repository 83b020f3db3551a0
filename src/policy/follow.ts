import { inputKind } from './evaluation.js';
import { type Hazard, hazards } from './hazards.js';
import type { Word } from './word.js';

/**
 * What a command runs in turn, so that a rule about `reboot` also sees `sudo -u root -- reboot`,
 * `timeout 5 reboot`, `bash -c 'reboot'` and `find / -exec reboot \;`.
 */
export type Follow =
  /** A command it runs with these words; `appended`: more words are added at run time (xargs). */
  | { kind: 'command'; words: Word[]; appended?: boolean }
  /** A shell command line it runs (`bash -c STR`, `eval`, `watch`, `ssh host CMD`). */
  | { kind: 'script'; text: string }
  /** It runs what it reads on stdin, as a shell does: here-documents and here-strings given to it. */
  | { kind: 'stdin' }
  /** A string bash expands later (a prompt such as PS4): its substitutions run then. */
  | { kind: 'expansions'; text: string }
  /** Something the policy cannot follow. */
  | { kind: 'hazard'; hazard: Hazard };

/** A stand-in for the words xargs adds from its input: unknown, and as many as it likes. */
export const APPENDED: Word = { value: '', dynamic: true, plain: false, fields: true };

export function values(words: readonly Word[]): string[] {
  return words.map((w) => w.value);
}

/** The words as a short text for messages: hostile input with 200,000 words must not build 200,000. */
export function describe(words: readonly Word[]): string {
  const shown = words.slice(0, 24).filter((w) => w !== APPENDED);
  const text = values(shown).join(' ');
  return words.length > 24 ? `${text} ...` : text;
}

/** The command line these words make (joined by spaces), or a hazard when part of it is only known at run time. */
export function scriptOf(words: readonly Word[]): Follow {
  const text = values(words).join(' ');
  return words.some((w) => w.dynamic)
    ? { kind: 'hazard', hazard: hazards.dynamicScript(describe(words)) }
    : { kind: 'script', text };
}

/**
 * A file a shell or `source` reads commands from. Stdin is followed like a shell's stdin; a descriptor, a
 * device or a name known only at run time is input nobody can see; a plain file is a script an allow list
 * cannot read (and a deny list does not: a known limit).
 */
export function scriptFile(file: Word, text: string): Follow {
  if (!file.dynamic && /^(?:\/dev\/stdin|\/dev\/fd\/0|\/proc\/self\/fd\/0)$/.test(file.value)) {
    return { kind: 'stdin' };
  }
  return inputKind(file) === 'descriptor'
    ? { kind: 'hazard', hazard: hazards.descriptorInput(text) }
    : { kind: 'hazard', hazard: hazards.scriptFile(text) };
}

export function hazard(h: Hazard): Follow {
  return { kind: 'hazard', hazard: h };
}
