import type { Answer } from '../support/raw-client.js';

export type Problem = { verdict: 'malformed' | 'unclear'; why: string };

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** What a person (or model) cannot act on: a stack, a schema dump, an object printed as text, nothing. */
const UNCLEAR: [RegExp, string][] = [
  [/^\s*$/, 'empty message'],
  [/\n\s+at \S.*:\d+:\d+|\bat (file:\/\/|node:|\/)\S+:\d+:\d+/, 'stack trace'],
  [/"(code|expected|path|received)"\s*:|^\s*\[\s*\{/, 'zod or JSON dump'],
  [/\[object Object\]/, '[object Object]'],
  [/^MCP error -?\d+:/, 'SDK code prefix'],
  [/^(undefined|null|Internal error|Error)\.?$/, 'says nothing'],
];

/** Longest message that is still a message and not an echo of the input. */
const MAX_TEXT = 4000;

export function unclear(text: unknown): string | undefined {
  if (typeof text !== 'string') return `message is ${typeof text}`;
  if (text.length > MAX_TEXT) return `message of ${text.length} characters`;
  for (const [pattern, why] of UNCLEAR) if (pattern.test(text)) return why;
  return undefined;
}

/**
 * One line the server wrote, judged: JSON-RPC 2.0 shape (jsonrpc, id, exactly one of result and error,
 * an error with an integer code and a string message), and for errors and tool errors, whether the text
 * says something usable.
 */
export function judge(answer: Answer, knownIds: { has(id: string | number): boolean }): Problem | undefined {
  const m = answer.json;
  if (!m) return { verdict: 'malformed', why: `not a JSON object: ${answer.raw.slice(0, 120)}` };
  if (m.jsonrpc !== '2.0') return { verdict: 'malformed', why: 'jsonrpc is not "2.0"' };
  if ('method' in m) return undefined; // a request or notification from the server (progress, elicitation)
  if (!('id' in m)) return { verdict: 'malformed', why: 'response without an id' };
  if (m.id !== null && !knownIds.has(m.id as string | number)) {
    return { verdict: 'malformed', why: `answer to an id never sent: ${JSON.stringify(m.id).slice(0, 60)}` };
  }
  if ('result' in m === 'error' in m)
    return { verdict: 'malformed', why: 'needs exactly one of result and error' };
  if ('error' in m) {
    const error = m.error;
    if (!isObject(error) || !Number.isInteger(error.code) || typeof error.message !== 'string') {
      return {
        verdict: 'malformed',
        why: `error without an integer code and a message: ${JSON.stringify(error).slice(0, 120)}`,
      };
    }
    const why = unclear(error.message);
    return why ? { verdict: 'unclear', why: `${why}: ${String(error.message).slice(0, 160)}` } : undefined;
  }
  if (!isObject(m.result)) return { verdict: 'malformed', why: 'result is not an object' };
  if (m.result.isError === true) {
    const content = m.result.content;
    if (!Array.isArray(content)) return { verdict: 'malformed', why: 'tool error without content' };
    const text = content.map((c) => (isObject(c) && typeof c.text === 'string' ? c.text : '')).join('');
    const why = unclear(text);
    return why ? { verdict: 'unclear', why: `${why}: ${text.slice(0, 160)}` } : undefined;
  }
  return undefined;
}
