// TEST-ONLY: unit tests for the query-engine stand-in's GraphQL <-> JSON protocol translation
// (lib/query-translate.js), against the DMMF of a small schema computed by prisma-schema-wasm.
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const { get_dmmf: getDmmf } = require('@prisma/prisma-schema-wasm');
const { buildSchemaIndex } = require('../lib/query-dmmf');
const {
  translateRequest,
  translateSingleResponse,
  translateBatchResponse,
  untagText,
  rawResultToTyped,
  requestErrorBody,
  TranslationError,
} = require('../lib/query-translate');

const SCHEMA = `
datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}
model User {
  id      String   @id
  name    String?
  meta    Json     @default("{}")
  extra   Json?
  big     BigInt?
  blob    Bytes?
  amount  Decimal?
  score   Float    @default(0)
  tags    String[]
  role    Role     @default(USER)
  created DateTime @default(now())
  posts   Post[]
}
model Post {
  id       Int    @id @default(autoincrement())
  title    String
  data     Json?
  authorId String
  author   User   @relation(fields: [authorId], references: [id])
}
enum Role {
  USER
  ADMIN
}
`;

const index = buildSchemaIndex(JSON.parse(getDmmf(JSON.stringify({ prismaSchema: SCHEMA }))));
const one = (query) => translateRequest({ query, variables: {} }, index);
const noFix = (r) => r;

test('model operation names map to JSON protocol modelName/action', () => {
  const cases = {
    findUniqueUser: 'findUnique',
    findUniqueUserOrThrow: 'findUniqueOrThrow',
    findFirstUserOrThrow: 'findFirstOrThrow',
    findManyUser: 'findMany',
    createOneUser: 'createOne',
    createManyUser: 'createMany',
    updateOneUser: 'updateOne',
    updateManyUser: 'updateMany',
    upsertOneUser: 'upsertOne',
    deleteOneUser: 'deleteOne',
    deleteManyUser: 'deleteMany',
    aggregateUser: 'aggregate',
    groupByUser: 'groupBy',
  };
  for (const [gql, action] of Object.entries(cases)) {
    const { body, items } = one(`query { result: ${gql} { id } }`);
    assert.strictEqual(body.modelName, 'User', gql);
    assert.strictEqual(body.action, action, gql);
    assert.strictEqual(items[0].alias, 'result');
    assert.strictEqual(items[0].responseKey, gql);
  }
});

test('Json arguments become {"$type":"Json"} in data, nested writes and filters; other strings stay', () => {
  const { body } = one(`mutation {
    result: createOneUser(data: {
      id: "u1"
      name: "{\\"not\\": \\"json\\"}"
      meta: "{\\"a\\": 1}"
      extra: "null"
      posts: { create: [ { title: "t", data: "[1,2]" } ] }
    }) { id }
  }`);
  assert.deepStrictEqual(body.query.arguments.data, {
    id: 'u1',
    name: '{"not": "json"}',
    meta: { $type: 'Json', value: '{"a": 1}' },
    extra: { $type: 'Json', value: 'null' },
    posts: { create: [{ title: 't', data: { $type: 'Json', value: '[1,2]' } }] },
  });
  const where = one('query { result: findManyUser(where: { meta: { equals: "{\\"a\\":1}" }, AND: [ { extra: { path: ["k"], string_contains: "x", array_contains: "[1]" } } ] }) { id } }').body.query.arguments.where;
  assert.deepStrictEqual(where.meta, { equals: { $type: 'Json', value: '{"a":1}' } });
  assert.deepStrictEqual(where.AND[0].extra, { path: ['k'], string_contains: 'x', array_contains: { $type: 'Json', value: '[1]' } });
});

test('updates: Json set directly, BigInt/Decimal/Bytes tagged, numbers kept', () => {
  const { body } = one(`mutation { result: updateOneUser(where: { id: "u1" }, data: {
      meta: "{}"
      big: { increment: 9007199254740993 }
      amount: "1.10"
      blob: "AAEC"
      score: { multiply: 2 }
  }) { id } }`);
  assert.deepStrictEqual(body.query.arguments.data, {
    meta: { $type: 'Json', value: '{}' },
    big: { increment: { $type: 'BigInt', value: '9007199254740993' } },
    amount: { $type: 'Decimal', value: '1.10' },
    blob: { $type: 'Bytes', value: 'AAEC' },
    score: { multiply: 2 },
  });
  const small = one('mutation { result: updateOneUser(where: { id: "u1" }, data: { big: 5 }) { id } }').body;
  assert.deepStrictEqual(small.query.arguments.data, { big: 5 });
});

test('createMany data list and upsert create/update are walked', () => {
  const many = one('mutation { result: createManyUser(data: [ { id: "a", meta: "{}" }, { id: "b" } ], skipDuplicates: true) { count } }').body;
  assert.deepStrictEqual(many.query.arguments, { data: [{ id: 'a', meta: { $type: 'Json', value: '{}' } }, { id: 'b' }], skipDuplicates: true });
  assert.deepStrictEqual(many.query.selection, { count: true });
  const up = one('mutation { result: upsertOneUser(where: { id: "a" }, create: { id: "a", meta: "1" }, update: { meta: "2" }) { id } }').body;
  assert.deepStrictEqual(up.query.arguments.create.meta, { $type: 'Json', value: '1' });
  assert.deepStrictEqual(up.query.arguments.update.meta, { $type: 'Json', value: '2' });
});

test('selections: scalars, relations with arguments, aggregates', () => {
  const { body } = one(`query { result: findManyUser(take: 2, skip: 1, cursor: { id: "x" }, distinct: ["name"], orderBy: [{ created: "desc" }]) {
    id
    meta
    posts(where: { data: { equals: "{}" } }, take: 3) { id title author { id } }
  } }`);
  assert.deepStrictEqual(body.query.arguments, { take: 2, skip: 1, cursor: { id: 'x' }, distinct: ['name'], orderBy: [{ created: 'desc' }] });
  assert.deepStrictEqual(body.query.selection, {
    id: true,
    meta: true,
    posts: {
      arguments: { where: { data: { equals: { $type: 'Json', value: '{}' } } }, take: 3 },
      selection: { id: true, title: true, author: { selection: { id: true } } },
    },
  });
  const agg = one('query { result: aggregateUser(where: { big: { gt: 1 } }) { _count { _all } _sum { big } _max { created } } }').body;
  assert.deepStrictEqual(agg.query.selection, {
    _count: { selection: { _all: true } },
    _sum: { selection: { big: true } },
    _max: { selection: { created: true } },
  });
  const gb = one('query { result: groupByUser(by: ["role"], having: { meta: { _count: { equals: 1 } } }, orderBy: { role: "asc" }) { role _count { _all } } }').body;
  assert.strictEqual(gb.action, 'groupBy');
  assert.deepStrictEqual(gb.query.arguments.by, ['role']);
});

test('raw queries keep their JSON-text parameters and have no model', () => {
  const { body, items } = one('mutation { result: executeRaw(query: "UPDATE x SET a = $1", parameters: "[\\"{}\\"]") }');
  assert.deepStrictEqual(body, { action: 'executeRaw', query: { arguments: { query: 'UPDATE x SET a = $1', parameters: '["{}"]' }, selection: {} } });
  assert.strictEqual(items[0].action, 'executeRaw');
  assert.strictEqual(one('mutation { result: queryRaw(query: "SELECT 1", parameters: "[]") }').body.action, 'queryRaw');
});

test('batches: transaction flag becomes the JSON protocol transaction object', () => {
  const q = { query: 'mutation { result: deleteManyUser { count } }', variables: {} };
  const tx = translateRequest({ batch: [q, q], transaction: true }, index);
  assert.strictEqual(tx.batch, true);
  assert.deepStrictEqual(tx.body.transaction, { isolationLevel: null });
  assert.strictEqual(tx.body.batch.length, 2);
  const plain = translateRequest({ batch: [q], transaction: false }, index);
  assert.strictEqual(plain.body.transaction, undefined);
  const iso = translateRequest({ batch: [q], transaction: true, isolationLevel: 'Serializable' }, index);
  assert.deepStrictEqual(iso.body.transaction, { isolationLevel: 'Serializable' });
});

test('unknown operations and malformed bodies are refused with the native error shape', () => {
  assert.throws(() => one('query { result: findManyNope { id } }'), TranslationError);
  assert.throws(() => translateRequest({ nothing: 1 }, index), TranslationError);
  const body = requestErrorBody(new TranslationError("Field 'x' not found in enclosing type 'Query'"));
  assert.strictEqual(body.errors[0].user_facing_error.error_code, 'P2009');
  try {
    one('query { result: findManyUser(where: ) { id } }');
    assert.fail('should throw');
  } catch (e) {
    const b = requestErrorBody(e);
    assert.match(b.errors[0].user_facing_error.message, /Query parsing failure/);
    assert.strictEqual(b.errors[0].user_facing_error.error_code, undefined);
  }
});

test('responses: rekeyed to the alias, tagged values printed the GraphQL-protocol way', () => {
  const item = one('query { result: findManyUser { id } }').items[0];
  const text =
    '{"data":{"findManyUser":[{"id":"u1","meta":{"$type":"Json","value":"{\\"$type\\":\\"x\\",\\"a\\":1}"},' +
    '"big":{"$type":"BigInt","value":"9007199254740993"},"created":{"$type":"DateTime","value":"2024-01-02T03:04:05.678Z"},' +
    '"blob":{"$type":"Bytes","value":"AAEC"},"amount":{"$type":"Decimal","value":"1.50"},"whole":{"$type":"Decimal","value":"10"},' +
    '"tags":["a"],"name":null,"score":2.5}]}}';
  const out = JSON.parse(translateSingleResponse(text, item, noFix));
  assert.deepStrictEqual(out, {
    data: {
      result: [
        {
          id: 'u1',
          meta: '{"$type":"x","a":1}',
          big: '9007199254740993',
          created: '2024-01-02T03:04:05.678Z',
          blob: 'AAEC',
          amount: 1.5,
          whole: 10,
          tags: ['a'],
          name: null,
          score: 2.5,
        },
      ],
    },
  });
  assert.strictEqual(translateSingleResponse('{"data":{"findManyUser":null}}', item, noFix), '{"data":{"result":null}}');
});

test('responses: errors pass through the error fixer unchanged in shape', () => {
  const item = one('mutation { result: createOneUser(data: { id: "x" }) { id } }').items[0];
  const err = '{"errors":[{"error":"Unique","user_facing_error":{"is_panic":false,"message":"Unique constraint failed on the fields: (`id`)","meta":{"target":["id"]},"error_code":"P2002"}}]}';
  let seen = null;
  const out = JSON.parse(translateSingleResponse(err, item, (r) => { seen = r; return r; }));
  assert.ok(seen);
  assert.strictEqual(out.errors[0].user_facing_error.error_code, 'P2002');
});

test('batch responses: each result rekeyed and untagged, per-item errors kept', () => {
  const q1 = { query: 'query { result: findUniqueUser(where: { id: "a" }) { id big } }' };
  const q2 = { query: 'mutation { result: createOneUser(data: { id: "a" }) { id } }' };
  const t = translateRequest({ batch: [q1, q2], transaction: false }, index);
  const text =
    '{"batchResult":[{"data":{"findUniqueUser":{"id":"a","big":{"$type":"BigInt","value":"3"}}}},' +
    '{"errors":[{"error":"x","user_facing_error":{"is_panic":false,"message":"m","meta":{},"error_code":"P2002"}}]}]}';
  const out = JSON.parse(translateBatchResponse(text, t.items, noFix));
  assert.deepStrictEqual(out.batchResult[0], { data: { result: { id: 'a', big: '3' } } });
  assert.strictEqual(out.batchResult[1].errors[0].user_facing_error.error_code, 'P2002');
  const txErr = '{"errors":[{"error":"Error in batch request 1: x","user_facing_error":{"is_panic":false,"message":"m","meta":{},"error_code":"P2002","batch_request_idx":1}}]}';
  assert.strictEqual(JSON.parse(translateBatchResponse(txErr, t.items, noFix)).errors[0].user_facing_error.batch_request_idx, 1);
});

test('queryRaw: {columns, types, rows} becomes prisma__type/prisma__value row objects', () => {
  const item = one('mutation { result: queryRaw(query: "SELECT 1", parameters: "[]") }').items[0];
  const text = JSON.stringify({
    data: {
      queryRaw: {
        columns: ['i', 'b', 'j', 'arr', 'n', 'dt'],
        types: ['int', 'bigint', 'json', 'bigint-array', 'string', 'datetime'],
        rows: [[1, '2', { x: 1 }, ['1', null], null, '2024-01-01T00:00:00+00:00']],
      },
    },
  });
  assert.deepStrictEqual(JSON.parse(translateSingleResponse(text, item, noFix)), {
    data: {
      result: [
        {
          i: { prisma__type: 'int', prisma__value: 1 },
          b: { prisma__type: 'bigint', prisma__value: '2' },
          j: { prisma__type: 'json', prisma__value: { x: 1 } },
          arr: {
            prisma__type: 'array',
            prisma__value: [
              { prisma__type: 'bigint', prisma__value: '1' },
              { prisma__type: 'null', prisma__value: null },
            ],
          },
          n: { prisma__type: 'null', prisma__value: null },
          dt: { prisma__type: 'datetime', prisma__value: '2024-01-01T00:00:00+00:00' },
        },
      ],
    },
  });
  assert.deepStrictEqual(rawResultToTyped({ columns: [], types: [], rows: [] }), []);
  const exec = one('mutation { result: executeRaw(query: "DELETE FROM x", parameters: "[]") }').items[0];
  assert.strictEqual(translateSingleResponse('{"data":{"executeRaw":3}}', exec, noFix), '{"data":{"result":3}}');
});

test('untagText leaves escaped look-alikes inside strings alone', () => {
  const text = '{"a":"{\\"$type\\":\\"BigInt\\",\\"value\\":\\"1\\"}","b":{"$type":"BigInt","value":"2"}}';
  assert.deepStrictEqual(JSON.parse(untagText(text)), { a: '{"$type":"BigInt","value":"1"}', b: '2' });
  assert.strictEqual(untagText('{"x":1}'), '{"x":1}');
});
