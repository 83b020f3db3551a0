import type { DialectFile } from './schema.js';
import { Template } from './template.js';

/** A dialect with every template and pattern compiled once, ready for the runner. */
export interface Dialect {
  name: string;
  description: string;
  source: string;
  channel: DialectFile['channel'];
  lineEnding: string;
  completion: {
    strategy: 'marker';
    send: Template;
    /** The dialect's `match` with {{marker}} as a named group `marker`, compiled once (global: see the runner). */
    match: RegExp;
  };
  onOpen: { send: Template; capture: { name: string; pattern: RegExp }[] }[];
  interrupt: { send?: string; exec?: Template; forceExec?: Template; graceMs: number };
}

/** Markers are made of these characters, so the group can be this narrow. */
const MARKER_GROUP = '(?<marker>[0-9A-Za-z]{8,64})';

export function compileDialect(file: DialectFile, source: string): Dialect {
  // One regex for every command: the runner checks the captured marker is the one it sent, which costs
  // less than compiling a regex per command.
  if (!file.completion.match.includes('{{marker}}'))
    throw new Error('completion.match must contain {{marker}}');
  const match = new RegExp(file.completion.match.replaceAll('{{marker}}', MARKER_GROUP), 'g');
  return {
    name: file.name,
    description: file.description,
    source,
    channel: file.channel,
    lineEnding: file.line_ending,
    completion: { strategy: 'marker', send: new Template(file.completion.send), match },
    onOpen: file.on_open.map((s) => ({
      send: new Template(s.send),
      capture: Object.entries(s.capture ?? {}).map(([name, pattern]) => ({
        name,
        pattern: new RegExp(pattern),
      })),
    })),
    interrupt: {
      send: file.interrupt.send,
      exec: file.interrupt.exec === undefined ? undefined : new Template(file.interrupt.exec),
      forceExec:
        file.interrupt.force_exec === undefined ? undefined : new Template(file.interrupt.force_exec),
      graceMs: file.interrupt.grace_ms,
    },
  };
}
