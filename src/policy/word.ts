/**
 * A word of a command line, as the shell parser reads it. In a file of its own: the parser uses the files
 * that look at words (evaluation, variables, ...), so they cannot take the type from the parser.
 */
export interface Word {
  /** Quotes removed and escapes decoded; an expansion keeps its source text (`$HOME`, `$(date)`). */
  value: string;
  /** Part of the word is only known when it runs: a parameter, a substitution, a glob or braces. */
  dynamic: boolean;
  /** No quotes, escapes or expansions: only such a word can be a reserved word (`if`, `{`, ...). */
  plain: boolean;
  /** An unquoted expansion, glob or brace list: bash may turn the word into several words, or none. */
  fields: boolean;
}
