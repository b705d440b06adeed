// TEST-ONLY stand-in tests: user-facing errors of the schema engine stand-in and their JSON-RPC shape.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const errors = require('../lib/schema-errors');

test('known errors render as the native engine renders them (code 4466, data with error_code)', () => {
  const rpc = errors.toJsonRpcError(errors.migrationAlreadyApplied('20240101000000_init'));
  assert.equal(rpc.code, 4466);
  assert.equal(rpc.message, 'An error happened. Check the data field for details.');
  assert.deepEqual(Object.keys(rpc.data), ['is_panic', 'message', 'meta', 'error_code']);
  assert.equal(rpc.data.error_code, 'P3008');
  assert.equal(rpc.data.message, 'The migration `20240101000000_init` is already recorded as applied in the database.');
  assert.deepEqual(rpc.data.meta, { migration_name: '20240101000000_init' });
});

test('unknown errors carry no code', () => {
  const rpc = errors.toJsonRpcError(new errors.UnknownEngineError('boom'));
  assert.deepEqual(rpc.data, { is_panic: false, message: 'boom', backtrace: null });
});

test('P3009 lists the failed migration the way LiteLLM parses it', () => {
  const err = errors.foundFailedMigrations('The `20250101000000_x` migration started at 2025-01-01 00:00:00.123456 UTC failed\n');
  assert.equal(err.errorCode, 'P3009');
  assert.match(err.message, /^migrate found failed migrations in the target database, new migrations will not be applied\./);
  assert.match(err.message, /`(\d+_[^`\r\n]+)`/);
  assert.match(err.message, /`20250101000000_x` migration started at ([^\r\n]+?) failed/);
});

test('P3018 keeps the migration name and database error code lines', () => {
  const err = errors.applyMigrationError('20250101000000_x', '42501', 'ERROR: permission denied for schema public');
  assert.match(err.message, /\n\nMigration name: 20250101000000_x\n\nDatabase error code: 42501\n\nDatabase error:\nERROR: permission denied/);
  assert.ok(err.message.endsWith('\n'));
});

test('P3005 and P1002 messages contain what LiteLLM looks for', () => {
  assert.match(errors.databaseSchemaNotEmpty().message, /database schema is not empty/);
  const timeout = errors.advisoryLockTimeout('db', 5432, 10000);
  assert.equal(timeout.errorCode, 'P1002');
  assert.match(timeout.message, /advisory lock/);
  assert.match(timeout.message, /pg_advisory_lock\(72707369\)/);
});
