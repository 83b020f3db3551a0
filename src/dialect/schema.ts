import { z } from 'zod';

/**
 * The shape of a dialect YAML file. Field names are snake_case because network engineers write them.
 * Every regular expression is JavaScript syntax, without surrounding slashes.
 */

const regex = z.string().min(1).describe('A JavaScript regular expression, without surrounding slashes.');
const template = z
  .string()
  .describe(
    'Text with {{name}} placeholders, optionally filtered: {{command|shell_quote}}, {{host|regex_escape}}.',
  );
const name = z.string().regex(/^[a-z][a-z0-9_-]*$/, 'lower-case letters, digits, "_" and "-"');

const channel = z
  .object({
    type: z
      .enum(['exec', 'shell'])
      .describe('exec: run `command` on an exec channel; shell: the login shell or device CLI.'),
    pty: z
      .union([
        z.literal(false),
        z
          .object({
            term: z.string().default('vt100'),
            cols: z.number().int().positive().default(511),
            rows: z.number().int().positive().default(24),
          })
          .strict(),
      ])
      .default(false)
      .describe('false for no terminal (fastest, exact bytes); a terminal for CLIs that need one.'),
    command: z.string().optional().describe('The command an exec channel runs.'),
  })
  .strict();

const markerCompletion = z
  .object({
    strategy: z.literal('marker'),
    send: template.describe(
      'Sent for each command. Placeholders: command, marker_head, marker_tail (the marker split in two so the sent text never matches by itself).',
    ),
    match: regex.describe(
      'Where the command ends; must contain {{marker}}. A named group `status` carries the exit status.',
    ),
  })
  .strict();

const promptCompletion = z
  .object({
    strategy: z.literal('prompt'),
    send: template.default('{{command}}').describe('Sent for each command; the line ending is added.'),
  })
  .strict()
  .describe('The command ends when the prompt of a known mode is the last line received.');

const responder = z
  .object({
    pattern: regex.describe('Matched against the last line received, while the line is still open.'),
    send: z.string().optional().describe('Text to answer with (no line ending is added).'),
    secret: name.optional().describe('Answer with this named secret (enable, sudo) and a line ending.'),
  })
  .strict()
  .refine((r) => (r.send === undefined) !== (r.secret === undefined), {
    message: 'give exactly one of `send` or `secret`',
  });

const mode = z
  .object({
    prompt: template.describe(
      'Regex for the whole prompt line, e.g. "{{host|regex_escape}}#\\\\s?". Anchored at both ends by the runner.',
    ),
    context_lines: z
      .array(regex)
      .default([])
      .describe('Lines that come just before the prompt and belong to it ([edit], {master:0}); not output.'),
  })
  .strict();

const transition = z
  .object({
    from: name,
    to: name,
    send: template.describe('What moves the device from `from` to `to`, e.g. "{{enable_command}}".'),
    expect: z.array(responder).default([]).describe('Prompts on the way, e.g. the enable password prompt.'),
    failure: z.array(regex).default([]).describe('Output that means the move failed, e.g. "% Bad secrets".'),
  })
  .strict();

const step = z
  .object({
    send: template.describe('A command to run once the session opens.'),
    capture: z
      .record(z.string().regex(/^[a-z_][a-z0-9_]*$/i), regex)
      .optional()
      .describe('Variables to learn from the output: name → regex whose first group is the value.'),
    optional: z
      .boolean()
      .default(false)
      .describe(
        'A device that refuses this step (an old release without the command) still opens; the refusal is noted.',
      ),
  })
  .strict();

const interrupt = z
  .object({
    send: z
      .string()
      .optional()
      .describe('Bytes written to the channel, e.g. "\\u0003" for Ctrl+C on a terminal.'),
    exec: template.optional().describe('A command run on a second channel of the same connection.'),
    force_exec: template
      .optional()
      .describe(
        'Run on a second channel when the command ignored the interrupt for grace_ms: ends it for good.',
      ),
    grace_ms: z.number().int().positive().default(2000).describe('How long a command may take to stop.'),
  })
  .strict();

const detect = z
  .object({
    greeting: regex.optional().describe('Matches the text a fresh session shows before its first prompt.'),
    prompt: regex.optional().describe('Matches the first prompt line.'),
    probes: z
      .array(
        z
          .object({
            send: z.string().min(1).describe('A harmless command, e.g. "show version".'),
            expect: regex.describe('What its answer contains on this platform only (searched line by line).'),
          })
          .strict(),
      )
      .default([])
      .describe(
        "Tried in order when the prompt fits several dialects. Dialects that send the same text share one try, so use common commands; a deliberately invalid command whose error message is worded like no other platform's also works.",
      ),
  })
  .strict();

const deviceLine = z
  .string()
  .min(1)
  .describe('A line exactly as the device prints it, trailing spaces included.');

const examples = z
  .object({
    prompts: z
      .array(
        z
          .object({
            line: deviceLine.describe(
              'A prompt exactly as the device prints it, e.g. "csr1000v(config-if)#".',
            ),
            mode: name.describe(
              'The mode this prompt means: the first mode whose prompt matches must be this one.',
            ),
            after: deviceLine
              .optional()
              .describe(
                "The session's first prompt, which the values (host...) were learned from. Without it, `line` is the first prompt and its own values are learned.",
              ),
            learns: z
              .record(z.string(), z.string())
              .optional()
              .describe('Values prompt_learn must take from the first prompt, e.g. { host: csr1000v }.'),
            context: z
              .array(z.string())
              .optional()
              .describe(
                'Lines printed just above the prompt that belong to it, top to bottom ("", "[edit]"): each must be one of the mode\'s context_lines.',
              ),
          })
          .strict(),
      )
      .optional()
      .describe('Prompts and the mode each one means, checked the way the runner matches them.'),
    not_prompts: z
      .array(deviceLine)
      .optional()
      .describe(
        'Output lines that look like prompts but are not (a description ending in #): neither prompt_learn nor the shape of any mode prompt may match them.',
      ),
    errors: z
      .array(deviceLine)
      .optional()
      .describe('Output lines that mean the command failed: some `errors` pattern must match each.'),
    not_errors: z
      .array(deviceLine)
      .optional()
      .describe('Ordinary output lines: no `errors` pattern may match them.'),
    pagers: z
      .array(deviceLine)
      .optional()
      .describe(
        'Pager prompts as the last line shows them (" --More-- "): a `pagers` entry must answer each.',
      ),
    input_prompts: z
      .array(deviceLine)
      .optional()
      .describe('Prompts an `input_prompts` entry must answer, e.g. "[sudo] password for bob: ".'),
    questions: z
      .array(
        z
          .object({
            line: deviceLine.describe(
              'The question as the last line shows it, e.g. "Destination filename [startup-config]? ".',
            ),
            kind: name.describe(
              'The input_wait kind the first matching prompt must have (confirm, yes_no, password...).',
            ),
          })
          .strict(),
      )
      .optional()
      .describe('Questions a command may ask, and the input_wait kind each must be reported as.'),
    login: z
      .array(deviceLine)
      .optional()
      .describe(
        'What a device may show before its first prompt (a root shell prompt): a `login` entry must answer each, and prompt_learn must not take it.',
      ),
  })
  .strict()
  .describe(
    'Lines as real devices print them, and what the patterns above must make of them. `mcp-ssh-session dialect validate` checks each; the runner ignores them.',
  );

const commandPattern = z
  .string()
  .min(1)
  .describe(
    'A command policy pattern, as in the config file: command words ("show ip route"), * for one word, re:<regex>.',
  );

const readOnly = z
  .object({
    description: z.string().optional().describe('What the preset allows, in a line, for check-config.'),
    allow: z
      .array(commandPattern)
      .default([])
      .describe('Commands that only read state, e.g. [show, ping]. Everything else is refused.'),
    filters: z
      .array(z.string().min(1))
      .default([])
      .describe(
        'Output filters allowed after the pipe character, e.g. [include, exclude, begin]: `include` allows `show run | include x`, not `include x` alone.',
      ),
    deny: z
      .array(
        z
          .object({
            pattern: commandPattern.describe(
              'What an allowed command could still do, e.g. redirect, tee, ">".',
            ),
            why: z
              .string()
              .min(1)
              .describe('Why it is refused, shown to the agent: "it writes the output to a file".'),
          })
          .strict(),
      )
      .default([])
      .describe('Refused even where allow would allow it (deny wins): filters or options that write files.'),
  })
  .strict()
  .describe(
    "The read-only preset for hosts with this dialect (`policy: { preset: read-only }` in the config): look, never change. In a dialect that extends another, these lists add to the parent's.",
  );

const policySection = z
  .object({
    syntax: z
      .enum(['cli', 'shell'])
      .optional()
      .describe(
        'How the command policy reads a line: cli (one command a line, pipes to filters) or shell (Unix shell syntax). Default: cli when abbreviations is true, else shell.',
      ),
    run_prefixes: z
      .array(z.string().regex(/^\S+$/, 'one word'))
      .optional()
      .describe(
        'Words that run the rest of the line as another command, e.g. [do] for running an exec command in configuration mode. The line is checked both ways; a prefix may be abbreviated to 2 letters or more.',
      ),
    shell_prefixes: z
      .array(z.string().regex(/^\S+$/, 'one word'))
      .optional()
      .describe(
        "Words that run the rest of the line in the device's own Unix shell: the rest is checked as a shell command line.",
      ),
    shell_modes: z
      .array(name)
      .optional()
      .describe(
        'Modes whose prompt is a shell (the Unix shell underneath a device CLI): input there is read as a shell command line.',
      ),
    pipe: z
      .string()
      .max(1)
      .optional()
      .describe('The character that sends output to a filter (default "|"); "" when the CLI has none.'),
    separators: z
      .array(z.string().length(1))
      .optional()
      .describe('Characters that separate two commands on one line (default [";"]).'),
    read_only: readOnly.optional(),
  })
  .strict()
  .describe(
    "How the command policy reads this platform's command lines, and the platform's read-only preset. The policy itself names no device: this is where that knowledge lives.",
  );

const valueName = z.string().regex(/^[a-z_][a-z0-9_]*$/, 'a template value name such as minutes or comment');

const configStep = z
  .object({
    send: template.describe(
      'A command. Values: line, minutes, seconds, hms (HH:MM:SS), comment, name (a checkpoint), session (a name made for this change), checkpoint, and what earlier steps captured.',
    ),
    when: z
      .array(valueName)
      .optional()
      .describe('Sent only when every one of these values is given (e.g. [comment], [minutes]).'),
    unless: z.array(valueName).optional().describe('Left out when any of these values is given.'),
    capture: z
      .array(regex)
      .optional()
      .describe(
        'Patterns searched line by line in the answer; their named groups become values (checkpoint, commit_id, session, minutes_left).',
      ),
    failure: z
      .array(regex)
      .optional()
      .describe("Answers that mean the step failed, besides the dialect's `errors`."),
    optional: z.boolean().default(false).describe('A refusal of this step is noted, not fatal.'),
  })
  .strict();

const configSteps = z
  .array(z.union([template, configStep]))
  .describe('Commands in order: a string, or a step with conditions and captures.');

const configSession = z
  .object({
    description: z.string().optional().describe('How this platform holds a change, in a line.'),
    base_mode: name.describe(
      'The mode every operation starts from and returns to (operational, privileged); reached through `transitions`.',
    ),
    mode: name.describe(
      'The mode lines are loaded in: a line after which the prompt is of another mode left the candidate, and stops the change.',
    ),
    candidate: z
      .boolean()
      .default(true)
      .describe(
        'true: lines wait in a candidate until commit (dry_run possible). false: each line takes effect as typed; a checkpoint taken first is what `discard` returns to.',
      ),
    requires: z
      .array(
        z
          .object({
            send: template.describe('A command run in base_mode before anything changes, e.g. a show.'),
            missing: z
              .array(regex)
              .min(1)
              .describe('Answers that mean the platform cannot hold a change safely.'),
            why: z
              .string()
              .min(1)
              .describe('Told to the agent when a `missing` pattern matches: what to set up.'),
          })
          .strict(),
      )
      .default([])
      .describe('Checks that refuse a change the platform cannot undo (no archive configured...).'),
    checkpoint: configSteps
      .default([])
      .describe('Run in base_mode before entering: save what discard and rollback return to.'),
    checkpoint_name: template
      .optional()
      .describe(
        'The name of the checkpoint the `checkpoint` steps save, e.g. "{{session}}", when no step captures `checkpoint`.',
      ),
    enter: configSteps.describe(
      'From base_mode into the candidate (must end in `mode`): exclusive or private where possible.',
    ),
    load: template.default('{{line}}').describe('Sent for each configuration line.'),
    rejected: z
      .array(regex)
      .default([])
      .describe(
        'Answers to a line that mean the device rejected it (besides `errors`): loading stops there.',
      ),
    forbidden: z
      .array(regex)
      .default([])
      .describe(
        'Lines refused before anything is sent: they would commit, discard or leave behind the diff (commit, abort, end).',
      ),
    diff: configSteps.describe('Shows what the change does; the answer of the last step is the diff.'),
    no_diff: z
      .array(regex)
      .default([])
      .describe(
        'A diff that one of these matches as a whole (trimmed) means no change; an empty one always does.',
      ),
    check: configSteps.default([]).describe('Validates the candidate without committing it (optional).'),
    commit: configSteps.describe('Commits for good.'),
    commit_confirmed: configSteps
      .optional()
      .describe('Commits so that the device rolls back by itself after {{minutes}} unless confirmed.'),
    confirm: configSteps.optional().describe('Confirms a commit_confirmed, from base_mode.'),
    discard_enter: configSteps
      .optional()
      .describe(
        'How discard_changes enters the candidate it drops, when not as `enter` does (a shared one).',
      ),
    discard: configSteps.describe(
      'Drops what was loaded (from the candidate, after a rejected line or a dry run).',
    ),
    rollback: configSteps
      .optional()
      .describe('Undoes the last commit, or returns to the checkpoint {{name}}, from base_mode.'),
    rollback_default: z
      .string()
      .optional()
      .describe(
        'The {{name}} rollback uses when the caller names no checkpoint and none is remembered (e.g. 1).',
      ),
    state: configSteps
      .default([])
      .describe(
        'Run from base_mode to report pending state; their answers are matched by the patterns below.',
      ),
    pending_confirm: z
      .array(regex)
      .default([])
      .describe('In the answers of `state`: a commit waits for confirmation (named groups become values).'),
    pending_candidate: z
      .array(regex)
      .default([])
      .describe('In the answers of `state`: an uncommitted candidate exists.'),
    state_diff: configSteps
      .default([])
      .describe(
        'Shows the uncommitted candidate for get_config_state; the answer of the last step is the diff.',
      ),
    line_by_line: z
      .object({
        enter: configSteps.describe('Into plain configuration mode.'),
        commit: configSteps.default([]).describe('After the last line (e.g. save the configuration).'),
      })
      .strict()
      .optional()
      .describe(
        'When `requires` fails and the caller asks for it: lines applied one by one, no diff, no undo.',
      ),
    secrets: z
      .array(regex)
      .default([])
      .describe(
        'Patterns whose named group `secret` is masked in diffs, results and the audit log (passwords in lines).',
      ),
  })
  .strict()
  .describe(
    'How to change the configuration safely: a private or exclusive candidate, its diff, commit (confirmed), discard and rollback. Used by the configure tools; a dialect without it has no configuration sessions.',
  );

/** Every field is optional here: a dialect that `extends` another only states what differs. */
export const dialectFileSchema = z
  .object({
    $schema: z.string().optional(),
    name: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'lower-case letters, digits, ".", "_" and "-"'),
    description: z.string().optional(),
    extends: z
      .string()
      .optional()
      .describe('Name of a dialect this one builds on; its fields are the defaults.'),
    channel: channel.optional(),
    line_ending: z.string().optional().describe('What ends a line sent to the device (default "\\n").'),
    completion: z.discriminatedUnion('strategy', [markerCompletion, promptCompletion]).optional(),
    echo: z
      .boolean()
      .optional()
      .describe('The device echoes each command line: the first line is not output.'),
    abbreviations: z
      .boolean()
      .optional()
      .describe(
        'The CLI accepts unique prefixes of keywords (sh run = show running-config): command policy patterns then match abbreviated words.',
      ),
    prompt_learn: regex
      .optional()
      .describe('Finds the first prompt at open; its named groups (e.g. host) become template values.'),
    modes: z.record(name, mode).optional(),
    privileged_mode: name.optional().describe('The mode enable_password brings the device to.'),
    transitions: z.array(transition).optional(),
    defaults: z
      .record(z.string(), z.string())
      .optional()
      .describe('Template values unless the caller gives them.'),
    on_open: z.array(step).optional(),
    on_close_exec: template
      .optional()
      .describe(
        "Run on a second channel when the session is closed: ends what the session started on the host (a shell's process group). Exit status 0 means nothing is left.",
      ),
    on_close: z
      .array(z.object({ send: template }).strict())
      .optional()
      .describe(
        'Sent, without waiting for answers, when the session is closed while idle (e.g. a polite logout).',
      ),
    login: z
      .array(z.object({ pattern: regex, send: z.string() }).strict())
      .optional()
      .describe(
        'Answers to what a device may show before its first prompt (a root shell that needs a command to start the CLI, "Press RETURN"): matched against the last line while the prompt is being learned; each answered at most 3 times.',
      ),
    pagers: z.array(responder).optional().describe('Pager prompts and how to continue past them.'),
    input_prompts: z
      .array(responder)
      .optional()
      .describe('Prompts a command may show (sudo password) and how to answer; a second ask means refused.'),
    input_wait: z
      .object({
        quiet_ms: z
          .number()
          .int()
          .min(50)
          .max(60_000)
          .default(400)
          .describe(
            'How long the output must stay still, ending in a prompt, before the command counts as waiting.',
          ),
        prompts: z
          .array(
            z
              .object({
                kind: name.describe(
                  'What is asked, for the agent: password, yes_no, press_key, pager, question...',
                ),
                pattern: regex.describe(
                  'Matched, ignoring case, against the last line while it is still open (no newline yet).',
                ),
              })
              .strict(),
          )
          .default([])
          .describe('First match wins: list specific prompts before general ones.'),
        stdin_probe: template
          .optional()
          .describe(
            'Run on a second channel (placeholders: on_open captures such as shell_pid) when a command has printed nothing for quiet_ms and shows no prompt: exit status 0 means it waits on standard input without a prompt (`read -p` in a shell without a terminal, `cat`). Then it counts as waiting, kind `stdin`. Asked again after 4x, 16x... quiet_ms (at most every 30 s) while the command stays silent.',
          ),
      })
      .strict()
      .optional()
      .describe(
        'How to tell a command is waiting for input (a prompt it shows), so send_input can answer it.',
      ),
    terminal: z
      .object({
        wrap: template.describe(
          'Runs one command with a terminal of its own, e.g. through `script`. Placeholders: command, cols, rows.',
        ),
        programs: z
          .array(z.string().min(1))
          .default([])
          .describe(
            'Commands whose first word is one of these get a terminal without being asked (top, vim...).',
          ),
        cols: z.number().int().positive().default(120),
        rows: z.number().int().positive().default(40),
        interrupt: z
          .string()
          .min(1)
          .optional()
          .describe(
            'Typed into a command that has a terminal to interrupt it, as a person would (Ctrl+C: "\\u0003"): the terminal signals the program in front. If it is still running after half of interrupt.grace_ms, the dialect\'s own interrupt follows.',
          ),
      })
      .strict()
      .optional()
      .describe('For channels without a pty: how to give a full-screen or tty-only program a terminal.'),
    command_rewrite: z
      .array(z.object({ match: regex, replace: z.string() }).strict())
      .optional()
      .describe('Applied in order to each command before it is sent (e.g. prefix sudo).'),
    errors: z.array(regex).optional().describe('Output lines that mark a command failed.'),
    with_secret: z
      .record(name, z.string())
      .optional()
      .describe(
        'When a call brings this secret (e.g. sudo), run its command with the command_rewrite and input_prompts of the named dialect, in the same shell.',
      ),
    interrupt: interrupt.optional(),
    detect: detect.optional(),
    policy: policySection.optional(),
    config_session: configSession.optional(),
    examples: examples.optional(),
  })
  .strict();

export type DialectFile = z.infer<typeof dialectFileSchema>;
