import type { DialectFile } from './schema.js';
import { Template } from './template.js';

/** A dialect with every template and pattern compiled once, ready for the runner. */
export interface Dialect {
  name: string;
  description: string;
  source: string;
  channel: DialectFile['channel'];
  lineEnding: string;
  completion: { strategy: 'marker'; send: Template; match: Template };
  onOpen: { send: Template; capture: { name: string; pattern: RegExp }[] }[];
  interrupt: { send?: string; exec?: Template; forceExec?: Template; graceMs: number };
}

/** A per-command marker regex: the dialect's `match` with the marker spliced in as a literal. */
export function markerPattern(dialect: Dialect, marker: string): RegExp {
  return new RegExp(dialect.completion.match.render({ marker }));
}

export function compileDialect(file: DialectFile, source: string): Dialect {
  // The match must be a valid regex once a marker is in it; the filter makes the marker a literal.
  const literalMarker = new Template(
    file.completion.match.replaceAll('{{marker}}', '{{marker|regex_escape}}'),
  );
  new RegExp(literalMarker.render({ marker: 'probe' }));
  return {
    name: file.name,
    description: file.description,
    source,
    channel: file.channel,
    lineEnding: file.line_ending,
    completion: { strategy: 'marker', send: new Template(file.completion.send), match: literalMarker },
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
