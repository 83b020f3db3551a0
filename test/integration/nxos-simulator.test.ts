// Drives the Cisco NX-OS simulator (test/simulators/nxos.ts) with a raw ssh2 client (pty + shell, and exec)
// and checks the documented NX-OS behaviours it models. Every wait is bounded; failures show the unread output.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nxosProfile } from '../simulators/nxos.js';
import { execCommand, withShell, withSim } from '../support/raw-shell.js';

/** The EXEC prompt as NX-OS sends it: a CR, the host name, "# ". */
const PROMPT = /\rlab-nx1# $/;
const MORE = /\x1b\[7m--More--\x1b\[m$/;

/** What NX-OS prints for a rejected line: a caret under `column` of the prompt line, then the message. */
function caretError(column: number, message: string): string {
  return `${' '.repeat(column)}^\r\n${message}\r\n`;
}

const INVALID = "% Invalid command at '^' marker.";
const INCOMPLETE = "% Incomplete command at '^' marker.";
const AMBIGUOUS = "% Ambiguous command at '^' marker.";
const PARAMETER = "% Invalid parameter detected at '^' marker.";
const P = 'lab-nx1# '.length;

/** Lines of a command's output: between the echoed command line and the prompt. */
function bodyLines(chunk: string, prompt: string): string[] {
  const start = chunk.indexOf('\r\r\n') + 3;
  assert.ok(start > 2, 'the echo ends in CR CR LF');
  assert.ok(chunk.endsWith(prompt), JSON.stringify(chunk.slice(-40)));
  const lines = chunk.slice(start, chunk.length - prompt.length).split('\r\n');
  assert.equal(lines.pop(), '', 'output ends with CR LF');
  return lines;
}

// -----------------------------------------------------------------------------------------------------------

describe('Cisco NX-OS simulator', { timeout: 90_000 }, () => {
  it('login: the NX-OS copyright banner, then "host# "; Enter echoes CR CR LF; prompts start with CR', async () => {
    await withShell(nxosProfile(), PROMPT, async (sh, _sim, first) => {
      assert.ok(first.startsWith('Cisco Nexus Operating System (NX-OS) Software\r\nTAC support: '), first);
      assert.ok(first.endsWith('http://www.gnu.org/licenses/old-licenses/library.txt.\r\n\rlab-nx1# '));
      assert.equal(await sh.settle(50), '', 'nothing after the prompt');
      assert.equal(await sh.run('show hostname', PROMPT), 'show hostname\r\r\nlab-nx1\r\n\rlab-nx1# ');
      assert.ok(!/[^\r]\n/.test(sh.all), 'every LF is preceded by CR');
    });
    await withShell(
      nxosProfile({ banner: 'LAB NEXUS - authorised use only' }),
      PROMPT,
      async (_sh, _sim, first) => {
        assert.equal(first, 'LAB NEXUS - authorised use only\r\n\rlab-nx1# ');
      },
    );
    await withShell(
      nxosProfile({ banner: '', extraCarriageReturns: false, trailingSpaceInPrompt: false }),
      /lab-nx1#$/,
      async (sh, _sim, first) => {
        assert.equal(first, 'lab-nx1#');
        assert.equal(await sh.run('show hostname', /lab-nx1#$/), 'show hostname\r\nlab-nx1\r\nlab-nx1#');
      },
    );
  });

  it('`enable` is not an NX-OS command: caret under it and "% Invalid command at \'^\' marker."', async () => {
    await withShell(nxosProfile(), PROMPT, async (sh) => {
      assert.equal(await sh.run('enable', PROMPT), `enable\r\r\n${caretError(P, INVALID)}\rlab-nx1# `);
      assert.equal(await sh.run('enable 15', PROMPT), `enable 15\r\r\n${caretError(P, INVALID)}\rlab-nx1# `);
      // Still (and only) privileged EXEC: configuration needs no enable.
      await sh.run('configure terminal', /\rlab-nx1\(config\)# $/);
    });
  });

  it('error messages with caret lines under the offending token', async () => {
    await withShell(nxosProfile(), PROMPT, async (sh) => {
      const check = async (line: string, column: number, message: string) => {
        assert.equal(
          await sh.run(line, PROMPT),
          `${line}\r\r\n${caretError(column, message)}\rlab-nx1# `,
          line,
        );
      };
      await check('show foo', P + 5, INVALID);
      await check('show version extra', P + 13, INVALID);
      await check('show', P + 4, INCOMPLETE); // caret right after the last typed character
      await check('wr', P + 2, INCOMPLETE); // `write erase` needs its keyword
      await check('co', P, AMBIGUOUS); // configure / copy
      await check('show v', P + 5, AMBIGUOUS); // version / vlan
      await check('terminal width 600', P + 15, PARAMETER); // range 24-511
      await check('terminal width 20', P + 15, PARAMETER);
      await check('terminal length 512', P + 16, PARAMETER); // range 0-511
      await check('terminal length many', P + 16, PARAMETER);
      await check('show interface ethernet1/99', P + 23, "Invalid range at '^' marker."); // under the number
      await check(
        'show interface port-channel',
        P + 27,
        "Invalid command (incomplete interface) at '^' marker.",
      );
      await check('show interface nonexists', P + 15, "Invalid interface format at '^' marker.");
      await check('show version | frobnicate', P + 15, INVALID);
      await check('show version | e NXOS', P + 15, AMBIGUOUS); // egrep / exclude
      await check('show version | include', P + 22, INCOMPLETE);

      const conf = '\rlab-nx1(config)# ';
      await sh.run('conf t', /\(config\)# $/);
      assert.equal(
        await sh.run('vlan 5000', /\(config\)# $/),
        `vlan 5000\r\r\n${caretError(17 + 5, "Invalid range at '^' marker.")}${conf}`,
      );
      // `router ospf` exists only after `feature ospf`; the caret marks the protocol.
      assert.equal(
        await sh.run('router ospf 1', /\(config\)# $/),
        `router ospf 1\r\r\n${caretError(17 + 7, INVALID)}${conf}`,
      );
      await sh.run('feature ospf', /\(config\)# $/);
      await sh.run('router ospf 1', /\(config-router\)# $/);
      const ifPrompt = '\rlab-nx1(config-if)# ';
      await sh.run('interface Ethernet1/1', /\(config-if\)# $/);
      assert.equal(
        await sh.run('description', /\(config-if\)# $/),
        `description\r\r\n${caretError(20 + 11, INCOMPLETE)}${ifPrompt}`,
      );
      assert.equal(
        await sh.run('frobnicate now', /\(config-if\)# $/),
        `frobnicate now\r\r\n${caretError(20, INVALID)}${ifPrompt}`,
      );
      // The reading that got furthest decides: `show` is an EXEC command, `bogus` is what is wrong.
      assert.equal(
        await sh.run('show bogus', /\(config-if\)# $/),
        `show bogus\r\r\n${caretError(20 + 5, INVALID)}${ifPrompt}`,
      );
      assert.equal(
        await sh.run('do show bogus', /\(config-if\)# $/),
        `do show bogus\r\r\n${caretError(20 + 8, INVALID)}${ifPrompt}`,
      );
    });
  });

  it('pages at reverse-video --More-- (Space page, Enter line, q quit, others ignored) until terminal length 0', async () => {
    await withShell(nxosProfile(), PROMPT, async (sh) => {
      const firstPage = await sh.run('show running-config', MORE);
      const lines = firstPage.split('\r\n');
      assert.equal(lines[0], 'show running-config\r');
      assert.equal(lines[1], '', 'the configuration starts with a blank line');
      assert.equal(lines[2], '!Command: show running-config');
      assert.match(
        lines[3] ?? '',
        /^!Running configuration last done at: \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$/,
      );
      assert.match(lines[4] ?? '', /^!Time: /);
      assert.equal(lines.length, 1 + 23 + 1, 'terminal length 24 shows 23 lines then the pager prompt');
      sh.send(' ');
      const page2 = await sh.expect(MORE);
      assert.ok(page2.startsWith('\r\x1b[K'), 'the pager prompt is erased with CR + erase-line');
      assert.equal(page2.split('\r\n').length, 24);
      sh.send('\r');
      assert.equal((await sh.expect(MORE)).split('\r\n').length, 2, 'Enter shows one more line');
      sh.send('x');
      assert.equal(await sh.settle(100), '', 'other keys are ignored at the pager');
      sh.send('q');
      assert.equal(await sh.expect(PROMPT), '\r\x1b[K\rlab-nx1# ');

      assert.equal(await sh.run('terminal length 0', PROMPT), 'terminal length 0\r\r\n\rlab-nx1# ');
      assert.equal(await sh.run('terminal width 511', PROMPT), 'terminal width 511\r\r\n\rlab-nx1# ');
      assert.match(await sh.run('show terminal', PROMPT), /\r\nLength: 0 lines, Width: 511 columns\r\n/);
      const full = await sh.run('show running-config', /\r\nboot nxos [^\r]+\r\n\rlab-nx1# $/);
      assert.ok(!full.includes('--More--'));
      const body = bodyLines(full, '\rlab-nx1# ');
      assert.equal(body.length, 200, 'runningConfigLines defaults to 200');
      assert.equal(body[1], '!Command: show running-config');
      assert.ok(body.includes('hostname lab-nx1'));
    });
  });

  it('paged output, reassembled, equals the unpaged output; paging can start off; plain pager option', async () => {
    await withShell(nxosProfile({ runningConfigLines: 120 }), PROMPT, async (sh) => {
      const stop = /\x1b\[7m--More--\x1b\[m$|\rlab-nx1# $/;
      let chunk = await sh.run('show running-config', stop);
      let paged = chunk;
      for (let i = 0; i < 20 && chunk.endsWith('--More--\x1b[m'); i++) {
        sh.send(' ');
        chunk = await sh.expect(stop);
        paged += chunk;
      }
      const clean = paged.replace(/\x1b\[7m--More--\x1b\[m\r\x1b\[K/g, '').replace(/!Time: [^\r]*/, '');
      await sh.run('terminal length 0', PROMPT);
      const full = (await sh.run('show running-config', PROMPT)).replace(/!Time: [^\r]*/, '');
      assert.equal(clean, full);
      assert.equal(bodyLines(full, '\rlab-nx1# ').length, 120);
    });
    await withShell(nxosProfile({ pagingDefaultOn: false, runningConfigLines: 300 }), PROMPT, async (sh) => {
      const full = await sh.run('show running-config', PROMPT);
      assert.ok(!full.includes('--More--'));
      assert.equal(bodyLines(full, '\rlab-nx1# ').length, 300);
    });
    await withShell(nxosProfile({ ansiPager: false, terminalLength: 10 }), PROMPT, async (sh) => {
      const page = await sh.run('show version', /--More--$/);
      assert.equal(page.split('\r\n').length, 1 + 9 + 1);
      assert.ok(!page.includes('\x1b'));
      sh.send('q');
      await sh.expect(PROMPT);
    });
  });

  it('configuration prompts: (config)# (config-if)# (config-vlan)# (config-router)# ..., exit / end / Ctrl+Z', async () => {
    await withShell(nxosProfile(), PROMPT, async (sh) => {
      assert.equal(
        await sh.run('configure terminal', /\(config\)# $/),
        'configure terminal\r\r\nEnter configuration commands, one per line. End with CNTL/Z.\r\n\rlab-nx1(config)# ',
      );
      const step = async (line: string, mode: string) => {
        const prompt = `\rlab-nx1(${mode})# `;
        assert.equal(await sh.run(line, /# $/), `${line}\r\r\n${prompt}`, line);
      };
      await step('interface Ethernet1/1', 'config-if');
      await step('  description uplink to lab-core1', 'config-if');
      await step('exit', 'config');
      await step('int e1/2-4', 'config-if-range');
      await step('switchport access vlan 10', 'config-if-range');
      await step('vlan 10', 'config-vlan'); // a global command from a sub-mode switches back
      await step('name SERVERS', 'config-vlan');
      await step('router bgp 65000', 'config-router');
      await step('neighbor 10.0.0.2 remote-as 65001', 'config-router-neighbor');
      await step('address-family ipv4 unicast', 'config-router-neighbor-af');
      await step('send-community', 'config-router-neighbor-af');
      assert.equal(
        await sh.run('where', /# $/),
        'where\r\r\n  conf; router bgp 65000; neighbor 10.0.0.2; address-family ipv4 unicast      admin@lab-nx1%default\r\n' +
          '\rlab-nx1(config-router-neighbor-af)# ',
      );
      await step('exit', 'config-router-neighbor');
      await step('exit', 'config-router');
      await step('address-family ipv4 unicast', 'config-router-af');
      await step('vrf context BLUE', 'config-vrf');
      await step('line vty', 'config-line');
      await step('line console', 'config-console');
      await step('interface loopback1', 'config-if');
      // EXEC commands run in configuration modes, with or without `do`.
      assert.equal(
        await sh.run('show hostname', /# $/),
        'show hostname\r\r\nlab-nx1\r\n\rlab-nx1(config-if)# ',
      );
      assert.equal(
        await sh.run('do show hostname', /# $/),
        'do show hostname\r\r\nlab-nx1\r\n\rlab-nx1(config-if)# ',
      );
      assert.equal(await sh.run('end', PROMPT), 'end\r\r\n\rlab-nx1# ');
      await sh.run('conf', /\(config\)# $/);
      await sh.run('interface mgmt0', /\(config-if\)# $/);
      sh.send('\x1a');
      assert.equal(await sh.expect(PROMPT), '^Z\r\n\rlab-nx1# ');
      await sh.run('conf t', /\(config\)# $/);
      sh.send('show ver\x03');
      assert.equal(
        await sh.expect(/# $/),
        'show ver^C\r\n\rlab-nx1(config)# ',
        'Ctrl+C abandons the line only',
      );
      assert.equal(await sh.run('exit', PROMPT), 'exit\r\r\n\rlab-nx1# ');
    });
  });

  it('keeps a 40-character host name whole in every configuration prompt; hostname changes the prompt', async () => {
    const host = 'dc1-pod7-leaf-nexus93180yc-fx-switch-017';
    assert.equal(host.length, 40);
    const prompt = (mode?: string) => new RegExp(`\\r${host}${mode ? `\\(${mode}\\)` : ''}# $`);
    await withShell(nxosProfile({ hostname: host, banner: '' }), prompt(), async (sh, _sim, first) => {
      assert.equal(first, `\r${host}# `);
      await sh.run('conf t', prompt('config'));
      await sh.run('interface Ethernet1/10', prompt('config-if'));
      await sh.run('vlan 30', prompt('config-vlan'));
      await sh.run('router bgp 65000', prompt('config-router'));
      await sh.run('neighbor 192.0.2.1', prompt('config-router-neighbor'));
      const err = await sh.run('bogus', prompt('config-router-neighbor'));
      assert.equal(
        err,
        `bogus\r\r\n${caretError(host.length + '(config-router-neighbor)# '.length, INVALID)}\r${host}(config-router-neighbor)# `,
      );
      await sh.run('end', prompt());
      await sh.run('conf t', prompt('config'));
      await sh.run('hostname lab-nx9', /\rlab-nx9\(config\)# $/);
      await sh.run('end', /\rlab-nx9# $/);
      assert.match(
        await sh.run('show version | no-more', /\rlab-nx9# $/),
        /\r\n {2}Device name: lab-nx9\r\n/,
      );
    });
  });

  it('canned output: show version, interface brief / description, vlan brief, clock, hostname; state changes show', async () => {
    await withShell(nxosProfile({ pagingDefaultOn: false }), PROMPT, async (sh) => {
      const ver = await sh.run('show version', PROMPT);
      assert.match(ver, /^show version\r\r\nCisco Nexus Operating System \(NX-OS\) Software\r\n/);
      assert.match(ver, /\r\n NXOS: version 9\.3\(10\)\r\n/);
      assert.match(ver, /\r\n {2}NXOS image file is: bootflash:\/\/\/nxos\.9\.3\.10\.bin\r\n/);
      assert.match(ver, /\r\n {2}cisco Nexus9000 C93180YC-FX Chassis\r\n/);

      const brief = await sh.run('show interface brief', PROMPT);
      assert.match(brief, /\r\nEthernet +VLAN +Type Mode +Status +Reason +Speed +Port\r\n/);
      assert.match(brief, /\r\nEth1\/1 +1 +eth +trunk +up +none +25G\(D\) --\r\n/);
      assert.match(brief, /\r\nEth1\/4 +20 +eth +access down +Link not connected +auto\(D\) --\r\n/);
      assert.match(brief, /\r\nmgmt0 +-- +up +10\.0\.0\.11 +1000 +1500\r\n/);

      const vlans = await sh.run('show vlan brief', PROMPT);
      assert.match(vlans, /\r\nVLAN Name +Status +Ports\r\n---- -{32} -{9} -{31}\r\n/);
      assert.match(vlans, /\r\n10 {3}SERVERS {26}active {4}Eth1\/1, Eth1\/2, Eth1\/3, Eth1\/5\r\n/);

      assert.match(
        await sh.run('show clock', PROMPT),
        /^show clock\r\r\nTime source is NTP\r\n\d\d:\d\d:\d\d\.\d{3} UTC \w{3} \w{3} \d\d \d{4}\r\n\rlab-nx1# $/,
      );
      assert.equal(await sh.run('show hostname', PROMPT), 'show hostname\r\r\nlab-nx1\r\n\rlab-nx1# ');

      const desc = await sh.run('show interface description', PROMPT);
      assert.match(desc, /\r\nPort +Type +Speed +Description\r\n/);
      assert.match(desc, /\r\nEth1\/1 +eth +25G +uplink to lab-core1#\r\n/);

      // Configuration changes are visible to show commands.
      await sh.run('conf t', /\(config\)# $/);
      await sh.run('vlan 30', /\(config-vlan\)# $/);
      await sh.run('name APP', /\(config-vlan\)# $/);
      await sh.run('interface Ethernet1/5', /\(config-if\)# $/);
      await sh.run('description db-primary', /\(config-if\)# $/);
      await sh.run('switchport access vlan 30', /\(config-if\)# $/);
      await sh.run('shutdown', /\(config-if\)# $/);
      await sh.run('end', PROMPT);
      assert.match(
        await sh.run('show vlan brief | include APP', PROMPT),
        /\r\n30 {3}APP {30}active {4}Eth1\/1, Eth1\/2, Eth1\/5, Eth1\/49\r\n/,
      );
      assert.match(
        await sh.run('show interface brief | include Eth1/5 ', PROMPT),
        /\r\nEth1\/5 +30 +eth +access down +Administratively down +auto\(D\) --\r\n/,
      );
      assert.match(
        await sh.run('sh int e1/5', PROMPT),
        /\r\nEthernet1\/5 is down \(Administratively down\)\r\n(?:.*\r\n)*? {2}Description: db-primary\r\n/,
      );
      assert.match(
        await sh.run('show running-config interface Ethernet1/5', PROMPT),
        /\r\ninterface Ethernet1\/5\r\n {2}description db-primary\r\n {2}switchport access vlan 30\r\n {2}shutdown\r\n/,
      );
    });
  });

  it('pauses right after the prompt-like interface description (false-prompt test)', async () => {
    await withShell(nxosProfile({ falsePromptPauseMs: 150 }), PROMPT, async (sh) => {
      await sh.run('terminal length 0', PROMPT);
      sh.send('show interface description\r');
      await sh.expect(/uplink to lab-core1#/);
      const t0 = performance.now();
      assert.match(await sh.expect(PROMPT), /^\r\nEth1\/2 /);
      // Load can only lengthen the gap, so this lower bound is stable.
      assert.ok(performance.now() - t0 >= 80, 'the device pauses right after the prompt-like text');
    });
  });

  it('copy running-config startup-config draws a progress bar, then "Copy complete."', async () => {
    await withShell(nxosProfile(), PROMPT, async (sh) => {
      const out = await sh.run('copy run start', PROMPT);
      assert.match(out, /^copy run start\r\r\n\[#*\s*\] +\d+%\r\[/, 'the bar is redrawn with CRs');
      assert.ok(
        out.endsWith(
          '\r[########################################] 100%\r\n' +
            'Copy complete, now saving to disk (please wait)...\r\nCopy complete.\r\n\rlab-nx1# ',
        ),
        JSON.stringify(out),
      );
    });
    await withShell(nxosProfile({ copyProgress: 'final' }), PROMPT, async (sh) => {
      assert.equal(
        await sh.run('copy running-config startup-config', PROMPT),
        'copy running-config startup-config\r\r\n[########################################] 100%\r\n' +
          'Copy complete, now saving to disk (please wait)...\r\nCopy complete.\r\n\rlab-nx1# ',
      );
    });
  });

  it('pipes: include, count, last, no-more', async () => {
    await withShell(nxosProfile(), PROMPT, async (sh) => {
      assert.equal(
        await sh.run('show running-config | include ^hostname', PROMPT),
        'show running-config | include ^hostname\r\r\nhostname lab-nx1\r\n\rlab-nx1# ',
      );
      assert.equal(
        await sh.run('show running-config | count', PROMPT),
        'show running-config | count\r\r\n200\r\n\rlab-nx1# ',
      );
      assert.equal(
        await sh.run('show running-config | last 2', PROMPT),
        'show running-config | last 2\r\r\nline vty\r\nboot nxos bootflash:/nxos.9.3.10.bin\r\n\rlab-nx1# ',
      );
      const all = await sh.run('show running-config | no-more', PROMPT);
      assert.ok(!all.includes('--More--'), 'no-more bypasses the pager');
      assert.equal(bodyLines(all, '\rlab-nx1# ').length, 200);
    });
  });

  it('roles: network-operator may show and enter config mode, the rest is "% Permission denied for the role"', async () => {
    await withShell(nxosProfile({ role: 'network-operator' }), PROMPT, async (sh) => {
      assert.match(await sh.run('show version | no-more', PROMPT), /NXOS: version/);
      const denied = (line: string, prompt = '\rlab-nx1# ') =>
        `${line}\r\r\n% Permission denied for the role\r\n${prompt}`;
      assert.equal(await sh.run('show running-config', PROMPT), denied('show running-config'));
      assert.equal(
        await sh.run('copy running-config startup-config', PROMPT),
        denied('copy running-config startup-config'),
      );
      await sh.run('configure terminal', /\(config\)# $/);
      assert.equal(
        await sh.run('hostname evil', /\(config\)# $/),
        denied('hostname evil', '\rlab-nx1(config)# '),
      );
      assert.equal(
        await sh.run('interface Ethernet1/1', /\(config\)# $/),
        denied('interface Ethernet1/1', '\rlab-nx1(config)# '),
      );
      await sh.run('end', PROMPT);
    });
    await withShell(nxosProfile({ deniedCommands: [/^show inventory/] }), PROMPT, async (sh) => {
      assert.equal(
        await sh.run('sh inv', PROMPT),
        'sh inv\r\r\n% Permission denied for the role\r\n\rlab-nx1# ',
      );
      assert.match(await sh.run('show version | no-more', PROMPT), /NXOS: version/);
    });
  });

  it('exec channel: output without pager; "Syntax error while parsing" exits 16, a refusal exits 30', async () => {
    await withSim(nxosProfile({ runningConfigLines: 100 }), async (sim) => {
      const ok = await execCommand(sim, 'show running-config');
      assert.equal(ok.code, 0);
      assert.ok(!ok.out.includes('--More--'));
      assert.equal(ok.out.split('\r\n').length - 1, 100);
      const bad = await execCommand(sim, 'show foo');
      assert.equal(bad.code, 16);
      assert.equal(bad.out, "Syntax error while parsing 'show foo'\r\n");
      assert.ok(sim.transcript().includes('show foo\n'));
    });
    await withSim(nxosProfile({ role: 'network-operator' }), async (sim) => {
      const r = await execCommand(sim, 'show running-config');
      assert.equal(r.code, 30);
      assert.equal(r.out, '% Permission denied for the role\r\n');
    });
  });

  it('survives chunked delivery: the same bytes arrive in small pieces', async () => {
    await withShell(
      nxosProfile({ chunking: true, seed: 7, runningConfigLines: 60 }),
      PROMPT,
      async (sh, _sim, first) => {
        assert.ok(first.endsWith('library.txt.\r\n\rlab-nx1# '));
        await sh.run('terminal length 0', PROMPT);
        const out = await sh.run('show running-config', PROMPT);
        assert.equal(bodyLines(out, '\rlab-nx1# ').length, 60);
      },
    );
  });
});
