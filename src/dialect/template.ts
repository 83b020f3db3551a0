/**
 * `{{name}}` and `{{name|filter}}` placeholders in dialect strings. Templates are split into parts once at
 * load, so rendering on the per-command path is a join.
 */
/** POSIX single quoting: the value reaches the shell as one literal word, whatever it contains. */
export const shellQuote = (value: string) => `'${value.replaceAll("'", `'\\''`)}'`;

const FILTERS: Record<string, (value: string) => string> = {
  shell_quote: shellQuote,
  // A CLI string argument: "text", with " and \ escaped (a comment on a commit).
  double_quote: (value) => `"${value.replace(/["\\]/g, '\\$&')}"`,
  regex_escape: escapeRegex,
  // Any non-empty prefix of the value: devices cut long host names in some prompts.
  regex_prefixes: (value) =>
    [...value].reduceRight(
      (inner, char, i) => (i === 0 ? escapeRegex(char) + inner : `(?:${escapeRegex(char)}${inner})?`),
      '',
    ),
};

function escapeRegex(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

const PLACEHOLDER = /\{\{\s*([a-z_][a-z0-9_]*)\s*(?:\|\s*([a-z_]+)\s*)?\}\}/gi;

export type TemplatePart = string | { name: string; filter?: (value: string) => string };

export class Template {
  readonly parts: TemplatePart[] = [];
  readonly names: ReadonlySet<string>;

  constructor(readonly source: string) {
    const names = new Set<string>();
    let last = 0;
    for (const m of source.matchAll(PLACEHOLDER)) {
      const [whole, name = '', filterName] = m;
      if (m.index > last) this.parts.push(source.slice(last, m.index));
      let filter: ((value: string) => string) | undefined;
      if (filterName) {
        filter = FILTERS[filterName];
        if (!filter) {
          throw new Error(`unknown filter "${filterName}" (known: ${Object.keys(FILTERS).join(', ')})`);
        }
      }
      this.parts.push({ name, filter });
      names.add(name);
      last = m.index + whole.length;
    }
    if (last < source.length) this.parts.push(source.slice(last));
    this.names = names;
  }

  render(vars: Readonly<Record<string, string | undefined>>): string {
    let out = '';
    for (const part of this.parts) out += this.renderPart(part, vars);
    return out;
  }

  renderPart(part: TemplatePart, vars: Readonly<Record<string, string | undefined>>): string {
    if (typeof part === 'string') return part;
    const value = vars[part.name];
    if (value === undefined) throw new Error(`template value "${part.name}" is not known`);
    return part.filter ? part.filter(value) : value;
  }
}
