// TEST-ONLY stand-in for Prisma's native query engine (LiteLLM database mode in local test images,
// where the native engines cannot be downloaded; production uses the official image's native engine).
//
// A small parser for the subset of GraphQL that prisma-client-py 0.11's query builder emits
// (templates/builder.py.jinja): one `query { ... }` or `mutation { ... }` operation whose fields are
// `alias: name(arg: value ...) { selection }`. Values are JSON literals (json.dumps output), objects
// `{ key: value }`, lists `[a, b]`; commas are insignificant as in GraphQL. Bare identifiers in value
// position are GraphQL enum literals. Fragments and variables are not supported (the native engine
// rejects them too).
'use strict';

/** An integer literal that does not fit a JS double exactly; keeps its digits for BigInt fields. */
class IntToken {
  constructor(text) {
    this.text = text;
  }
  // Anywhere the DMMF walk does not claim it (Int/Float fields), it degrades to a number.
  toJSON() {
    return Number(this.text);
  }
}

/** A GraphQL enum literal (bare identifier); the JSON protocol spells it {"$type":"Enum"}. */
class EnumToken {
  constructor(name) {
    this.name = name;
  }
  toJSON() {
    return { $type: 'Enum', value: this.name };
  }
}

class GraphQLSyntaxError extends Error {}

const NAME_START = /[_A-Za-z]/;
const NAME_RE = /[_A-Za-z][_0-9A-Za-z]*/y;
const NUMBER_RE = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;

class Parser {
  constructor(text) {
    this.s = text;
    this.i = 0;
  }

  fail(message) {
    throw new GraphQLSyntaxError(`Query parsing failure: ${message} at offset ${this.i}`);
  }

  /** Skip whitespace, commas (insignificant in GraphQL) and # comments; return the next char. */
  peek() {
    const s = this.s;
    let i = this.i;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 32 || c === 10 || c === 13 || c === 9 || c === 44 || c === 0xfeff) {
        i += 1;
      } else if (c === 35) {
        while (i < s.length && s.charCodeAt(i) !== 10) i += 1;
      } else {
        break;
      }
    }
    this.i = i;
    return i < s.length ? s[i] : '';
  }

  expect(ch) {
    if (this.peek() !== ch) this.fail(`expected '${ch}'`);
    this.i += 1;
  }

  name() {
    this.peek();
    NAME_RE.lastIndex = this.i;
    const m = NAME_RE.exec(this.s);
    if (!m) this.fail('expected a name');
    this.i = NAME_RE.lastIndex;
    return m[0];
  }

  document() {
    let operation = 'query';
    if (this.peek() !== '{') {
      operation = this.name();
      if (operation !== 'query' && operation !== 'mutation') {
        this.fail(`unsupported operation type '${operation}'`);
      }
      if (this.peek() !== '{') this.name(); // optional operation name, ignored like the native engine
    }
    const fields = this.selectionSet();
    if (this.peek() !== '') this.fail('only one operation per document is supported');
    return { operation, fields };
  }

  selectionSet() {
    this.expect('{');
    const fields = [];
    while (this.peek() !== '}') {
      if (this.peek() === '') this.fail("unterminated selection set, expected '}'");
      if (this.s.startsWith('...', this.i)) this.fail('fragments are not supported');
      fields.push(this.field());
    }
    this.i += 1;
    return fields;
  }

  field() {
    let name = this.name();
    let alias = null;
    if (this.peek() === ':') {
      this.i += 1;
      alias = name;
      name = this.name();
    }
    let args = null;
    if (this.peek() === '(') args = this.arguments();
    let selection = null;
    if (this.peek() === '{') selection = this.selectionSet();
    return { alias, name, args, selection };
  }

  arguments() {
    return this.keyValues('(', ')', 'arguments');
  }

  /** `open key: value ... close`: a field's arguments or an input object literal. */
  keyValues(open, close, what) {
    this.expect(open);
    const out = {};
    while (this.peek() !== close) {
      if (this.peek() === '') this.fail(`unterminated ${what}, expected '${close}'`);
      const key = this.name();
      this.expect(':');
      out[key] = this.value();
    }
    this.i += 1;
    return out;
  }

  value() {
    const c = this.peek();
    if (c === '"') return this.string();
    if (c === '{') return this.object();
    if (c === '[') return this.list();
    if (c === '-' || (c >= '0' && c <= '9')) return this.number();
    if (c === '$') this.fail('variables are not supported');
    if (c !== '' && NAME_START.test(c)) {
      const word = this.name();
      if (word === 'true') return true;
      if (word === 'false') return false;
      if (word === 'null') return null;
      return new EnumToken(word);
    }
    return this.fail('expected a value');
  }

  string() {
    const s = this.s;
    if (s.startsWith('"""', this.i)) return this.blockString();
    const start = this.i;
    let i = start + 1;
    let escaped = false;
    for (;;) {
      const c = s.charCodeAt(i);
      if (Number.isNaN(c)) this.fail('unterminated string');
      if (c === 34) break;
      if (c === 92) {
        escaped = true;
        i += 2;
      } else {
        i += 1;
      }
    }
    this.i = i + 1;
    // json.dumps output is valid JSON, and GraphQL's escapes are a subset of JSON's.
    return escaped ? JSON.parse(s.slice(start, i + 1)) : s.slice(start + 1, i);
  }

  blockString() {
    const end = this.s.indexOf('"""', this.i + 3);
    if (end < 0) this.fail('unterminated block string');
    const raw = this.s.slice(this.i + 3, end);
    this.i = end + 3;
    return raw.replace(/\\"""/g, '"""');
  }

  number() {
    NUMBER_RE.lastIndex = this.i;
    const m = NUMBER_RE.exec(this.s);
    if (!m) this.fail('invalid number');
    this.i = NUMBER_RE.lastIndex;
    const text = m[0];
    const n = Number(text);
    if (m[1] === undefined && m[2] === undefined) {
      if (!Number.isSafeInteger(n)) {
        // The native engine parses GraphQL ints as i64 and rejects anything wider.
        if (BigInt(text) > 9223372036854775807n || BigInt(text) < -9223372036854775808n) {
          this.fail('A number used in the query does not fit into a 64 bit signed integer');
        }
        return new IntToken(text);
      }
    }
    return n;
  }

  object() {
    return this.keyValues('{', '}', 'object');
  }

  list() {
    this.expect('[');
    const items = [];
    while (this.peek() !== ']') {
      if (this.peek() === '') this.fail("unterminated list, expected ']'");
      items.push(this.value());
    }
    this.i += 1;
    return items;
  }
}

/**
 * Parse one GraphQL document. Returns {operation: 'query'|'mutation', fields: [Field]} where
 * Field = {alias, name, args: object|null, selection: Field[]|null}.
 */
function parseGraphQL(text) {
  if (typeof text !== 'string') throw new GraphQLSyntaxError('Query parsing failure: query is not a string');
  return new Parser(text).document();
}

module.exports = { parseGraphQL, IntToken, EnumToken, GraphQLSyntaxError };
