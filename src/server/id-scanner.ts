const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

/** Longest top-level key worth remembering ("method" is the longest we look for). */
const MAX_KEY = 16;
/** Longest id or method value kept; a longer one is not used to answer. */
const MAX_VALUE = 1024;

/**
 * Finds the top-level "id" and "method" of a JSON-RPC message that is read in pieces and never kept whole
 * (one too large to buffer), so the error for it can carry its id. Memory stays constant however long the
 * message is; nested values are skipped by counting brackets outside strings.
 */
export class IdScanner {
  id: string | number | undefined;
  method: string | undefined;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private expectKey = false;
  private key: number[] | undefined;
  private lastKey = '';
  private field: 'id' | 'method' | undefined;
  private value: number[] = [];
  private finished = false;

  feed(bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length && !this.finished; i++) this.step(bytes[i] as number);
  }

  private step(b: number): void {
    if (this.inString) {
      if (this.escaped) this.escaped = false;
      else if (b === BACKSLASH) this.escaped = true;
      else if (b === QUOTE) {
        this.inString = false;
        if (this.key) {
          this.lastKey = Buffer.from(this.key).toString('utf8');
          this.key = undefined;
          return;
        }
      }
      if (this.key) {
        if (this.key.length < MAX_KEY) this.key.push(b);
        return;
      }
      this.keep(b);
      return;
    }
    const top = this.depth === 1;
    switch (b) {
      case QUOTE:
        this.inString = true;
        if (top && this.expectKey) {
          this.key = [];
          return;
        }
        break;
      case OPEN_OBJECT:
      case OPEN_ARRAY:
        // Not an object at the top: there is no id to find.
        if (this.depth === 0 && b !== OPEN_OBJECT) this.finished = true;
        this.depth++;
        if (this.depth === 1) {
          this.expectKey = true;
          return;
        }
        break;
      case CLOSE_OBJECT:
      case CLOSE_ARRAY:
        this.depth--;
        if (top) {
          this.endValue();
          this.finished = true;
          return;
        }
        break;
      case COLON:
        if (top) {
          this.expectKey = false;
          if (this.lastKey === 'id' || this.lastKey === 'method') this.field = this.lastKey;
          return;
        }
        break;
      case COMMA:
        if (top) {
          this.endValue();
          this.expectKey = true;
          return;
        }
        break;
    }
    this.keep(b);
  }

  /** A byte of the value being captured (other values are skipped). */
  private keep(b: number): void {
    if (this.field && this.value.length <= MAX_VALUE) this.value.push(b);
  }

  private endValue(): void {
    const field = this.field;
    this.field = undefined;
    if (!field || this.value.length > MAX_VALUE) {
      this.value = [];
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(Buffer.from(this.value).toString('utf8'));
    } catch {
      value = undefined;
    }
    this.value = [];
    if (field === 'method' && typeof value === 'string') this.method = value;
    if (
      field === 'id' &&
      (typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value)))
    ) {
      this.id = value;
    }
  }
}
