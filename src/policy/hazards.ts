// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the messages quote bash syntax, ${...} included
/**
 * Something in a command line that the policy cannot follow to the commands it runs. The splitter reports
 * it next to the commands; the policy refuses the line when the hazard applies to it.
 */
export interface Hazard {
  /** Names the hazard in a refusal, where a rule would be named: `(command line known only at run time)`. */
  rule: string;
  /** The part of the input concerned. */
  text: string;
  /** Why the policy cannot follow it, and what to write instead; follows "not allowed: ". */
  reason: string;
  /**
   * `any`: refused under every policy, deny lists included: it runs commands that no rule can see.
   * `allow-list`: refused once allow-listing is on: what an allow list cannot analyse, it refuses.
   */
  refusedUnder: 'any' | 'allow-list';
}

function quote(text: string): string {
  const short = text.length <= 120 ? text : `${text.slice(0, 120)}...`;
  return `"${short}"`;
}

/** Refused under every policy. */
function always(rule: string, text: string, why: string): Hazard {
  return { rule, text, reason: `${quote(text)} ${why}`, refusedUnder: 'any' };
}

/** Refused under an allow list. */
function allowList(rule: string, text: string, why: string): Hazard {
  return { rule, text, reason: `${quote(text)} ${why}`, refusedUnder: 'allow-list' };
}

// Every hazard the policy knows, so the wording stays consistent and the documentation can follow it.
export const hazards = {
  // ---- refused under every policy -------------------------------------------------------------------
  dynamicScript: (text: string) =>
    always(
      '(command line known only at run time)',
      text,
      'runs a command line that is only complete when it runs (it holds an expansion or a word from input): the policy cannot see what it runs; write the command line out',
    ),
  splitWords: (text: string) =>
    always(
      '(words known only at run time)',
      text,
      'has an unquoted expansion, glob or brace list before the command it runs: it may become several words or none, so the command cannot be told; quote it ("$x") or write it out',
    ),
  commandTable: (text: string, name: string) =>
    always(
      '(redefines a command name)',
      text,
      `sets ${name}, which changes what a command name runs in later commands: the policy cannot follow that`,
    ),
  alias: (text: string) =>
    always(
      '(alias)',
      text,
      'defines an alias or turns aliases on: an alias changes what a command name runs in later commands, which the policy cannot follow',
    ),
  promptExpansion: (text: string) =>
    always(
      '(prompt expansion)',
      text,
      "expands a variable's value as a prompt (@P), which runs the $(...) the value holds: the policy cannot see the value",
    ),
  descriptorInput: (text: string) =>
    always(
      '(commands from a descriptor)',
      text,
      'runs commands read from a file descriptor, a device or a process substitution, which the policy cannot see',
    ),
  codeFromData: (text: string, name: string) =>
    always(
      '(code written from data)',
      text,
      `writes ${name}, whose value bash runs or expands later, from data the policy cannot read`,
    ),
  loadsBuiltin: (text: string) =>
    always(
      '(loads a builtin)',
      text,
      'loads a builtin from a shared library: the policy cannot see what it runs, and it can replace any command name',
    ),
  history: (text: string) =>
    always('(history)', text, 'runs commands from the shell history, which the policy cannot see'),
  keyBinding: (text: string) =>
    always('(key binding)', text, 'binds a key to a command line that runs later, unseen by the policy'),
  commandNotFound: (text: string) =>
    always(
      '(command_not_found_handle)',
      text,
      'defines command_not_found_handle, which runs for every command name that is not found: the policy cannot follow it',
    ),
  unknownVariable: (text: string) =>
    always(
      '(environment name known only at run time)',
      text,
      'sets an environment variable whose name is only known when it runs: it could define a function (BASH_FUNC_...)',
    ),

  // ---- refused under an allow list -------------------------------------------------------------------
  arithmetic: (text: string) =>
    allowList(
      '(arithmetic on a variable)',
      text,
      "evaluates a variable's value as arithmetic (an array subscript, $(( )), (( )), let, ${x:i}), and that runs any $(...) the value holds (a[$(cmd)]): an allow list cannot see the value; write numbers",
    ),
  indirection: (text: string) =>
    allowList(
      '(indirection)',
      text,
      "expands a variable named by another variable's value (${!x}, a nameref), which runs any array subscript that value holds: an allow list cannot see it",
    ),
  conditional: (text: string) =>
    allowList(
      '([[ ]] on variables)',
      text,
      'tests variables or arithmetic in [[ ]], which evaluates array subscripts in their values: an allow list cannot see them; use [ ] or test with quoted strings',
    ),
  variable: (text: string, name: string) =>
    allowList(
      '(variable bash uses to run commands)',
      text,
      `sets ${name}, which decides what a command runs or how a line is read (PATH, LD_*, IFS, BASH_ENV ...): an allow list refuses it`,
    ),
  environment: (text: string, name: string) =>
    allowList(
      '(environment for a command)',
      text,
      `gives a command the environment variable ${name}, which programs may read to decide what to run: under an allow list only LANG, LC_*, TZ, TERM, COLUMNS, LINES and NO_COLOR may be set in front of a command`,
    ),
  upperCaseVariable: (text: string, name: string) =>
    allowList(
      '(environment variable)',
      text,
      `sets ${name}, an upper-case (environment) variable that programs may read to decide what to run once it is exported: under an allow list, name shell variables with lower-case letters`,
    ),
  scriptFile: (text: string) =>
    allowList(
      '(script file)',
      text,
      'runs the commands in a file, which an allow list cannot read: allow the script by its own path, or run its commands directly',
    ),
  scriptFromPipe: (text: string) =>
    allowList(
      '(commands from a pipe)',
      text,
      "runs command lines read from another command's output, which an allow list cannot read",
    ),
  functionShadow: (text: string, name: string) =>
    allowList(
      '(function named like an allowed command)',
      text,
      `defines a function named ${name}, which an allow rule allows: later calls of ${name} would run the function instead`,
    ),
  outputFile: (text: string, targets: string) =>
    allowList(
      '(output redirection)',
      text,
      `writes its output to ${targets}, and no allow rule for it permits that: write the rule as "COMMAND > PATH" (e.g. "sort > /tmp/*") to permit it`,
    ),
} as const;
