// Drives the device simulators (test/simulators) with a raw ssh2 client (pty + shell) and checks the
// documented device behaviours they model. Every wait is bounded; failures show the unread output.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { type DeviceSimulator, startDeviceSimulator } from '../simulators/device-sim.js';
import { eosProfile } from '../simulators/eos.js';
import { iosProfile } from '../simulators/ios.js';
import { junosProfile } from '../simulators/junos.js';
import { execCommand, login, RawShell, WAIT_MS, withShell, withSim } from '../support/raw-shell.js';

/** Lines between the echoed command line and the prompt line. */
function bodyLines(chunk: string): string[] {
  const lines = chunk.split('\r\n');
  return lines.slice(1, -1);
}

// -----------------------------------------------------------------------------------------------------------

describe('device simulator SSH server', { timeout: 60_000 }, () => {
  let sim: DeviceSimulator;
  before(async () => {
    sim = await startDeviceSimulator(iosProfile({ startPrivileged: true }));
  });
  after(async () => {
    await sim?.close();
  });

  it('listens on 127.0.0.1 with an ephemeral port and reports the host key fingerprint', async () => {
    assert.equal(sim.host, '127.0.0.1');
    assert.ok(sim.port > 0);
    assert.match(sim.hostKeyFingerprint ?? '', /^SHA256:[A-Za-z0-9+/]{43}$/);
    const { client, hostKey } = await login(sim, { password: sim.password });
    client.end();
    const fp = `SHA256:${createHash('sha256').update(hostKey).digest('base64').replace(/=+$/, '')}`;
    assert.equal(fp, sim.hostKeyFingerprint);
  });

  it('rejects a wrong password and accepts keyboard-interactive with the right one', async () => {
    await assert.rejects(login(sim, { password: 'nope' }), /authentication methods failed/);
    const { client } = await login(sim, { tryKeyboard: true }, sim.password);
    client.end();
    await assert.rejects(login(sim, { tryKeyboard: true }, 'wrong'), /authentication methods failed/);
  });

  it('runs a single command on an exec channel and exits 0', async () => {
    const { client } = await login(sim, { password: sim.password });
    try {
      const r = await execCommand(client, 'show ip interface brief');
      assert.equal(r.code, 0);
      assert.match(r.out, /^Interface +IP-Address +OK\? Method Status +Protocol\r\n/);
      assert.ok(!r.out.includes('--More--'));
      assert.ok(sim.transcript().includes('show ip interface brief\n'));
    } finally {
      client.end();
    }
  });

  it('processes input typed ahead and followed by EOF, then closes the channel', async () => {
    const own = await startDeviceSimulator(iosProfile({ startPrivileged: true }));
    try {
      const sh = await RawShell.open(own);
      sh.send('terminal length 0\rshow ip interface brief\rshow clock\r');
      sh.endInput();
      await Promise.race([sh.closed, delay(WAIT_MS).then(() => assert.fail('channel not closed after EOF'))]);
      assert.match(sh.all, /lab-rtr1#show ip interface brief\r\nInterface +IP-Address/);
      assert.match(sh.all, /lab-rtr1#show clock\r\n\*\d\d:\d\d/);
    } finally {
      await own.close();
    }
  });

  it('close() drops connected clients', async () => {
    const own = await startDeviceSimulator(iosProfile());
    const sh = await RawShell.open(own);
    await sh.expect(/lab-rtr1>$/);
    await own.close();
    await Promise.race([sh.closed, delay(WAIT_MS).then(() => assert.fail('client not disconnected'))]);
  });
});

// -----------------------------------------------------------------------------------------------------------

describe('Cisco IOS simulator', { timeout: 60_000 }, () => {
  it('prints the banner, then the user EXEC prompt; lines end in CR LF', async () => {
    await withShell(iosProfile({ banner: '*** LAB DEVICE ***' }), /lab-rtr1>$/, async (sh, _sim, first) => {
      assert.equal(first, '\r\n*** LAB DEVICE ***\r\n\r\nlab-rtr1>');
      assert.equal(await sh.settle(50), '', 'nothing after the prompt');
      const out = await sh.run('show clock', /\r\nlab-rtr1>$/);
      assert.match(out, /^show clock\r\n\*\d\d:\d\d:\d\d\.\d{3} UTC \w{3} \w{3} \d+ \d{4}\r\nlab-rtr1>$/);
      assert.ok(!/[^\r]\n/.test(sh.all), 'every LF is preceded by CR');
    });
  });

  it('enable with the right secret: Password: without echo, then #; the secret is sent once', async () => {
    await withShell(iosProfile({ enableSecret: 'Sup3r-s3cret' }), /lab-rtr1>$/, async (sh, sim) => {
      const ask = await sh.run('enable', /Password: $/);
      assert.equal(ask, 'enable\r\nPassword: ');
      const after = await sh.run('Sup3r-s3cret', /lab-rtr1#$/);
      assert.equal(after, '\r\nlab-rtr1#', 'the secret is not echoed');
      assert.equal(sim.transcript().split('Sup3r-s3cret').length - 1, 1);
      assert.ok(!sh.all.includes('Sup3r-s3cret'));
      await sh.run('show privilege', /Current privilege level is 15\r\nlab-rtr1#$/);
      await sh.run('disable', /\r\nlab-rtr1>$/);
    });
  });

  it('enable with a wrong secret re-asks, then "% Bad secrets" after three tries and stays at >', async () => {
    await withShell(iosProfile({ enableSecret: 'right' }), /lab-rtr1>$/, async (sh) => {
      await sh.run('enable', /Password: $/);
      assert.equal(await sh.run('wrong1', /Password: $/), '\r\nPassword: ');
      assert.equal(await sh.run('wrong2', /Password: $/), '\r\nPassword: ');
      const out = await sh.run('wrong3', /lab-rtr1>$/);
      assert.equal(out, '\r\n% Bad secrets\r\n\r\nlab-rtr1>');
    });
  });

  it('enable with a missing secret (just Enter) counts as a failure', async () => {
    await withShell(iosProfile(), /lab-rtr1>$/, async (sh) => {
      await sh.run('enable', /Password: $/);
      await sh.run('', /Password: $/);
      await sh.run('', /Password: $/);
      assert.match(await sh.run('', /lab-rtr1>$/), /% Bad secrets/);
    });
  });

  it('enable answered "% Access denied" on AAA images; no secret configured enters # directly', async () => {
    await withShell(iosProfile({ enableFailure: 'access-denied' }), /lab-rtr1>$/, async (sh) => {
      await sh.run('enable', /Password: $/);
      assert.equal(await sh.run('bad', /lab-rtr1>$/), '\r\n% Access denied\r\n\r\nlab-rtr1>');
    });
    await withShell(iosProfile({ enableSecret: null }), /lab-rtr1>$/, async (sh) => {
      assert.equal(await sh.run('enable', /lab-rtr1#$/), 'enable\r\nlab-rtr1#');
    });
  });

  it('pages long output at " --More-- " (Space = page, Enter = line, q = quit) until terminal length 0', async () => {
    await withShell(iosProfile({ startPrivileged: true }), /lab-rtr1#$/, async (sh) => {
      const firstPage = await sh.run('show running-config', / --More-- $/);
      const lines = firstPage.split('\r\n');
      assert.equal(lines[0], 'show running-config');
      assert.equal(lines[1], 'Building configuration...');
      assert.equal(lines.length, 1 + 23 + 1, 'terminal length 24 shows 23 lines then the pager prompt');
      const erase = `${'\b'.repeat(10)}${' '.repeat(10)}${'\b'.repeat(10)}`;
      sh.send(' ');
      const page2 = await sh.expect(/ --More-- $/);
      assert.ok(page2.startsWith(erase), 'the pager prompt is erased with backspaces');
      assert.equal(page2.split('\r\n').length, 24);
      sh.send('\r');
      const oneLine = await sh.expect(/ --More-- $/);
      assert.equal(oneLine.split('\r\n').length, 2, 'Enter shows one more line');
      sh.send('q');
      assert.equal(await sh.expect(/lab-rtr1#$/), `${erase}lab-rtr1#`);

      assert.equal(await sh.run('terminal length 0', /\r\nlab-rtr1#$/), 'terminal length 0\r\nlab-rtr1#');
      const full = await sh.run('show running-config', /\r\nend\r\nlab-rtr1#$/);
      assert.ok(!full.includes('--More--'));
      assert.equal(bodyLines(full).length, 200, 'runningConfigLines defaults to 200');
      assert.match(full, /\r\nCurrent configuration : \d+ bytes\r\n/);
    });
  });

  it('paged output, reassembled, equals the unpaged output', async () => {
    await withShell(iosProfile({ startPrivileged: true, runningConfigLines: 120 }), /#$/, async (sh) => {
      let chunk = await sh.run('show running-config', / --More-- $|\r\nlab-rtr1#$/);
      let paged = chunk;
      while (chunk.endsWith(' --More-- ')) {
        sh.send(' ');
        chunk = await sh.expect(/ --More-- $|\r\nlab-rtr1#$/);
        paged += chunk;
      }
      const clean = paged.replace(/ --More-- (\x08{10} {10}\x08{10})?/g, '');
      await sh.run('terminal length 0', /#$/);
      const full = await sh.run('show running-config', /\r\nlab-rtr1#$/);
      assert.equal(clean, full);
    });
  });

  it('configuration mode prompts, exit / end / Ctrl+Z', async () => {
    await withShell(iosProfile({ startPrivileged: true }), /lab-rtr1#$/, async (sh) => {
      const conf = await sh.run('configure terminal', /lab-rtr1\(config\)#$/);
      assert.equal(
        conf,
        'configure terminal\r\nEnter configuration commands, one per line.  End with CNTL/Z.\r\nlab-rtr1(config)#',
      );
      await sh.run('interface Gi0/1', /\r\nlab-rtr1\(config-if\)#$/);
      await sh.run(' description uplink', /\r\nlab-rtr1\(config-if\)#$/);
      await sh.run('exit', /\r\nlab-rtr1\(config\)#$/);
      await sh.run('interface Gi0/1.100', /\r\nlab-rtr1\(config-subif\)#$/);
      await sh.run('line vty 0 4', /\r\nlab-rtr1\(config-line\)#$/); // global command from a sub-mode
      await sh.run('router ospf 1', /\r\nlab-rtr1\(config-router\)#$/);
      await sh.run('end', /\r\nlab-rtr1#$/);
      await sh.run('conf t', /\r\nlab-rtr1\(config\)#$/);
      sh.send('\x1a');
      assert.equal(await sh.expect(/lab-rtr1#$/), '^Z\r\nlab-rtr1#');
      await sh.run('config t', /\(config\)#$/);
      assert.match(await sh.run('do show clock', /\r\nlab-rtr1\(config\)#$/), /^do show clock\r\n\*\d\d:/);
      await sh.run('exit', /\r\nlab-rtr1#$/);
    });
  });

  it('cuts a long hostname in configuration-mode prompts only', async () => {
    const host = 'core-router-with-a-very-long-name-for-prompt-tests-0123456789ab'; // 63 chars
    assert.equal(host.length, 63);
    await withShell(iosProfile({ hostname: host, enableSecret: null }), />$/, async (sh, _sim, first) => {
      assert.ok(first.endsWith(`${host}>`));
      await sh.run('enable', new RegExp(`${host}#$`));
      const conf = await sh.run('configure terminal', /\(config\)#$/);
      assert.ok(conf.endsWith('\r\ncore-router-with-a-v(config)#'), JSON.stringify(conf));
      await sh.run('interface Loopback0', /\r\ncore-router-with-a-v\(config-if\)#$/);
      await sh.run('end', new RegExp(`\\r\\n${host}#$`));
    });
  });

  it('error messages: invalid input with caret, ambiguous, incomplete, unknown command', async () => {
    await withShell(iosProfile({ startPrivileged: true }), /lab-rtr1#$/, async (sh) => {
      const invalid = await sh.run('show versionx', /\r\nlab-rtr1#$/);
      assert.equal(
        invalid,
        `show versionx\r\n${' '.repeat('lab-rtr1#show '.length)}^\r\n% Invalid input detected at '^' marker.\r\n\r\nlab-rtr1#`,
      );
      assert.equal(await sh.run('te', /\r\nlab-rtr1#$/), 'te\r\n% Ambiguous command:  "te"\r\nlab-rtr1#');
      assert.equal(await sh.run('show', /\r\nlab-rtr1#$/), 'show\r\n% Incomplete command.\r\n\r\nlab-rtr1#');
      assert.equal(
        await sh.run('frobnicate', /\r\nlab-rtr1#$/),
        'frobnicate\r\nTranslating "frobnicate"\r\n% Unknown command or computer name, or unable to find computer address\r\nlab-rtr1#',
      );
      // Abbreviations are accepted; in configuration mode the caret counts the longer prompt.
      assert.match(await sh.run('sh ip int br', /\r\nlab-rtr1#$/), /GigabitEthernet1 +10\.0\.0\.1/);
      await sh.run('conf t', /\(config\)#$/);
      const bad = await sh.run('hostnam x y', /\(config\)#$/);
      assert.equal(bad.split('\r\n')[1], `${' '.repeat('lab-rtr1(config)#hostnam x '.length)}^`);
    });
  });

  it('"Command authorization failed." for commands AAA refuses', async () => {
    const profile = iosProfile({ startPrivileged: true, deniedCommands: [/^show running-config/] });
    await withShell(profile, /lab-rtr1#$/, async (sh) => {
      assert.equal(
        await sh.run('sh run', /\r\nlab-rtr1#$/),
        'sh run\r\nCommand authorization failed.\r\n\r\nlab-rtr1#',
      );
    });
  });

  it('a line ending in "#" that is not the prompt, followed by a pause', async () => {
    await withShell(iosProfile({ falsePromptPauseMs: 150 }), /lab-rtr1>$/, async (sh) => {
      sh.send('show banner motd\r');
      await sh.expect(/Welcome to lab-rtr1#/);
      const t0 = performance.now();
      assert.equal(await sh.expect(/lab-rtr1>$/), '\r\nlab-rtr1>');
      // Load can only lengthen the gap, so this lower bound is stable.
      assert.ok(performance.now() - t0 >= 80, 'the device pauses right after the prompt-like text');
    });
  });

  it('Ctrl+C abandons the line; %SYS-5-CONFIG_I with logging synchronous redraws the prompt', async () => {
    const profile = iosProfile({ startPrivileged: true, configLog: 'synchronous' });
    await withShell(profile, /lab-rtr1#$/, async (sh) => {
      sh.send('show ver\x03');
      assert.equal(await sh.expect(/lab-rtr1#$/), 'show ver^C\r\nlab-rtr1#');
      await sh.run('conf t', /\(config\)#$/);
      const out = await sh.run('end', /CONFIG_I.*\r\nlab-rtr1#$/);
      assert.match(
        out,
        /^end\r\nlab-rtr1#\r\n\*\w{3} [ \d]\d [\d:.]+: %SYS-5-CONFIG_I: Configured from console by admin on vty0 \(127\.0\.0\.1\)\r\nlab-rtr1#$/,
      );
    });
  });

  it('chunked delivery splits output into many small writes without changing it', async () => {
    const plain = iosProfile({ startPrivileged: true, pagingDefaultOn: false });
    const chunked = iosProfile({ startPrivileged: true, pagingDefaultOn: false, chunking: true, seed: 7 });
    let reference = '';
    await withShell(plain, /#$/, async (sh) => {
      reference = await sh.run('show running-config', /\r\nend\r\nlab-rtr1#$/);
    });
    await withShell(chunked, /#$/, async (sh) => {
      const before = sh.dataEvents;
      const out = await sh.run('show running-config', /\r\nend\r\nlab-rtr1#$/);
      assert.equal(
        out.replace(/Current configuration : \d+/, ''),
        reference.replace(/Current configuration : \d+/, ''),
      );
      assert.ok(sh.dataEvents - before > out.length / 64, `only ${sh.dataEvents - before} data events`);
    });
  });
});

// -----------------------------------------------------------------------------------------------------------

describe('Arista EOS simulator', { timeout: 60_000 }, () => {
  it('banner, user EXEC prompt, enable without password (default)', async () => {
    await withShell(
      eosProfile({ banner: 'Last login: Tue Jun  4 10:00:00 2024' }),
      /lab-sw1>$/,
      async (sh, _s, first) => {
        assert.equal(first, 'Last login: Tue Jun  4 10:00:00 2024\r\nlab-sw1>');
        assert.equal(
          await sh.run('show running-config', /\r\nlab-sw1>$/),
          'show running-config\r\n% Invalid input (privileged mode required)\r\nlab-sw1>',
        );
        assert.equal(await sh.run('enable', /lab-sw1#$/), 'enable\r\nlab-sw1#');
      },
    );
  });

  it('enable with a password profile: wrong -> "% Access denied", right -> #', async () => {
    await withShell(eosProfile({ enableSecret: 'arista' }), /lab-sw1>$/, async (sh) => {
      await sh.run('enable', /Password: $/);
      assert.equal(await sh.run('nope', /lab-sw1>$/), '\r\n% Access denied\r\nlab-sw1>');
      await sh.run('enable', /Password: $/);
      assert.equal(await sh.run('arista', /lab-sw1#$/), '\r\nlab-sw1#');
    });
  });

  it('pages at " --More-- " until "terminal length 0" ("Pagination disabled."); terminal width', async () => {
    await withShell(eosProfile({ startPrivileged: true }), /lab-sw1#$/, async (sh) => {
      const page = await sh.run('show running-config', / --More-- $/);
      assert.equal(page.split('\r\n').length, 25);
      sh.send('q');
      await sh.expect(/lab-sw1#$/);
      assert.equal(
        await sh.run('terminal length 0', /\r\nlab-sw1#$/),
        'terminal length 0\r\nPagination disabled.\r\nlab-sw1#',
      );
      assert.equal(
        await sh.run('terminal width 32767', /\r\nlab-sw1#$/),
        'terminal width 32767\r\nWidth set to 32767 columns.\r\nlab-sw1#',
      );
      const full = await sh.run('show running-config', /\r\nend\r\nlab-sw1#$/);
      assert.equal(bodyLines(full).length, 200);
      assert.ok(!full.includes('More'));
    });
  });

  it('configuration prompts: config, config-if-Et1, sessions', async () => {
    await withShell(eosProfile({ startPrivileged: true }), /lab-sw1#$/, async (sh) => {
      assert.equal(await sh.run('configure terminal', /#$/), 'configure terminal\r\nlab-sw1(config)#');
      await sh.run('interface Ethernet1', /\r\nlab-sw1\(config-if-Et1\)#$/);
      await sh.run('exit', /\r\nlab-sw1\(config\)#$/);
      await sh.run('router bgp 65001', /\r\nlab-sw1\(config-router-bgp\)#$/);
      await sh.run('end', /\r\nlab-sw1#$/);
      // EOS shows the first six characters of the session name.
      await sh.run('configure session change-42', /\r\nlab-sw1\(config-s-change\)#$/);
      await sh.run('interface Management1', /\r\nlab-sw1\(config-s-change-if-Ma1\)#$/);
      await sh.run('commit', /\r\nlab-sw1#$/);
      await sh.run('conf', /\(config\)#$/);
      sh.send('\x1a');
      assert.equal(await sh.expect(/lab-sw1#$/), '^Z\r\nlab-sw1#');
    });
  });

  it('error messages', async () => {
    await withShell(eosProfile({ startPrivileged: true }), /lab-sw1#$/, async (sh) => {
      const expectations: [string, string][] = [
        ['show foo', "% Invalid input (at token 1: 'foo')"],
        ['show', '% Incomplete command'],
        ['show in', '% Ambiguous command'],
        ['show platform fap', '% Unavailable command (not supported on this hardware platform)'],
        [
          'copy flash:nope.cfg running-config',
          '% Error copying flash:nope.cfg to running-config (No such file or directory)',
        ],
      ];
      for (const [cmd, msg] of expectations) {
        assert.equal(await sh.run(cmd, /\r\nlab-sw1#$/), `${cmd}\r\n${msg}\r\nlab-sw1#`);
      }
    });
    await withShell(eosProfile({ startPrivileged: true, invalidInputDetail: false }), /#$/, async (sh) => {
      assert.equal(await sh.run('frob', /\r\nlab-sw1#$/), 'frob\r\n% Invalid input\r\nlab-sw1#');
    });
  });

  it('bash drops into a Linux shell prompt, exit returns to the CLI', async () => {
    await withShell(eosProfile({ startPrivileged: true }), /lab-sw1#$/, async (sh) => {
      const enter = await sh.run('bash', /\[admin@lab-sw1 ~\]\$ $/);
      assert.equal(enter, 'bash\r\n\r\nArista Networks EOS shell\r\n\r\n[admin@lab-sw1 ~]$ ');
      assert.equal(await sh.run('whoami', /\$ $/), 'whoami\r\nadmin\r\n[admin@lab-sw1 ~]$ ');
      assert.match(await sh.run('nosuch', /\$ $/), /-bash: nosuch: command not found/);
      assert.equal(await sh.run('exit', /lab-sw1#$/), 'exit\r\nlab-sw1#');
    });
  });

  it('repeated echo and ANSI noise options', async () => {
    await withShell(eosProfile({ startPrivileged: true, repeatEcho: true }), /lab-sw1#$/, async (sh) => {
      const out = await sh.run('show clock', /\r\nlab-sw1#$/);
      assert.ok(out.startsWith('show clock\rlab-sw1#show clock\r\n'), JSON.stringify(out));
    });
    const noisy = eosProfile({ startPrivileged: true, repeatEcho: true, ansiNoise: true });
    await withShell(noisy, /lab-sw1#$/, async (sh) => {
      const out = await sh.run('show clock', /\r\nlab-sw1#$/);
      assert.ok(out.startsWith('show clock\x1b[10D\x1b[Kshow clock\r\n'), JSON.stringify(out));
      const bash = await sh.run('bash', /\$ $/);
      assert.ok(bash.endsWith('\x1b[?2004h[admin@lab-sw1 ~]$ '), JSON.stringify(bash));
    });
    await withShell(eosProfile({ startPrivileged: true, ansiNoise: true }), /lab-sw1#$/, async (sh) => {
      const out = await sh.run('show clock', /\r\nlab-sw1#$/);
      assert.ok(out.startsWith('show clock\x1b[5Dclock\x1b[K\r\n'), JSON.stringify(out));
    });
  });
});

// -----------------------------------------------------------------------------------------------------------

describe('Juniper Junos simulator', { timeout: 60_000 }, () => {
  it('banner, blank line, "user@host> " prompt', async () => {
    await withShell(junosProfile(), /admin@lab-fw1> $/, async (sh, _sim, first) => {
      assert.equal(
        first,
        '--- JUNOS 21.4R3-S1.5 Kernel 64-bit  JNPR-12.1-20230120.0a3ef1d_buil\r\n\r\nadmin@lab-fw1> ',
      );
      const out = await sh.run('show version | match Junos:', /\r\n\r\nadmin@lab-fw1> $/);
      assert.equal(out, 'show version | match Junos:\r\nJunos: 21.4R3-S1.5\r\n\r\nadmin@lab-fw1> ');
    });
  });

  it('pager "---(more)---" / "---(more NN%)---" until "set cli screen-length 0"', async () => {
    await withShell(junosProfile(), /admin@lab-fw1> $/, async (sh) => {
      await sh.run('set cli complete-on-space off', /> $/);
      const terse = await sh.run('show interfaces terse', /---\(more\)---$/);
      assert.equal(terse.split('\r\n').length, 1 + 23 + 1);
      sh.send('q');
      await sh.expect(/admin@lab-fw1> $/);
      const conf = await sh.run('show configuration', /---\(more \d+%\)---$/);
      assert.match(conf, /\r\n---\(more 11%\)---$/, 'percentage of 200 lines after 23');
      sh.send(' ');
      assert.match(await sh.expect(/---\(more \d+%\)---$/), /^\r {16}\r[\s\S]*---\(more 23%\)---$/);
      sh.send('q');
      await sh.expect(/admin@lab-fw1> $/);
      assert.equal(
        await sh.run('set cli screen-length 0', /> $/),
        'set cli screen-length 0\r\nScreen length set to 0\r\n\r\nadmin@lab-fw1> ',
      );
      assert.equal(
        await sh.run('set cli screen-width 511', /> $/),
        'set cli screen-width 511\r\nScreen width set to 511\r\n\r\nadmin@lab-fw1> ',
      );
      const full = await sh.run('show configuration', /\r\n\r\nadmin@lab-fw1> $/);
      assert.ok(!full.includes('---(more'));
      assert.equal(full.split('\r\n').length, 1 + 200 + 2);
    });
  });

  it('"| no-more" bypasses the pager for one command', async () => {
    await withShell(junosProfile({ runningConfigLines: 80 }), /> $/, async (sh) => {
      await sh.run('set cli complete-on-space off', /> $/);
      const out = await sh.run('show configuration | no-more', /\r\n\r\nadmin@lab-fw1> $/);
      assert.ok(!out.includes('more)'));
      assert.equal(out.split('\r\n').length, 1 + 80 + 2);
    });
  });

  it('configuration mode: [edit] line, edit levels, commit, exit configuration-mode', async () => {
    await withShell(junosProfile(), /admin@lab-fw1> $/, async (sh) => {
      await sh.run('set cli complete-on-space off', /> $/);
      assert.equal(
        await sh.run('configure', /# $/),
        'configure\r\nEntering configuration mode\r\n\r\n[edit]\r\nadmin@lab-fw1# ',
      );
      await sh.run('edit interfaces ge-0/0/0', /\r\n\[edit interfaces ge-0\/0\/0\]\r\nadmin@lab-fw1# $/);
      await sh.run('set description "uplink to core"', /\[edit interfaces ge-0\/0\/0\]\r\nadmin@lab-fw1# $/);
      await sh.run('up', /\r\n\[edit interfaces\]\r\nadmin@lab-fw1# $/);
      await sh.run('top', /\r\n\[edit\]\r\nadmin@lab-fw1# $/);
      assert.equal(
        await sh.run('commit', /# $/),
        'commit\r\ncommit complete\r\n\r\n[edit]\r\nadmin@lab-fw1# ',
      );
      assert.equal(
        await sh.run('exit configuration-mode', /> $/),
        'exit configuration-mode\r\nExiting configuration mode\r\n\r\nadmin@lab-fw1> ',
      );
    });
  });

  it('leaving with uncommitted changes asks first (no stays, yes leaves); exclusive asks to discard', async () => {
    await withShell(junosProfile(), /admin@lab-fw1> $/, async (sh) => {
      await sh.run('set cli complete-on-space off', /> $/);
      await sh.run('configure', /# $/);
      await sh.run('set system host-name lab-fw9', /# $/);
      const q = await sh.run('exit', /\(yes\) $/);
      assert.equal(
        q,
        'exit\r\nThe configuration has been changed but not committed\r\nExit with uncommitted changes? [yes,no] (yes) ',
      );
      assert.equal(await sh.run('no', /# $/), 'no\r\n\r\n[edit]\r\nadmin@lab-fw1# ');
      await sh.run('exit', /\(yes\) $/);
      assert.equal(await sh.run('yes', /> $/), 'yes\r\nExiting configuration mode\r\n\r\nadmin@lab-fw1> ');

      const excl = await sh.run('configure exclusive', /# $/);
      assert.match(
        excl,
        /^configure exclusive\r\nwarning: uncommitted changes will be discarded on exit\r\n/,
      );
      await sh.run('set system services ssh', /# $/);
      assert.match(
        await sh.run('exit configuration-mode', /\(yes\) $/),
        /Discard uncommitted changes\? \[yes,no\] \(yes\) $/,
      );
      assert.match(
        await sh.run('', /> $/),
        /warning: discarding uncommitted changes\r\nload complete\r\nExiting configuration mode/,
      );
    });
  });

  it('cluster line and prompt without trailing space', async () => {
    const profile = junosProfile({
      clusterLine: '{primary:node0}',
      trailingSpaceInPrompt: false,
      banner: '',
    });
    await withShell(profile, /admin@lab-fw1>$/, async (sh, _sim, first) => {
      assert.equal(first, '\r\n{primary:node0}\r\nadmin@lab-fw1>');
      await sh.run('set cli complete-on-space off', />$/);
      const conf = await sh.run('configure', /#$/);
      assert.ok(conf.endsWith('\r\n{primary:node0}[edit]\r\nadmin@lab-fw1#'), JSON.stringify(conf));
      assert.match(await sh.run('commit', /#$/), /node1:\r\ncommit complete/);
    });
  });

  it('error messages with caret lines', async () => {
    await withShell(junosProfile(), /admin@lab-fw1> $/, async (sh) => {
      await sh.run('set cli complete-on-space off', /> $/);
      const pad = (s: string) => ' '.repeat(s.length);
      const p = 'admin@lab-fw1> ';
      assert.equal(await sh.run('foo', /> $/), `foo\r\n${pad(p)}^\r\nunknown command.\r\n\r\n${p}`);
      assert.equal(
        await sh.run('show foo', /> $/),
        `show foo\r\n${pad(`${p}show `)}^\r\nsyntax error, expecting <command>.\r\n\r\n${p}`,
      );
      const amb = await sh.run('s', /> $/);
      assert.match(
        amb,
        /^s\r\n {15}\^\r\n's' is ambiguous\.\r\nPossible completions:\r\n {2}show {17}Show system information\r\n/,
      );
      assert.match(await sh.run('ping', /> $/), /\r\nmissing mandatory argument\.\r\n/);
      assert.match(
        await sh.run('show interfaces ge-9/9/9', /> $/),
        /\r\nerror: device ge-9\/9\/9 not found\r\n/,
      );
      await sh.run('configure', /# $/);
      const bad = await sh.run('set nonsense 1', /# $/);
      assert.equal(bad.split('\r\n').slice(1, 3).join('\n'), `${pad('admin@lab-fw1# set ')}^\nsyntax error.`);
    });
  });

  it('complete-on-space completes keywords in the echo until turned off', async () => {
    await withShell(junosProfile(), /admin@lab-fw1> $/, async (sh) => {
      const out = await sh.run('sh ver | match Model', /> $/);
      assert.ok(out.startsWith('show version | match Model\r\nModel: vsrx\r\n'), JSON.stringify(out));
      assert.equal(
        await sh.run('set cli complete-on-space off', /> $/),
        'set cli complete-on-space off\r\nDisabling complete-on-space\r\n\r\nadmin@lab-fw1> ',
      );
      const literal = await sh.run('sh ver | match Model', /> $/);
      assert.ok(literal.startsWith('sh ver | match Model\r\n'), JSON.stringify(literal));
    });
  });

  it('screenLengthFromPty: page size follows the pty rows and window-change', async () => {
    await withSim(junosProfile({ screenLengthFromPty: true }), async (sim) => {
      const sh = await RawShell.open(sim, { rows: 10 });
      try {
        await sh.expect(/admin@lab-fw1> $/);
        await sh.run('set cli complete-on-space off', /> $/);
        const first = await sh.run('show interfaces terse', /---\(more\)---$/);
        assert.equal(first.split('\r\n').length, 1 + 9 + 1);
        sh.send('q');
        await sh.expect(/> $/);
        sh.resize(15, 100);
        await delay(50);
        const again = await sh.run('show interfaces terse', /---\(more\)---$/);
        assert.equal(again.split('\r\n').length, 1 + 14 + 1);
        sh.send('q');
        await sh.expect(/> $/);
        assert.match(
          await sh.run('show cli', /> $/),
          /CLI screen-length set to 15\r\nCLI screen-width set to 100\r\n/,
        );
      } finally {
        sh.close();
      }
    });
  });

  it('root lands in the shell; cli starts the CLI and exit returns', async () => {
    const profile = junosProfile({ username: 'root', password: 'r00t', banner: '' });
    await withShell(profile, /root@lab-fw1:~ # $/, async (sh) => {
      assert.equal(await sh.run('cli', /> $/), 'cli\r\n\r\nroot@lab-fw1> ');
      await sh.run('exit', /root@lab-fw1:~ # $/);
      sh.send('exit\r');
      await Promise.race([sh.closed, delay(WAIT_MS).then(() => assert.fail('session did not end'))]);
    });
  });

  it('a description ending in ">" is output, not a prompt', async () => {
    await withShell(junosProfile({ falsePromptPauseMs: 150 }), /admin@lab-fw1> $/, async (sh) => {
      await sh.run('set cli complete-on-space off', /> $/);
      sh.send('show interfaces descriptions\r');
      await sh.expect(/peer admin@lab-fw2>/);
      const t0 = performance.now();
      assert.match(await sh.expect(/\r\n\r\nadmin@lab-fw1> $/), /^\r\nge-0\/0\/2/);
      assert.ok(performance.now() - t0 >= 80, 'pause after the prompt-like description');
    });
  });
});
