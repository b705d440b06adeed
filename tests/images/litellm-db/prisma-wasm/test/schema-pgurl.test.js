// TEST-ONLY stand-in tests: Prisma PostgreSQL URLs in the schema engine stand-in.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { parsePostgresUrl, toPgConfig, quoteIdent, redactUrls } = require('../lib/schema-pgurl');

test('parses user, decoded password, database, schema and defaults', () => {
  const url = parsePostgresUrl('postgresql://llm:p%40ss%2Fword@db.local:6543/litellm?schema=tenant&connection_limit=5');
  assert.equal(url.host, 'db.local');
  assert.equal(url.port, 6543);
  assert.equal(url.user, 'llm');
  assert.equal(url.password, 'p@ss/word');
  assert.equal(url.database, 'litellm');
  assert.equal(url.schema, 'tenant');
  const bare = parsePostgresUrl('postgres://h');
  assert.equal(bare.port, 5432);
  assert.equal(bare.database, 'postgres');
  assert.equal(bare.schema, 'public');
  assert.equal(bare.user, 'postgres');
  assert.equal(bare.password, undefined);
});

test('pg config carries timeout, options and TLS only for sslmode=require', () => {
  const cfg = toPgConfig(parsePostgresUrl('postgresql://u:p@h/d?connect_timeout=7&options=-c%20statement_timeout%3D5000&application_name=x'));
  assert.equal(cfg.connectionTimeoutMillis, 7000);
  assert.equal(cfg.options, '-c statement_timeout=5000');
  assert.equal(cfg.application_name, 'x');
  assert.equal(cfg.ssl, undefined);
  const tls = toPgConfig(parsePostgresUrl('postgresql://u:p@h/d?sslmode=require&sslaccept=accept_invalid_certs'));
  assert.deepEqual(tls.ssl, { rejectUnauthorized: false });
});

test('a host query parameter (Unix socket) wins', () => {
  assert.equal(parsePostgresUrl('postgresql://u@localhost/d?host=/var/run/postgresql').host, '/var/run/postgresql');
});

test('invalid URLs are P1013 and never echo the password', () => {
  assert.throws(() => parsePostgresUrl('mysql://u:secret@h/d'), (err) => err.errorCode === 'P1013' && !err.message.includes('secret'));
  assert.throws(() => parsePostgresUrl(''), (err) => err.errorCode === 'P1013');
});

test('identifier quoting and URL redaction', () => {
  assert.equal(quoteIdent('a"b'), '"a""b"');
  assert.equal(redactUrls('see postgresql://u:secret@h:1/d now'), 'see postgresql://u:***@h:1/d now');
});
