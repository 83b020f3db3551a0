import { isMap, isNode, isScalar, LineCounter, parseDocument } from 'yaml';

/** A parsed YAML (or JSON) file that can say where each of its fields is written. */
export interface YamlSource {
  /** The document as plain data; null for an empty document. */
  data: unknown;
  /** The first syntax error as "file:line:col: message"; `data` is unusable when it is set. */
  syntaxError?: string;
  /** "file:line:col" of the value at `path`, or of the deepest parent that exists (a missing field is
   *  reported where its parent is); just the file when nothing along the path is in it. */
  locate(path: readonly PropertyKey[]): string;
  /** Like `locate`, but points at the key of the last field (where an unknown key is written). */
  locateKey(path: readonly PropertyKey[]): string;
}

/**
 * Parse with the Document API so that validation errors can point at a line and column. `prefix` is
 * where the interesting object sits in the document (a key in package.json, say).
 */
export function parseYamlSource(text: string, file: string, prefix: readonly PropertyKey[] = []): YamlSource {
  const lineCounter = new LineCounter();
  // prettyErrors off: a pretty error quotes the offending source line, which may hold a secret.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const where = (offset: number | undefined) => {
    if (offset === undefined) return file;
    const { line, col } = lineCounter.linePos(offset);
    return `${file}:${line}:${col}`;
  };
  const locate = (path: readonly PropertyKey[]) => {
    const full = [...prefix, ...path];
    for (let depth = full.length; depth >= 0; depth--) {
      const node = doc.getIn(full.slice(0, depth), true);
      if (isNode(node)) return where(node.range?.[0]);
    }
    return file;
  };
  const locateKey = (path: readonly PropertyKey[]) => {
    const last = path[path.length - 1];
    const parent = doc.getIn([...prefix, ...path.slice(0, -1)], true);
    if (isMap(parent)) {
      const pair = parent.items.find((item) => isScalar(item.key) && String(item.key.value) === String(last));
      if (pair && isNode(pair.key)) return where(pair.key.range?.[0]);
    }
    return locate(path);
  };
  const firstError = doc.errors[0];
  if (firstError) {
    return {
      data: undefined,
      syntaxError: `${where(firstError.pos[0])}: ${firstError.message}`,
      locate,
      locateKey,
    };
  }
  return { data: doc.toJS(), locate, locateKey };
}
