// TEST-ONLY: unit tests for the query-engine stand-in's DMMF index (lib/query-dmmf.js).
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { get_dmmf: getDmmf } = require('@prisma/prisma-schema-wasm');
const { buildSchemaIndex, serializeIndex, deserializeIndex, loadSchemaIndex } = require('../lib/query-dmmf');

const SCHEMA = `
datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}
model Plain {
  id    String @id
  n     Int
  label String?
}
model Rich {
  id    String @id
  meta  Json
  big   BigInt
  plain String
  kids  Kid[]
}
model Kid {
  id     Int    @id
  richId String
  rich   Rich   @relation(fields: [richId], references: [id])
}
`;

const dmmfText = getDmmf(JSON.stringify({ prismaSchema: SCHEMA }));
const index = buildSchemaIndex(JSON.parse(dmmfText));

test('operations cover every model action plus raw queries', () => {
  assert.deepStrictEqual(index.operations.get('findUniquePlainOrThrow'), { modelName: 'Plain', action: 'findUniqueOrThrow', args: null, outputType: 'Plain' });
  assert.strictEqual(index.operations.get('createOneRich').action, 'createOne');
  assert.strictEqual(index.operations.get('queryRaw').modelName, null);
  assert.strictEqual(index.operations.get('executeRaw').action, 'executeRaw');
});

test('only positions that can hold Json/BigInt/Bytes/Decimal are kept', () => {
  // Plain has no special scalars: none of its inputs are indexed, its operations carry no slots.
  assert.strictEqual(index.inputTypes.has('PlainCreateInput'), false);
  assert.strictEqual(index.operations.get('createOnePlain').args, null);
  const richCreate = index.inputTypes.get('RichCreateInput');
  assert.ok(richCreate.special);
  // kids: nested writes can reach Rich again (connectOrCreate), so they are walked too; plain is not kept
  assert.deepStrictEqual([...richCreate.fields.keys()].sort(), ['big', 'kids', 'meta']);
  assert.deepStrictEqual([...richCreate.fields.get('meta').scalar], ['Json']);
  // Kid is special through its relation to Rich (nested create / relation filters).
  assert.ok(index.inputTypes.get('KidWhereInput').special);
  assert.ok(index.inputTypes.get('KidCreateInput').fields.has('rich'));
  // nested relation selections keep their argument slots
  assert.ok(index.outputTypes.get('Rich').get('kids').args.has('where'));
});

test('competing object types keep their full field names to be told apart', () => {
  const data = index.operations.get('updateOneRich').args.get('data');
  assert.ok(data.objects.length > 1);
  for (const name of data.objects) assert.ok(index.inputTypes.get(name).allFields.has('plain'), name);
});

test('serialize/deserialize round-trips the index', () => {
  const copy = deserializeIndex(serializeIndex(index));
  assert.strictEqual(serializeIndex(copy), serializeIndex(index));
  assert.deepStrictEqual(copy.operations.get('createOneRich'), index.operations.get('createOneRich'));
});

test('loadSchemaIndex builds once and then reads the cache', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qe-index-test-'));
  try {
    let calls = 0;
    const getter = () => {
      calls += 1;
      return dmmfText;
    };
    const a = loadSchemaIndex(SCHEMA, { getDmmf: getter, cacheDir: dir, engineVersion: 'v' });
    const b = loadSchemaIndex(SCHEMA, { getDmmf: getter, cacheDir: dir, engineVersion: 'v' });
    assert.strictEqual(a.cached, false);
    assert.strictEqual(b.cached, true);
    assert.strictEqual(calls, 1);
    assert.strictEqual(serializeIndex(b.index), serializeIndex(a.index));
    const c = loadSchemaIndex(`${SCHEMA}\n`, { getDmmf: getter, cacheDir: dir, engineVersion: 'v' });
    assert.strictEqual(c.cached, false, 'a different datamodel is a different entry');
    const noCache = loadSchemaIndex(SCHEMA, { getDmmf: getter, cacheDir: null, engineVersion: 'v' });
    assert.strictEqual(noCache.cached, false);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
