// TEST-ONLY stand-in tests: how the schema engine stand-in finds the database of a command (no database needed).
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { SchemaEngineCommands, applySpanTrace } = require('../lib/schema-commands');

const SCHEMA = 'datasource db {\n  provider = "postgresql"\n  url      = env("SE_TEST_URL")\n  directUrl = env("SE_TEST_DIRECT")\n}\n';
const files = [{ path: '/app/schema.prisma', content: SCHEMA }];
const plainFiles = [{ path: '/app/plain.prisma', content: 'datasource db {\n  provider = "postgresql"\n  url      = env("SE_TEST_URL")\n}\n' }];
const quietLogger = { info() {}, debug() {}, warn() {}, error() {} };

test('datasources: connection strings as given, schemas resolved with directUrl first', () => {
  const env = { SE_TEST_URL: 'postgresql://u@pooler/db', SE_TEST_DIRECT: 'postgresql://u@direct/db' };
  const commands = new SchemaEngineCommands({ schemaFiles: files, env, logger: quietLogger });
  assert.equal(commands.defaultUrl(), 'postgresql://u@direct/db');
  assert.equal(commands.datasourceUrl({ tag: 'ConnectionString', url: 'postgresql://x/y' }), 'postgresql://x/y');
  assert.equal(commands.datasourceUrl({ tag: 'Schema', files }), 'postgresql://u@direct/db');
  const noDirect = new SchemaEngineCommands({ schemaFiles: plainFiles, env: { SE_TEST_URL: 'postgresql://u@pooler/db' }, logger: quietLogger });
  assert.equal(noDirect.defaultUrl(), 'postgresql://u@pooler/db');
  // Prisma refuses a directUrl whose variable is empty.
  const emptyDirect = new SchemaEngineCommands({ schemaFiles: files, env: { SE_TEST_URL: 'postgresql://u@pooler/db', SE_TEST_DIRECT: '' }, logger: quietLogger });
  assert.throws(() => emptyDirect.defaultUrl(), (err) => err.errorCode === 'P1012');
});

test('a missing env var is P1012; no schema at all is an error', () => {
  const commands = new SchemaEngineCommands({ schemaFiles: files, env: {}, logger: quietLogger });
  assert.throws(() => commands.defaultUrl(), (err) => err.errorCode === 'P1012' && /SE_TEST_URL/.test(err.message));
  const bare = new SchemaEngineCommands({ schemaFiles: [], env: {}, logger: quietLogger });
  assert.throws(() => bare.defaultUrl(), /without a Prisma schema/);
});

test('diff targets: url and schemaDatasource name a database, datamodel and empty do not', () => {
  const env = { SE_TEST_URL: 'postgresql://u@h/db' };
  const commands = new SchemaEngineCommands({ schemaFiles: [], env, logger: quietLogger });
  assert.equal(commands.diffTargetUrl({ tag: 'url', url: 'postgresql://a/b' }), 'postgresql://a/b');
  assert.equal(commands.diffTargetUrl({ tag: 'schemaDatasource', files: plainFiles, configDir: '/app' }), 'postgresql://u@h/db');
  assert.equal(commands.diffTargetUrl({ tag: 'schemaDatamodel', files }), null);
  assert.equal(commands.diffTargetUrl({ tag: 'empty' }), null);
  assert.throws(() => commands.diffTargetUrl({ tag: 'migrations', path: '/m' }), /shadow database/);
});

test('failed migration logs end with the span trace naming the migration', () => {
  const trace = applySpanTrace('20250101000000_x');
  assert.match(trace, /with migration_name="20250101000000_x"/);
  assert.match(trace, /schema_core::state::ApplyMigrations/);
});
