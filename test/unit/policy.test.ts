import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PolicyConfigError } from '../../src/policy/errors.js';
import {
  type CheckOptions,
  type CompiledPolicy,
  checkCommand,
  compilePolicy,
  type PolicyDecision,
  type PolicyRules,
} from '../../src/policy/policy.js';
import { DEVICE_CLI, loadDialect, NETWORK_DIALECTS, NETWORK_PRESETS } from '../support/device-policy.js';

const shell: CheckOptions = { abbreviations: false };
const device: CheckOptions = { abbreviations: true, cli: DEVICE_CLI };

function policy(
  rules: { allow?: string[]; deny?: string[]; presets?: string[] },
  origin = 'host h1',
): CompiledPolicy {
  return compilePolicy(
    {
      allow: (rules.allow ?? []).map((pattern) => ({ pattern, origin })),
      deny: (rules.deny ?? []).map((pattern) => ({ pattern, origin })),
      presets: (rules.presets ?? []).map((name) => ({ name, origin })),
    },
    NETWORK_PRESETS,
  );
}

function refused(decision: PolicyDecision): Extract<PolicyDecision, { allowed: false }> {
  assert.equal(decision.allowed, false, 'expected a refusal');
  return decision as Extract<PolicyDecision, { allowed: false }>;
}

/** Asserts each input is allowed (true) or refused (false) under `p`. */
function expectDecisions(p: CompiledPolicy, options: CheckOptions, table: Record<string, boolean>): void {
  const wrong = Object.entries(table)
    .map(([input, allowed]) => [input, allowed, checkCommand(p, input, options)] as const)
    .filter(([, allowed, decision]) => decision.allowed !== allowed)
    .map(
      ([input, allowed, decision]) =>
        `${JSON.stringify(input)}: expected ${allowed ? 'allowed' : 'refused'}, got ${JSON.stringify(decision)}`,
    );
  assert.deepEqual(wrong, []);
}

describe('compilePolicy', () => {
  it('names the origin and the fix for an unknown preset', () => {
    assert.throws(
      () => policy({ presets: ['read-onyl'] }, 'group network'),
      (error: Error) =>
        error instanceof PolicyConfigError &&
        error.message.includes('"read-onyl" (group network)') &&
        error.message.includes('the presets are read-only'),
    );
  });

  it('names the origin and the fix for an invalid re: pattern', () => {
    assert.throws(
      () => policy({ deny: ['re:(unclosed'] }, 'defaults'),
      (error: Error) =>
        error instanceof PolicyConfigError &&
        /invalid regular expression in deny pattern "re:\(unclosed" \(defaults\): .*write a JavaScript regular expression after re:/.test(
          error.message,
        ),
    );
  });

  it('refuses empty patterns and ">" as an allow rule', () => {
    assert.throws(() => policy({ allow: ['  '] }), /empty allow pattern " {2}" \(host h1\)/);
    assert.throws(() => policy({ allow: ['|'] }), /empty allow pattern/);
    assert.throws(() => policy({ allow: ['>'] }), /">" in allow \(host h1\) allows nothing.*move it to deny/);
  });

  it('is inactive without rules, and allow-listing once any allow rule or preset exists', () => {
    assert.deepEqual(
      [policy({}), policy({ deny: ['x'] }), policy({ allow: ['x'] }), policy({ presets: ['read-only'] })].map(
        (p) => [p.active, p.allowListing],
      ),
      [
        [false, false],
        [true, false],
        [true, true],
        [true, true],
      ],
    );
  });

  it('names where the allow rules came from', () => {
    const p = compilePolicy(
      {
        allow: [
          { pattern: 'show *', origin: 'host core-sw1' },
          { pattern: 'ping', origin: 'host core-sw1' },
        ],
        deny: [],
        presets: [{ name: 'read-only', origin: 'group network' }],
      } satisfies PolicyRules,
      NETWORK_PRESETS,
    );
    assert.equal(p.allowOrigins, 'preset read-only (group network), host core-sw1');
  });
});

describe('checkCommand: no policy', () => {
  it('allows everything without reading it', () => {
    assert.deepEqual(checkCommand(policy({}), 'echo "unbalanced; \x15', shell), {
      allowed: true,
      checked: 0,
    });
  });
});

describe('checkCommand: deny rules', () => {
  const p = policy({ deny: ['reboot', 'rm -rf', 'systemctl re*'] }, 'defaults');

  it('finds a denied command wherever it hides', () => {
    expectDecisions(p, shell, {
      reboot: false,
      'reboot now': false,
      'ls; reboot': false,
      'ls\nreboot': false,
      'ls && reboot': false,
      'ls || reboot': false,
      'ls | reboot': false,
      'ls & reboot': false,
      'echo $(reboot)': false,
      'echo `reboot`': false,
      'echo "$(reboot)"': false,
      'diff <(reboot) x': false,
      '(reboot)': false,
      '{ reboot; }': false,
      'if true; then reboot; fi': false,
      'X=1 reboot': false,
      "'re'boot": false,
      "$'\\x72eboot'": false,
      're\\\nboot': false,
      '/sbin/reboot': false,
      './reboot': false,
      'sudo reboot': false,
      'sudo -u root -- /sbin/reboot': false,
      'env -i A=1 timeout 5 nice -n 5 reboot': false,
      "bash -c 'reboot'": false,
      'sh -c "ls; reboot"': false,
      'eval reboot': false,
      "watch -n 5 'reboot'": false,
      'find / -maxdepth 0 -exec reboot \\;': false,
      'cat <<EOF\n$(reboot)\nEOF': false,
      "bash <<'EOF'\nreboot\nEOF": false,
      'f() { reboot; }': false,
      'rm -rf /': false,
      'systemctl restart nginx': false,
      // not the command reboot
      'echo reboot': true,
      "echo 'reboot; $(reboot)'": true,
      'cat <<EOF\nreboot\nEOF': true,
      "cat <<'EOF'\n$(reboot)\nEOF": true,
      'ls # reboot': true,
      rebooter: true,
      'rm -r -f /': true, // a deny list is a guard rail: options written differently slip past
      'systemctl status nginx': true,
    });
  });

  it('says which command and which rule', () => {
    const decision = refused(checkCommand(p, 'ls -l; sudo /sbin/reboot now', shell));
    assert.deepEqual(decision, {
      allowed: false,
      command: '/sbin/reboot now',
      rule: 'reboot',
      reason: '"/sbin/reboot now" is denied by deny "reboot" (defaults)',
    });
  });

  it('refuses a command whose name is known only at run time', () => {
    for (const input of ['$CMD now', '"$(echo reboot)"', '/sbin/reb??t', '{reboot,}', 'sudo $X']) {
      const decision = refused(checkCommand(p, input, shell));
      assert.match(decision.reason, /gets its command name only when it runs/, input);
    }
  });

  it('refuses a command line it cannot read, with the reason', () => {
    const decision = refused(checkCommand(p, 'echo "$(ls', shell));
    assert.equal(decision.rule, '(unreadable)');
    assert.match(decision.reason, /^the command policy cannot read this command line: unterminated/);
  });

  it('counts the commands it checked', () => {
    assert.deepEqual(checkCommand(p, 'ls | grep x; sudo ls', shell), { allowed: true, checked: 4 });
  });

  it('matches a path in a deny pattern by its name too', () => {
    expectDecisions(policy({ deny: ['/usr/bin/python3'] }), shell, {
      python3: false,
      '/usr/local/bin/python3 -c 1': false,
      python: true,
    });
  });

  it('tests re: patterns against the normalized text, and against the name without its path', () => {
    expectDecisions(policy({ deny: ['re:^(shutdown|halt)\\b', 're:curl .*\\| *sh'] }), shell, {
      'shutdown -h now': false,
      "'halt'": false,
      '/sbin/halt': false,
      'sudo halt': false,
      'echo halt': true,
      halting: true,
    });
  });
});

describe('checkCommand: allow rules', () => {
  const p = compilePolicy({
    allow: [
      { pattern: 'ls', origin: 'defaults' },
      { pattern: 'cat /var/log/*', origin: 'group web' },
      { pattern: 'grep', origin: 'group web' },
      { pattern: 'systemctl status *', origin: 'host web1' },
      { pattern: 'sudo', origin: 'host web1' },
      { pattern: 'journalctl * --no-pager', origin: 'host web1' },
    ],
    deny: [{ pattern: 'sudo -i', origin: 'host web1' }],
    presets: [],
  });

  it('requires every command, wrappers included, to match an allow rule', () => {
    expectDecisions(p, shell, {
      ls: true,
      'ls -la /tmp': true,
      'ls | grep x': true,
      'cat /var/log/syslog | grep -i error': true,
      'systemctl status nginx': true,
      'systemctl status': true, // the trailing * means "anything after", nothing included
      'sudo systemctl status nginx': true,
      'sudo ls': true,
      'journalctl -u --no-pager -n 5': true, // a * word in the middle is exactly one word
      'journalctl -u x --no-pager': false,
      'cat /etc/shadow': false,
      'ls; rm -rf /': false,
      'ls $(rm x)': false,
      'systemctl restart nginx': false,
      'sudo rm x': false, // sudo is allowed, rm is not
      'sudo -i ls': false, // deny wins over allow
      '/bin/ls': false, // an allow rule names the command as it is written
      LS: true, // patterns are case-insensitive
      '> /etc/motd': false, // a redirection alone still writes a file
      '': true,
      '# only a comment': true,
    });
  });

  it('names the command and where the allow rules came from', () => {
    const decision = refused(checkCommand(p, 'ls; rm -rf /tmp/x', shell));
    assert.deepEqual(decision, {
      allowed: false,
      command: 'rm -rf /tmp/x',
      rule: '(no allow rule)',
      reason:
        'not allowed: "rm -rf /tmp/x" matches no allow rule (allow rules from defaults, group web, host web1)',
    });
  });

  it('narrows an allow rule starting with | to commands reached through a pipe', () => {
    const filters = policy({ allow: ['ls', '| grep'] });
    expectDecisions(filters, shell, { 'ls | grep x': true, 'grep x file': false, 'ls | grep x | sh': false });
  });

  it('a * pattern allows every command, and deny still wins', () => {
    expectDecisions(policy({ allow: ['*'], deny: ['reboot'] }), shell, {
      'anything at all': true,
      'ls; reboot': false,
    });
  });
});

describe('checkCommand: abbreviations (network CLIs)', () => {
  it('matches a command word against the pattern word it abbreviates', () => {
    expectDecisions(policy({ allow: ['show running-config', 'show ip interface brief'] }), device, {
      'sh run': true,
      'show running-config': true,
      'sh ip int br': true,
      'SH RUN': true,
      'sh ver': false,
      'show running-config-x': false,
    });
  });

  it('catches abbreviated forms of a deny pattern, and a deny pattern written abbreviated', () => {
    expectDecisions(policy({ allow: ['*'], deny: ['reload', 'conf t', 'wr'] }), device, {
      rel: false,
      reload: false,
      'reload in 5': false,
      'configure terminal': false,
      'conf t': false,
      'config replace flash:x': true,
      'write memory': false,
      'wr mem': false,
      'show reload': true,
    });
  });

  it('never lets an abbreviated allow pattern allow longer words', () => {
    expectDecisions(policy({ allow: ['sh'] }), device, { sh: true, s: true, shutdown: false, show: false });
  });

  it('does not abbreviate in a shell', () => {
    expectDecisions(policy({ deny: ['reboot'] }), shell, { reb: true, reboot: false });
  });

  it('matches abbreviations of glob pattern words', () => {
    expectDecisions(policy({ allow: ['show ip*'] }), device, {
      'sh i': true,
      'sh ipv6 route': true,
      'sh int': false,
    });
  });

  it('reads the input as a device CLI by default, and as a shell when told (EOS bash mode)', () => {
    const p = policy({ deny: ['reload'] });
    assert.equal(checkCommand(p, "echo 'x' | tee y # $(reload)", device).allowed, true);
    assert.equal(
      checkCommand(p, "echo 'x' | tee y; $(reload)", { abbreviations: false, syntax: 'shell' }).allowed,
      false,
    );
  });
});

describe('preset read-only', () => {
  const p = compilePolicy(
    { allow: [], deny: [], presets: [{ name: 'read-only', origin: 'group network' }] },
    NETWORK_PRESETS,
  );

  it('allows looking', () => {
    expectDecisions(p, device, {
      // Cisco IOS / IOS-XE / NX-OS
      'show running-config': true,
      'sh run': true,
      'sh run | i hostname': true,
      'show run | include ^interface': true,
      'sh ip int br | exclude unassigned': true,
      'show run | begin router bgp': true,
      'show run | sec interface': true,
      'show interfaces | count up': true,
      'ping 10.0.0.1 repeat 5': true,
      'traceroute 10.0.0.1': true,
      'trace 10.0.0.1': true,
      'sh ver\nsh clock': true,
      // Juniper Junos
      'show configuration | display set | no-more': true,
      'show configuration | display json': true,
      'show interfaces terse | match "ge-|xe-"': true,
      'show log messages | except debug | last 50': true,
      'show route | find 10.0.0.0 | trim 5': true,
      'show configuration | compare rollback 1': true,
      'show route | count': true,
      // Arista EOS
      'show version | json': true,
      'show interfaces status | grep connected | head -5': true,
      'show logging | tail 20': true,
      'show lldp neighbors | xml': true,
      // Huawei
      'display current-configuration': true,
    });
  });

  it('refuses changing', () => {
    expectDecisions(p, device, {
      'configure terminal': false,
      'conf t': false,
      configure: false,
      'copy running-config startup-config': false,
      'write memory': false,
      'wr mem': false,
      wr: false,
      reload: false,
      rel: false,
      'clear counters': false,
      'clear ip bgp *': false,
      'delete flash:x': false,
      'erase startup-config': false,
      'request system reboot': false,
      commit: false,
      'set cli screen-length 0': false,
      'debug ip packet': false,
      'undebug all': false,
      'start shell': false,
      bash: false,
      'bash ls': false,
      'terminal length 0': false,
      enable: false,
      'do show run': false,
      'run show version': false,
      'show run\nreload': false,
      'show run; reload': false,
      'show run | reload': false,
    });
  });

  it('refuses writing the output to a file', () => {
    expectDecisions(p, device, {
      'show run | redirect flash:backup.cfg': false,
      'show run | red flash:x': false,
      'show run | tee flash:x': false,
      'show run | t flash:x': false, // `t` could be tee
      'show run | append flash:x': false,
      'show configuration | save /var/tmp/x': false,
      'show configuration | s /var/tmp/x': false,
      'show run > flash:x': false,
      'show run >> flash:x': false,
      'show tech | i x | redirect flash:y': false,
      'show log | file x': false,
    });
  });

  it('allows filters only after a pipe', () => {
    expectDecisions(p, device, { 'include hostname': false, 'grep x': false, 'show run | grep x': true });
  });

  it('refuses input a CLI would edit, and says why', () => {
    for (const input of [
      'show \x15reload',
      'show ver\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7freload',
      'rel\toad',
      'show\x1b[D',
    ]) {
      assert.match(
        refused(checkCommand(p, input, device)).reason,
        /cannot read this command line: control character/,
      );
    }
    assert.equal(checkCommand(p, 'sh?ow ver', device).allowed, true);
  });

  it('explains refusals', () => {
    assert.equal(
      refused(checkCommand(p, 'configure terminal', device)).reason,
      'not allowed: "configure terminal" matches no allow rule (allow rules from preset read-only (group network))',
    );
    assert.equal(
      refused(checkCommand(p, 'show run > flash:x', device)).reason,
      '"show run > flash:x" is denied by deny ">" (preset read-only (group network)): output redirection writes a file',
    );
    const alternation = refused(checkCommand(p, 'show ip int br | i up|down', device));
    assert.equal(alternation.command, 'down');
    assert.match(alternation.reason, /every "\|" starts a new command for the policy/);
  });

  it('combines with the config: allow rules add, deny rules win', () => {
    const combined = compilePolicy(
      {
        allow: [{ pattern: 'clear counters', origin: 'host core-sw1' }],
        deny: [{ pattern: 'show tech-support', origin: 'group network' }],
        presets: [{ name: 'read-only', origin: 'group network' }],
      },
      NETWORK_PRESETS,
    );
    expectDecisions(combined, device, {
      'clear counters': true,
      'clear counters Gi0/1': true,
      'clear ip bgp *': false,
      'sh tech': false,
      'show tech-support | redirect flash:x': false,
      'show version': true,
    });
    assert.equal(
      refused(checkCommand(combined, 'sh tech', device)).reason,
      '"sh tech" is denied by deny "show tech-support" (group network)',
    );
  });

  it('is written in the pattern syntax the config uses', async () => {
    for (const name of NETWORK_DIALECTS) {
      const preset = (await loadDialect(name)).policy.presets['read-only'];
      assert.ok(preset, `${name} has a read-only preset`);
      assert.doesNotThrow(() =>
        compilePolicy({
          allow: preset.allow.map((pattern) => ({ pattern, origin: 'x' })),
          deny: preset.deny.map(({ pattern }) => ({ pattern, origin: 'x' })),
          presets: [],
        }),
      );
    }
  });
});

describe('checkCommand: speed', () => {
  it('checks a 1 KB command line in microseconds', () => {
    const p = compilePolicy({
      allow: [
        'ls',
        'cat',
        'grep',
        'awk',
        'sed -n',
        'sort',
        'uniq',
        'head',
        'tail',
        'wc',
        'sudo',
        're:^echo\\b',
      ].map((pattern) => ({ pattern, origin: 'host h' })),
      deny: ['reboot', 'rm -rf', 'sudo -i', 're:curl .*\\|\\s*sh'].map((pattern) => ({
        pattern,
        origin: 'defaults',
      })),
      presets: [],
    });
    const line =
      `cat /var/log/syslog | grep -i "error $(ls /tmp)" | awk '{print $5}' | sort | uniq -c | sudo tail -n 20; `
        .repeat(10)
        .slice(0, 1024);
    const input = line.slice(0, line.lastIndexOf(';'));
    assert.equal(checkCommand(p, input, shell).allowed, true);
    const runs = 2000;
    const start = performance.now();
    for (let i = 0; i < runs; i++) checkCommand(p, input, shell);
    const each = ((performance.now() - start) / runs) * 1000;
    assert.ok(each < 1000, `${each.toFixed(1)} µs per check`);
  });

  it('refuses 1 MB of hostile input quickly', () => {
    const p = policy({ deny: ['reboot'] });
    for (const input of ['$('.repeat(500_000), 'sudo '.repeat(200_000), '`'.repeat(1_000_001)]) {
      const start = performance.now();
      assert.equal(checkCommand(p, input, shell).allowed, false);
      // Linear work takes tens of milliseconds; anything quadratic would take minutes.
      assert.ok(performance.now() - start < 1500, 'took too long');
    }
  });
});
