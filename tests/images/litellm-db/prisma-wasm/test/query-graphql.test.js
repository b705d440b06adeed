// TEST-ONLY: unit tests for the query-engine stand-in's GraphQL parser (lib/query-graphql.js).
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const { parseGraphQL, IntToken, EnumToken, GraphQLSyntaxError } = require('../lib/query-graphql');

// Exactly what prisma-client-py 0.11's builder renders for
// client.user.find_many(where={...}, include={'posts': {'where': {...}}, 'profile': True}).
const BUILDER_OUTPUT = `query {
  result: findManyUser
  (
    where: {
      name: {
        contains: "Ro\\"b\\u00e9\\n"
      }
      age: {
        gte: -3
        lt: 1.5e3
      }
      tags: {
        hasSome: [
          "a",
          "b"
        ]
      }
      OR: [
        {
          id: "1"
        },
        {
          active: true
        }
      ]
      deleted: null
    }
    take: 10
  )
  {
    id
    name
    posts(
      where: {
        published: false
      }
    )
    {
      id
      title
    }
    profile {
      id
    }
  }
}`;

test('parses the builder output: alias, arguments, nested selections', () => {
  const doc = parseGraphQL(BUILDER_OUTPUT);
  assert.strictEqual(doc.operation, 'query');
  assert.strictEqual(doc.fields.length, 1);
  const [f] = doc.fields;
  assert.strictEqual(f.alias, 'result');
  assert.strictEqual(f.name, 'findManyUser');
  assert.deepStrictEqual(f.args, {
    where: {
      name: { contains: 'Ro"bé\n' },
      age: { gte: -3, lt: 1500 },
      tags: { hasSome: ['a', 'b'] },
      OR: [{ id: '1' }, { active: true }],
      deleted: null,
    },
    take: 10,
  });
  assert.deepStrictEqual(
    f.selection.map((s) => s.name),
    ['id', 'name', 'posts', 'profile'],
  );
  const posts = f.selection[2];
  assert.deepStrictEqual(posts.args, { where: { published: false } });
  assert.deepStrictEqual(posts.selection.map((s) => s.name), ['id', 'title']);
  assert.strictEqual(f.selection[3].args, null);
  assert.strictEqual(f.selection[0].selection, null);
});

test('mutation, raw query with JSON-encoded parameters, no selection', () => {
  const doc = parseGraphQL('mutation {\n  result: queryRaw\n  (\n    query: "SELECT $1"\n    parameters: "[\\"x\\", 1]"\n  )\n}');
  assert.strictEqual(doc.operation, 'mutation');
  assert.deepStrictEqual(doc.fields[0].args, { query: 'SELECT $1', parameters: '["x", 1]' });
  assert.strictEqual(doc.fields[0].selection, null);
});

test('aggregate selections such as _count { _all } and count', () => {
  const doc = parseGraphQL('query {\n  result: aggregateUser\n  {\n    _count {\n      _all\n    }\n    _sum {\n      age\n    }\n  }\n}');
  const sel = doc.fields[0].selection;
  assert.strictEqual(sel[0].name, '_count');
  assert.deepStrictEqual(sel[0].selection.map((s) => s.name), ['_all']);
  assert.strictEqual(sel[1].name, '_sum');
});

test('integers: safe ones are numbers, wider i64 keep their digits, wider than i64 fail', () => {
  const args = parseGraphQL('query { r: f(a: 9007199254740991, b: 9007199254740993, c: -9223372036854775808, d: 0, e: 2.5E-3) }').fields[0].args;
  assert.strictEqual(args.a, 9007199254740991);
  assert.ok(args.b instanceof IntToken);
  assert.strictEqual(args.b.text, '9007199254740993');
  assert.strictEqual(args.c.text, '-9223372036854775808');
  assert.strictEqual(args.d, 0);
  assert.strictEqual(args.e, 0.0025);
  assert.strictEqual(JSON.stringify(args.b), '9007199254740992'); // degrades to a double outside BigInt positions
  assert.throws(() => parseGraphQL('query { r: f(a: 9223372036854775808) }'), /64 bit signed integer/);
});

test('bare identifiers are enum literals, serialised as JSON-protocol enums', () => {
  const args = parseGraphQL('query { r: f(order: desc, flag: true) }').fields[0].args;
  assert.ok(args.order instanceof EnumToken);
  assert.strictEqual(JSON.stringify(args.order), '{"$type":"Enum","value":"desc"}');
  assert.strictEqual(args.flag, true);
});

test('commas and comments are insignificant; operation name and shorthand query are accepted', () => {
  const a = parseGraphQL('query Named { r: f(a: 1, b: [1, 2,],) { x, y } } # trailing');
  assert.deepStrictEqual(a.fields[0].args, { a: 1, b: [1, 2] });
  assert.deepStrictEqual(a.fields[0].selection.map((s) => s.name), ['x', 'y']);
  const b = parseGraphQL('{ f { x } }');
  assert.strictEqual(b.operation, 'query');
  assert.strictEqual(b.fields[0].alias, null);
});

test('strings: unicode passes through, escapes are decoded, block strings work', () => {
  const args = parseGraphQL('query { r: f(a: "日本 ✓", b: "tab\\tslash\\\\q\\"", c: """x "y" z""") }').fields[0].args;
  assert.strictEqual(args.a, '日本 ✓');
  assert.strictEqual(args.b, 'tab\tslash\\q"');
  assert.strictEqual(args.c, 'x "y" z');
});

test('rejects malformed input, variables, fragments and subscriptions', () => {
  for (const bad of [
    'query { r: f(a: ) }',
    'query { r: f(a: "unterminated) }',
    'query { r: f(a: $var) }',
    'query { ...frag }',
    'subscription { r: f }',
    'query { r: f { x }',
    'query { r: f } query { s: g }',
  ]) {
    assert.throws(() => parseGraphQL(bad), GraphQLSyntaxError, bad);
  }
});
