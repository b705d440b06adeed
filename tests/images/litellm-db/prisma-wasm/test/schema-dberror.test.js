// TEST-ONLY stand-in tests: how the schema engine stand-in renders PostgreSQL errors (P3018, logs).
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const d = require('../lib/schema-dberror');

function pgError(fields) {
  return Object.assign(new Error(fields.message), { severity: 'ERROR', file: 'x.c', line: '12', routine: 'r' }, fields);
}

test('Rust Debug string escaping', () => {
  assert.equal(d.rustDebugString('a "b" \\ c\nd\te\u0001'), '"a \\"b\\" \\\\ c\\nd\\te\\u{1}"');
  assert.equal(d.rustDebugString("it's é"), '"it\'s é"');
});

test('Display and Debug of a database error as tokio-postgres prints them', () => {
  const err = pgError({ code: '23505', message: 'duplicate key', detail: 'Key (id)=(1) exists.', constraint: 'pk' });
  assert.equal(d.displayDbError(err), 'ERROR: duplicate key\nDETAIL: Key (id)=(1) exists.');
  assert.equal(d.debugDbError(err),
    'DbError { severity: "ERROR", parsed_severity: Some(Error), code: SqlState(E23505), message: "duplicate key", ' +
    'detail: Some("Key (id)=(1) exists."), hint: None, position: None, where_: None, schema: None, table: None, ' +
    'column: None, datatype: None, constraint: Some("pk"), file: Some("x.c"), line: Some(12), routine: Some("r") }');
});

test('Rust str::lines semantics', () => {
  assert.deepEqual(d.rustLines(''), []);
  assert.deepEqual(d.rustLines('a\n'), ['a']);
  assert.deepEqual(d.rustLines('a\r\nb\n\n'), ['a', 'b', '']);
});

test('the Position block numbers lines like Prisma (including its line 0)', () => {
  const script = 'SELECT 1;\nSELEC 2;\n';
  const block = d.positionBlock(script, 11);
  assert.equal(block, '\n\nPosition:\n\x1b[1m  0\x1b[0m\n\x1b[1m  1\x1b[0m SELECT 1;\n\x1b[1m  2\x1b[1;31m SELEC 2;\x1b[0m');
  assert.equal(d.positionBlock(script, 'x'), '');
});

test('a failed migration becomes P3018 with the code LiteLLM greps for', () => {
  const err = d.migrationScriptError('20250101000000_x', 'CREATE TABLE t();', pgError({ code: '40P01', message: 'deadlock detected' }));
  assert.equal(err.errorCode, 'P3018');
  assert.match(err.message, /Database error code: 40P01/);
  assert.match(err.message, /Database error:\nERROR: deadlock detected\n\nDbError \{/);
  const lost = d.migrationScriptError('m', 's', new Error('Connection terminated unexpectedly'));
  assert.match(lost.message, /Database error code: none\n\nDatabase error:\nConnection terminated unexpectedly/);
});

test('connection errors become the engine\'s user-facing errors', () => {
  const url = { host: 'h', port: 5432, user: 'u', database: 'db', schema: 'public' };
  assert.equal(d.userFacingFromPgError(pgError({ code: '3D000', message: 'x' }), url).errorCode, 'P1003');
  assert.equal(d.userFacingFromPgError(pgError({ code: '28P01', message: 'x' }), url).errorCode, 'P1000');
  assert.equal(d.userFacingFromPgError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), url).errorCode, 'P1001');
  const unknown = d.userFacingFromPgError(pgError({ code: '42601', message: 'syntax error at or near "SELEC"' }), url);
  assert.equal(unknown.errorCode, undefined);
  assert.equal(unknown.message, 'ERROR: syntax error at or near "SELEC"');
});
