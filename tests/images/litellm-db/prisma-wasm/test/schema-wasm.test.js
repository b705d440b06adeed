// TEST-ONLY stand-in tests: the bridge to the 6.19 WebAssembly schema engine (column types, options).
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const w = require('../lib/schema-wasm');

test('catalog types adapter-pg 6.19 rejects are read as text or text[]', () => {
  assert.equal(w.substituteOid(19), 25); // name
  assert.equal(w.substituteOid(18), 25); // "char"
  assert.equal(w.substituteOid(1186), 25); // interval
  assert.equal(w.substituteOid(22), 25); // int2vector (text form "1 2")
  assert.equal(w.substituteOid(1003), 1009); // name[]
  assert.equal(w.substituteOid(1187), 1009); // interval[]
  assert.equal(w.substituteOid(23), 23); // int4 is supported
  assert.equal(w.substituteOid(1009), 1009);
  assert.equal(w.substituteOid(20000), 20000); // user types (enums) stay
});

test('parsers are looked up for the substituted type, fields relabelled', () => {
  const seen = [];
  const config = w.withSubstitutedParsers({ text: 'x', types: { getTypeParser: (oid) => { seen.push(oid); return String; } } });
  config.types.getTypeParser(19, 'text');
  config.types.getTypeParser(1003, 'text');
  config.types.getTypeParser(1186, 'text');
  assert.deepEqual(seen, [25, 1009, 25]);
  const result = w.relabelFields({ fields: [{ dataTypeID: 19 }, { dataTypeID: 23 }] });
  assert.deepEqual(result.fields.map((f) => f.dataTypeID), [25, 23]);
  const multi = w.relabelFields([{ fields: [{ dataTypeID: 1003 }] }, { fields: [] }]);
  assert.equal(multi[0].fields[0].dataTypeID, 1009);
});

test('search_path startup option follows the URL schema and keeps user options', () => {
  assert.equal(w.searchPathOptions({ schema: 'public' }), '-c search_path=public');
  assert.equal(w.searchPathOptions({ schema: 'my schema', options: '-c statement_timeout=5000' }),
    '-c statement_timeout=5000 -c search_path=my\\ schema');
});

test('engine errors keep their Prisma code', () => {
  const known = w.translateWasmError(Object.assign(new Error('Database does not exist'), { code: 'P1003' }));
  assert.equal(known.errorCode, 'P1003');
  assert.equal(w.translateWasmError(new Error('other')).errorCode, undefined);
});
