// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the strings are bash command lines, ${...} included
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PolicyParseError } from '../../src/policy/errors.js';
import { MAX_NESTING, MAX_REPARSE } from '../../src/policy/shell-parser.js';
import { MAX_WRAPPERS, type SimpleCommand, splitCommands } from '../../src/policy/split.js';
import { DEVICE_CLI } from '../support/device-policy.js';

/** The text of every command a shell command line runs, in the order the splitter reports them. */
const texts = (input: string) => splitCommands(input).map((c) => c.text);
/** The same, sorted: for inputs where the order is not the point. */
const sorted = (input: string) => texts(input).sort();
/** The command names (first words). */
const names = (input: string) => splitCommands(input).map((c) => c.words[0] ?? '');
/** A device command line, read with what the shipped network dialects say (prefix words, pipe). */
const cli = (input: string) => splitCommands(input, 'cli', DEVICE_CLI);
const refuses = (input: string, message: RegExp, syntax: 'shell' | 'cli' = 'shell') =>
  assert.throws(
    () => splitCommands(input, syntax, DEVICE_CLI),
    (error: Error) => error instanceof PolicyParseError && message.test(error.message),
  );

describe('splitCommands (shell): separators', () => {
  it('splits on newline, ;, &, &&, ||, | and |&', () => {
    assert.deepEqual(texts('a 1; b 2 & c && d || e | f |& g\nh'), [
      'a 1',
      'b 2',
      'c',
      'd',
      'e',
      'f',
      'g',
      'h',
    ]);
  });

  it('marks the commands reached through a pipe', () => {
    const commands = splitCommands('ls -l | grep x |& tee y; z');
    assert.deepEqual(
      commands.map((c) => [c.text, c.viaPipe]),
      [
        ['ls -l', false],
        ['grep x', true],
        ['tee y', true],
        ['z', false],
      ],
    );
  });

  it('treats a carriage return as a newline (a terminal would run the line)', () => {
    assert.deepEqual(texts('ls\rreboot\r\nhalt'), ['ls', 'reboot', 'halt']);
  });

  it('collapses whitespace in the text and keeps the words', () => {
    const [command] = splitCommands("  grep   'a  b'   file  ");
    assert.deepEqual(command?.words, ['grep', 'a  b', 'file']);
    assert.equal(command?.text, 'grep a b file');
  });
});

describe('splitCommands (shell): quotes, escapes and comments', () => {
  it('does not split inside quotes or on an escaped separator', () => {
    assert.deepEqual(texts(`echo 'a; reboot' "b && halt" c\\;d`), ['echo a; reboot b && halt c;d']);
  });

  it('removes quotes and escapes from the command name, so they cannot disguise it', () => {
    assert.deepEqual(names(`'re'boot; "re"boot; re\\boot; r''e""boot`), [
      'reboot',
      'reboot',
      'reboot',
      'reboot',
    ]);
  });

  it("decodes $'...' the way bash does", () => {
    assert.deepEqual(names(`$'\\x72eboot'; $'\\162eboot'; $'\\u0072eboot'; $'re\\'boot'`), [
      'reboot',
      'reboot',
      'reboot',
      "re'boot",
    ]);
  });

  it('runs $(...) and backticks inside double quotes but not inside single quotes', () => {
    assert.deepEqual(sorted(`echo "$(a)" "\`b\`" '$(c)' '\`d\`'`), ['a', 'b', 'echo $(a) `b` $(c) `d`']);
  });

  it('drops comments, but only where a word starts', () => {
    assert.deepEqual(texts('ls # ; reboot $(halt)\necho a#b $# ${#x}'), ['ls', 'echo a#b $# ${#x}']);
  });

  it('joins continued lines', () => {
    assert.deepEqual(texts('re\\\nboot now; echo a \\\n b'), ['reboot now', 'echo a b']);
  });

  it('refuses unbalanced quotes', () => {
    refuses(`echo 'a`, /unterminated single quote/);
    refuses('echo "a', /unterminated double quote/);
    refuses("echo $'a", /unterminated \$'/);
    refuses('echo `a', /unterminated backtick/);
  });
});

describe('splitCommands (shell): substitutions', () => {
  it('descends into nested $( ) and backticks', () => {
    assert.deepEqual(sorted('echo $(a $(b `c \\`d\\``))'), [
      'a $(b `c \\`d\\``)',
      'b `c \\`d\\``',
      'c `d`',
      'd',
      'echo $(a $(b `c \\`d\\``))',
    ]);
  });

  it('finds commands in process substitution, ${...}, arithmetic and $[...]', () => {
    assert.deepEqual(sorted('diff <(a) >(b) ${x:-$(c)} "${y:-$(d)}" $((1 + $(e))) $[1 + `f`]'), [
      'a',
      'b',
      'c',
      'd',
      'diff <(a) >(b) ${x:-$(c)} ${y:-$(d)} $((1 + $(e))) $[1 + `f`]',
      'e',
      'f',
    ]);
  });

  it('finds a substitution in a single-quoted part of a double-quoted ${...} (bash runs it)', () => {
    assert.deepEqual(sorted(`echo "\${x:-'$(a)'}"`), ['a', "echo ${x:-'$(a)'}"]);
    assert.deepEqual(texts(`echo \${x:-'$(a)'}`), ["echo ${x:-'$(a)'}"]);
  });

  it('finds commands in assignments, arrays, redirection targets, for lists and case words', () => {
    assert.deepEqual(sorted('local -a z=($(h))'), ['h', 'local -a z=']);
    assert.deepEqual(
      sorted('x=$(a) y=(1 $(b)) cmd >$(c); for i in $(d); do :; done; case $(e) in $(f)) g;; esac'),
      [':', 'a', 'b', 'c', 'cmd', 'd', 'e', 'f', 'g'],
    );
  });

  it('finds commands inside [[ ]] and (( )) without reading their operators as redirections', () => {
    assert.deepEqual(sorted('[[ $(a) < b && -n `c` ]] && ((x << 2 + $(d))) && e'), ['a', 'c', 'd', 'e']);
  });

  it('refuses a $(( that bash would have to guess about', () => {
    refuses('echo $((a) | b)', /write "\( \(" or "\$\( \(" with a space/);
    assert.deepEqual(sorted('echo $( (a) | b)'), ['a', 'b', 'echo $( (a) | b)']);
  });

  it('refuses unbalanced parentheses', () => {
    refuses('echo $(a', /a "\)" is missing/);
    refuses('(a; b', /a "\)" is missing/);
    refuses('a; b)', /unexpected "\)"/);
    refuses('echo (a)', /unexpected "\("/);
    refuses('echo ${a', /unterminated "\$\{"/);
    refuses('echo $((1 + 2)', /unterminated arithmetic/);
  });
});

describe('splitCommands (shell): compound commands', () => {
  it('finds the commands of subshells, brace groups, if, while, until, for and select', () => {
    assert.deepEqual(
      texts(
        '(a); { b; }; if c; then d; elif e; then f; else g; fi; while h; do i; done; until j; do k; done',
      ),
      ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k'],
    );
    assert.deepEqual(
      texts('for x in 1 2; do a "$x"; done; for ((i=0; i<2; i++)); do b; done; select y in z; do c; done'),
      ['a $x', 'b', 'c'],
    );
  });

  it('reads case patterns as patterns, not commands', () => {
    assert.deepEqual(texts('case $x in start|stop) a;; (restart) b;& *) c;;& esac; d'), ['a', 'b', 'c', 'd']);
    assert.deepEqual(texts('echo $(case $x in a) b;; esac) after'), [
      'b',
      'echo $(case $x in a) b;; esac) after',
    ]);
    refuses('case x in a) b;;', /"case" without "esac"/);
  });

  it('finds the body of a function definition, and the call', () => {
    assert.deepEqual(texts('f() { a; }; function g { b; }; function h() ( c ); f'), ['a', 'b', 'c', 'f']);
  });

  it('skips reserved words, !, time and coproc names', () => {
    assert.deepEqual(texts('! a; time -p b; time c | d; coproc NAME { e; }; coproc f'), [
      'a',
      'b',
      'c',
      'd',
      'e',
      'f',
    ]);
  });

  it('takes a quoted reserved word, or one after an assignment, as a command name', () => {
    assert.deepEqual(names("'if' x; X=1 time y"), ['if', 'time', 'y']);
  });
});

describe('splitCommands (shell): here-documents', () => {
  it('runs only the substitutions of an unquoted body; its lines are data', () => {
    assert.deepEqual(texts('cat <<EOF\nreboot $(a) `b` \\$(c)\nEOF\nd'), ['cat', 'a', 'b', 'd']);
  });

  it('runs nothing in a quoted body', () => {
    for (const delimiter of ["'EOF'", '"EOF"', '\\EOF', 'E"O"F']) {
      assert.deepEqual(texts(`cat <<${delimiter}\n$(a) \`b\`\nEOF\nc`), ['cat', 'c'], delimiter);
    }
  });

  it('strips tabs for <<- and reads several bodies in order', () => {
    assert.deepEqual(texts('cat <<-A <<B; x\n\t$(a)\n\tA\n$(b)\nB\ny'), ['cat', 'x', 'a', 'b', 'y']);
  });

  it('reads the body at the next newline of the same parser, as bash does', () => {
    // In a subshell the body starts at the newline inside it; in $( ) the outer body waits for the outer line.
    assert.deepEqual(sorted('cat <<EOF; (a\nbody\nEOF\nb)'), ['a', 'b', 'cat']);
    assert.deepEqual(sorted('cat <<EOF; echo $(a\nc\nEOF\nb)\nbody\nEOF'), [
      'EOF',
      'a',
      'b',
      'c',
      'cat',
      'echo $(a c EOF b)',
    ]);
  });

  it('compares the delimiter after joining continued lines of an unquoted body', () => {
    assert.deepEqual(texts('cat <<EOF\nx\\\nEOF\nreboot\nEOF\nls'), ['cat', 'ls']);
  });

  it('reads a body up to the end of the input when the delimiter is missing', () => {
    assert.deepEqual(texts('cat <<EOF\nreboot'), ['cat']);
  });

  it('refuses a here-document in $( ) whose body is outside it', () => {
    refuses('echo $(cat <<EOF)\nbody\nEOF', /body inside the \$\( \)/);
  });

  it('parses a body or here-string fed to a shell as commands', () => {
    assert.deepEqual(sorted("bash <<'EOF'\nreboot\nEOF"), ['bash', 'reboot']);
    assert.deepEqual(sorted('sudo sh -s <<EOF\nhalt\nEOF'), ['halt', 'sh -s', 'sudo sh -s']);
    assert.deepEqual(sorted('bash <<< "a; b"'), ['a', 'b', 'bash']);
    assert.deepEqual(sorted('. /dev/stdin <<EOF\nc\nEOF'), ['. /dev/stdin', 'c']);
    assert.deepEqual(sorted('ssh host <<EOF\nd\nEOF'), ['d', 'ssh host']);
    // A script file reads its stdin as data: not parsed.
    assert.deepEqual(sorted('bash script.sh <<EOF\nnot a command\nEOF'), ['bash script.sh']);
  });
});

describe('splitCommands (shell): assignments and redirections', () => {
  it('drops leading assignments from the words', () => {
    const [command] = splitCommands('A=1 B[2]=x C+=y reboot now');
    assert.deepEqual(command?.words, ['reboot', 'now']);
    assert.equal(command?.text, 'reboot now');
  });

  it('runs what a variable bash executes is set to', () => {
    assert.deepEqual(sorted("PS4='$(a)' x; export PROMPT_COMMAND='b;c'; BASH_ENV='$(d)' bash s.sh"), [
      'a',
      'b',
      'bash s.sh',
      'c',
      'd',
      'export PROMPT_COMMAND=b;c',
      'x',
    ]);
  });

  it('marks output redirection to a file, not to /dev/null or another descriptor', () => {
    const redirects = (input: string) => splitCommands(input).map((c) => c.redirectsOutput);
    assert.deepEqual(redirects('a > f; b >> f; c &> f; d >| f; e <> f; g >&f; h 2>f'), [
      true,
      true,
      true,
      true,
      true,
      true,
      true,
    ]);
    assert.deepEqual(redirects('a >/dev/null; b 2>&1; c >&2; d < f; e 3<&0; g 2>&-; h &>/dev/null'), [
      false,
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
  });

  it('reports a redirection without a command, which still writes a file', () => {
    assert.deepEqual(splitCommands('> /etc/motd'), [
      { text: '> /etc/motd', words: [], redirectsOutput: true, viaPipe: false, dynamic: false },
    ]);
    assert.deepEqual(splitCommands('x=1 2>/dev/null'), []);
  });
});

describe('splitCommands (shell): command names known only at run time', () => {
  const dynamic = (input: string) => splitCommands(input).map((c) => c.dynamic);

  it('marks variables, substitutions, globs and brace expansions in the name', () => {
    const commands = splitCommands(
      '$cmd x; "$cmd"; $(which ls); `x`; /sbin/reb??t; /sbin/re*; {reboot,}; r[e]boot',
    );
    assert.deepEqual(
      commands.map((c) => [c.text, c.dynamic]),
      [
        ['$cmd x', true],
        ['$cmd', true],
        ['which ls', false],
        ['$(which ls)', true],
        ['x', false],
        ['`x`', true],
        ['/sbin/reb??t', true],
        ['/sbin/re*', true],
        ['{reboot,}', true],
        ['r[e]boot', true],
      ],
    );
  });

  it('does not mark quoted glob characters, [ or arguments', () => {
    assert.deepEqual(dynamic("'a*' x; [ -f $x ]; echo * {a,b} $y; {} x"), [false, false, false, false]);
  });

  it('marks the name of a wrapped command too', () => {
    assert.deepEqual(dynamic('sudo $X'), [false, true]);
    assert.deepEqual(dynamic('ls | xargs -I{} {} -x; find . -exec {} \\;'), [
      false,
      false,
      true,
      false,
      true,
    ]);
  });
});

describe('splitCommands (shell): wrappers', () => {
  const cases: [string, string[]][] = [
    ['sudo -u root -- reboot now', ['sudo -u root -- reboot now', 'reboot now']],
    ['sudo -nEu root -g wheel A=1 reboot', ['sudo -nEu root -g wheel A=1 reboot', 'reboot']],
    ['sudo --user=root --preserve-env=A reboot', ['sudo --user=root --preserve-env=A reboot', 'reboot']],
    ['doas -u root reboot', ['doas -u root reboot', 'reboot']],
    ['env -i A=b -u C reboot', ['env -i A=b -u C reboot', 'reboot']],
    ['env - A=b reboot', ['env - A=b reboot', 'reboot']],
    ['nohup reboot', ['nohup reboot', 'reboot']],
    ['/usr/bin/time -f %e reboot', ['/usr/bin/time -f %e reboot', 'reboot']],
    ['exec -a x reboot', ['exec -a x reboot', 'reboot']],
    ['command -p reboot', ['command -p reboot', 'reboot']],
    ['builtin reboot', ['builtin reboot', 'reboot']],
    ['nice -n 5 reboot; nice -5 halt', ['nice -n 5 reboot', 'reboot', 'nice -5 halt', 'halt']],
    ['ionice -c3 reboot', ['ionice -c3 reboot', 'reboot']],
    ['timeout -s KILL --kill-after=5 10 reboot', ['timeout -s KILL --kill-after=5 10 reboot', 'reboot']],
    ['stdbuf -oL -e 0 reboot', ['stdbuf -oL -e 0 reboot', 'reboot']],
    ['setsid -f reboot', ['setsid -f reboot', 'reboot']],
    ['xargs -0 -n 1 -P4 rm -f', ['xargs -0 -n 1 -P4 rm -f', 'rm -f']],
    ['busybox reboot', ['busybox reboot', 'reboot']],
    ['chroot --userspec=a:b /mnt reboot', ['chroot --userspec=a:b /mnt reboot', 'reboot']],
    ['pkexec --user root reboot', ['pkexec --user root reboot', 'reboot']],
    ['runuser -u root -- reboot -f', ['runuser -u root -- reboot -f', 'reboot -f']],
    ['flock /tmp/l reboot', ['flock /tmp/l reboot', 'reboot']],
    [
      'find / -name x -exec rm {} \\; -execdir reboot +',
      ['find / -name x -exec rm {} ; -execdir reboot +', 'reboot', 'rm {}'],
    ],
    [
      'sudo timeout 5 nice -n 1 reboot',
      ['sudo timeout 5 nice -n 1 reboot', 'timeout 5 nice -n 1 reboot', 'nice -n 1 reboot', 'reboot'],
    ],
    ['hash -p /sbin/reboot ls', ['hash -p /sbin/reboot ls', '/sbin/reboot']],
  ];
  for (const [input, expected] of cases) {
    it(`looks through ${input}`, () => assert.deepEqual(texts(input), expected));
  }

  it('parses the command line a shell, eval, watch, ssh, su, flock, env -S, trap or alias runs', () => {
    const commands = (input: string) => texts(input).slice(1).sort();
    assert.deepEqual(commands("bash -c 'a; b | c'"), ['a', 'b', 'c']);
    assert.deepEqual(commands("sh -lc 'a'"), ['a']);
    assert.deepEqual(commands("bash -o pipefail -e -c 'a'"), ['a']);
    assert.deepEqual(commands("bash --norc -c 'a' name arg"), ['a']);
    assert.deepEqual(commands("zsh -c 'a'"), ['a']);
    assert.deepEqual(commands('eval "a;" b'), ['a', 'b']);
    assert.deepEqual(commands("watch -n 1 'a; b'"), ['a', 'b']);
    assert.deepEqual(commands('ssh -p 2222 -i key host a "&&" b'), ['a', 'b']);
    assert.deepEqual(commands("ssh -o 'ProxyCommand nc %h %p' -oLocalCommand=x host"), ['nc %h %p', 'x']);
    assert.deepEqual(commands("su - root -c 'a'"), ['a']);
    assert.deepEqual(commands("su root --command='a'"), ['a']);
    assert.deepEqual(commands("flock /tmp/l -c 'a'"), ['a']);
    assert.deepEqual(commands("env -S 'a b'"), ['a b']);
    assert.deepEqual(commands("trap 'a' EXIT"), ['a']);
    assert.deepEqual(commands("alias ls='a; b'"), ['a', 'b']);
    assert.deepEqual(commands('bash -c \'bash -c "a"\''), ['a', 'bash -c a']);
  });

  it('does not take a script file, or an option value, for a command', () => {
    assert.deepEqual(texts('bash deploy.sh reboot'), ['bash deploy.sh reboot']);
    assert.deepEqual(texts('sudo -e /etc/hosts'), ['sudo -e /etc/hosts']);
    assert.deepEqual(texts('ionice -c 3 -p 42'), ['ionice -c 3 -p 42']);
    assert.deepEqual(texts('trap - INT'), ['trap - INT']);
  });

  it('marks a shell whose options or script are only known at run time', () => {
    const commands = splitCommands('bash $opts reboot');
    assert.equal(commands[1]?.dynamic, true);
  });

  it('refuses a wrapper option it does not know (it could not tell which word is the command)', () => {
    refuses('sudo -X reboot', /sudo option "-X" is not known/);
    refuses('timeout --frobnicate 5 reboot', /timeout option "--frobnicate" is not known/);
  });

  it(`refuses more than ${MAX_WRAPPERS} wrappers around one command`, () => {
    assert.doesNotThrow(() => splitCommands(`${'nohup '.repeat(MAX_WRAPPERS)}x`));
    refuses(`${'nohup '.repeat(MAX_WRAPPERS + 1)}x`, /more than 16 wrapper/);
  });
});

describe('splitCommands: hostile input', () => {
  // Linear work on 1 MB takes tens of milliseconds; the limits leave room for a busy machine, while
  // anything quadratic would take minutes.
  /** Parses within `ms`; returns the commands, or undefined when the input was refused (PolicyParseError). */
  /**
   * Bounds are 5x what the input takes on a quiet machine: a loaded CI box must not fail them, while the
   * quadratic or exponential parse they guard against takes minutes on these inputs.
   */
  const fast = (input: string, quietMs: number) => {
    const ms = quietMs * 5;
    const start = performance.now();
    let commands: ReturnType<typeof splitCommands> | undefined;
    try {
      commands = splitCommands(input);
    } catch (error) {
      assert.ok(error instanceof PolicyParseError, `a PolicyParseError, not ${error}`);
    }
    const elapsed = performance.now() - start;
    assert.ok(elapsed < ms, `took ${elapsed.toFixed(1)} ms`);
    return commands;
  };
  /** Unterminated input must be refused, not split into nothing (an empty list would pass any policy). */
  const refusedFast = (input: string, ms: number) =>
    assert.equal(fast(input, ms), undefined, `${JSON.stringify(input.slice(0, 8))}... was not refused`);

  it('refuses 1 MB of $( quickly, without exhausting the stack', () => {
    refuses('$('.repeat(500_000), /nests more than 64 levels/);
    refusedFast('$('.repeat(500_000), 1000);
    refusedFast('"$('.repeat(300_000), 1000);
    refusedFast('('.repeat(1_000_000), 1000);
    refusedFast('${'.repeat(500_000), 1000);
    refusedFast('$(('.repeat(300_000), 1000);
    refusedFast('<('.repeat(500_000), 1000);
  });

  it('handles nesting up to the limit', () => {
    const nested = (depth: number) => `${'$('.repeat(depth)}x${')'.repeat(depth)}`;
    assert.equal(splitCommands(nested(MAX_NESTING)).length, MAX_NESTING + 1); // x, and each $( ) as a name
    refuses(nested(MAX_NESTING + 1), /nests more than/);
  });

  it('bounds strings parsed again (bash -c inside bash -c ...)', () => {
    let script = 'x';
    for (let i = 0; i < MAX_REPARSE + 1; i++) script = `bash -c ${JSON.stringify(script)}`;
    refuses(script, /nested in strings more than 8 levels/);
  });

  it('is linear on long flat input', () => {
    assert.equal(fast('a;'.repeat(200_000), 1000)?.length, 200_000);
    fast('a | '.repeat(100_000), 1000);
    fast(`cat <<EOF\n${'$(a) x\n'.repeat(50_000)}EOF`, 1000);
    refusedFast('`'.repeat(100_001), 1000);
    refusedFast("'".repeat(1_000_001), 1000);
    fast('\\'.repeat(1_000_000), 1000);
    fast(`echo ${'"a"'.repeat(300_000)}`, 500);
    fast('cat <<EOF '.repeat(100_000), 1000);
  });
});

describe('splitCommands: control characters', () => {
  it('refuses line-editing characters a terminal or CLI would act on', () => {
    refuses('show \x15reload', /U\+0015/, 'cli');
    refuses('ls\x7f\x7freboot', /U\+007F/);
    refuses('ls \x1b[D', /U\+001B/);
    refuses('sh\tver', /Tab completes words/, 'cli');
  });

  it('allows tabs in a shell command line (here-documents use them)', () => {
    assert.deepEqual(texts('cat <<-EOF\n\tx\n\tEOF\nls\t-l'), ['cat', 'ls -l']);
  });
});

describe('splitCommands (cli)', () => {
  const view = (input: string) => cli(input).map((c) => [c.text, c.viaPipe, c.redirectsOutput]);

  it('runs each line, splits on | and ;, and marks pipe filters', () => {
    assert.deepEqual(view('show run | i host\r\nshow ver; show clock\rterm len 0'), [
      ['show run', false, false],
      ['i host', true, false],
      ['show ver', false, false],
      ['show clock', false, false],
      ['term len 0', false, false],
    ]);
  });

  it('does not run shell syntax: here-documents, continuations and comments are lines like any other', () => {
    assert.deepEqual(
      cli('show run <<EOF\nreload\nEOF\nshow \\\nreload # x').map((c) => c.text),
      ['show run <<EOF', 'reload', 'EOF', 'show \\', 'reload # x'],
    );
    assert.deepEqual(
      cli("show run | i 'a | b'").map((c) => c.text),
      ['show run', "i 'a", "b'"],
    );
  });

  it('keeps | and ; inside double quotes, and removes the quotes from the words', () => {
    const commands = cli('show configuration | match "ge-0/0/0|xe-1 ; up"');
    assert.deepEqual(
      commands.map((c) => c.words),
      [
        ['show', 'configuration'],
        ['match', 'ge-0/0/0|xe-1', ';', 'up'],
      ],
    );
    refuses('show run | i "x', /unterminated double quote/, 'cli');
  });

  it('drops ? (a request for help) from the words', () => {
    assert.deepEqual(
      cli('rel?oad ?').map((c) => c.words),
      [['reload']],
    );
  });

  it('sees output redirection, and keeps it out of the words', () => {
    const [command] = cli('show tech > flash:tech.txt');
    assert.deepEqual(command?.words, ['show', 'tech']);
    assert.equal(command?.text, 'show tech > flash:tech.txt');
    assert.equal(command?.redirectsOutput, true);
    assert.equal(cli('show run | i "a>b"')[1]?.redirectsOutput, false);
  });

  it('also checks what do (IOS) and run (Junos) run', () => {
    assert.deepEqual(
      cli('do reload; run request system reboot').map((c) => c.text),
      ['do reload', 'reload', 'run request system reboot', 'request system reboot'],
    );
  });

  it('bounds do and run prefixes', () => {
    assert.equal(cli(`${'do '.repeat(MAX_WRAPPERS)}show ver`).length, MAX_WRAPPERS + 1);
    refuses(`${'do '.repeat(MAX_WRAPPERS + 1)}show ver`, /more than 16 "do" or "run"/, 'cli');
    const start = performance.now();
    refuses('do '.repeat(300_000), /more than 16/, 'cli');
    assert.ok(performance.now() - start < 1000);
  });

  it('parses what EOS bash runs as a shell command line', () => {
    assert.deepEqual(
      cli('bash timeout 5 sudo reboot').map((c) => c.text),
      ['bash timeout 5 sudo reboot', 'timeout 5 sudo reboot', 'sudo reboot', 'reboot'],
    );
    refuses("bash echo 'a", /unterminated single quote/, 'cli');
  });

  it('skips empty lines and empty segments', () => {
    assert.deepEqual(cli('\n\n  \n show ver ||  \n'), [
      { text: 'show ver', words: ['show', 'ver'], redirectsOutput: false, viaPipe: false, dynamic: false },
    ] satisfies SimpleCommand[]);
  });
});
