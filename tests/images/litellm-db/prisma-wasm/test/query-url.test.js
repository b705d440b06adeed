// TEST-ONLY: unit tests for the query-engine stand-in's datasource URL handling (lib/query-url.js).
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const {
  parseDatasourceUrl,
  resolveDatasourceUrl,
  parseOverwriteDatasources,
  defaultConnectionLimit,
  redact,
  DatasourceError,
  DEFAULT_APPLICATION_NAME,
} = require('../lib/query-url');

test('Prisma pool parameters are interpreted and never reach pg', () => {
  const s = parseDatasourceUrl(
    'postgresql://llm%40user:p%40ss%3Aw0rd@db.example:6543/lite%2Dllm?connection_limit=5&pool_timeout=30&connect_timeout=7' +
      '&socket_timeout=9&max_idle_connection_lifetime=60&max_connection_lifetime=600&pgbouncer=true&statement_cache_size=0&sslmode=disable',
  );
  assert.deepStrictEqual(s.pool, { max: 5, poolTimeoutMs: 30000, idleTimeoutMs: 60000, maxLifetimeSeconds: 600, connectTimeoutMs: 7000 });
  assert.strictEqual(s.client.host, 'db.example');
  assert.strictEqual(s.client.port, 6543);
  assert.strictEqual(s.client.user, 'llm@user');
  assert.strictEqual(s.client.password, 'p@ss:w0rd');
  assert.strictEqual(s.client.database, 'lite-llm');
  assert.strictEqual(s.client.connectionTimeoutMillis, 7000);
  assert.strictEqual(s.client.query_timeout, 9000);
  assert.strictEqual(s.client.ssl, false);
  assert.strictEqual(s.client.application_name, DEFAULT_APPLICATION_NAME);
  assert.strictEqual(s.client.options, undefined);
  assert.strictEqual(s.schema, 'public');
  assert.strictEqual(s.target, 'db.example:6543/lite-llm');
  const keys = Object.keys(s.client);
  for (const prismaOnly of ['connection_limit', 'pool_timeout', 'pgbouncer', 'schema', 'sslmode', 'connectionString']) {
    assert.ok(!keys.includes(prismaOnly), prismaOnly);
  }
  assert.ok(!JSON.stringify({ ...s, client: { ...s.client, password: undefined } }).includes('p@ss'));
});

test('defaults follow Prisma: num_cpus*2+1 connections, 10 s pool timeout, 5 s connect, 300 s idle', () => {
  const s = parseDatasourceUrl('postgres://u@localhost/db');
  assert.strictEqual(s.pool.max, defaultConnectionLimit());
  assert.ok(s.pool.max >= 3 && s.pool.max % 2 === 1);
  assert.strictEqual(s.pool.poolTimeoutMs, 10000);
  assert.strictEqual(s.pool.connectTimeoutMs, 5000);
  assert.strictEqual(s.pool.idleTimeoutMs, 300000);
  assert.strictEqual(s.client.port, 5432);
  assert.strictEqual(s.client.password, undefined);
  assert.strictEqual(s.client.query_timeout, undefined);
});

test('application_name, options and schema are passed as server settings', () => {
  const s = parseDatasourceUrl('postgresql://u:p@h/db?application_name=litellm-proxy&schema=tenant_a&options=-c%20statement_timeout%3D5000');
  assert.strictEqual(s.client.application_name, 'litellm-proxy');
  assert.strictEqual(s.schema, 'tenant_a');
  assert.strictEqual(s.client.options, '-c statement_timeout=5000 -c search_path=tenant_a');
});

test('unix socket host parameter and IPv6 literals', () => {
  assert.strictEqual(parseDatasourceUrl('postgresql://u@localhost/db?host=/var/run/postgresql').client.host, '/var/run/postgresql');
  assert.strictEqual(parseDatasourceUrl('postgresql://u@[::1]:5433/db').client.host, '::1');
});

test('TLS: require accepts invalid certificates unless sslaccept=strict', () => {
  const lax = parseDatasourceUrl('postgresql://u@h/db?sslmode=require').client.ssl;
  assert.strictEqual(lax.rejectUnauthorized, false);
  const strict = parseDatasourceUrl('postgresql://u@h/db?sslmode=require&sslaccept=strict').client.ssl;
  assert.strictEqual(strict.rejectUnauthorized, true);
  assert.strictEqual(parseDatasourceUrl('postgresql://u@h/db?sslmode=prefer').client.ssl, false);
});

test('invalid values and schemes raise DatasourceError', () => {
  assert.throws(() => parseDatasourceUrl('postgresql://u@h/db?connection_limit=0'), DatasourceError);
  assert.throws(() => parseDatasourceUrl('postgresql://u@h/db?connection_limit=abc'), DatasourceError);
  assert.throws(() => parseDatasourceUrl('postgresql://u@h/db?pool_timeout=-1'), DatasourceError);
  assert.throws(() => parseDatasourceUrl('mysql://u@h/db'), DatasourceError);
  assert.throws(() => parseDatasourceUrl('not a url'), DatasourceError);
  assert.strictEqual(parseDatasourceUrl('postgresql://u@h/db?pool_timeout=0').pool.poolTimeoutMs, 0);
});

test('datasource URL resolution: OVERWRITE_DATASOURCES (JSON or base64) wins over env("VAR")', () => {
  const ds = { name: 'client', url: { fromEnvVar: 'DATABASE_URL', value: null } };
  assert.strictEqual(resolveDatasourceUrl(ds, { DATABASE_URL: 'postgresql://a/b' }), 'postgresql://a/b');
  const json = JSON.stringify([{ name: 'client', url: 'postgresql://over/ride' }]);
  assert.strictEqual(resolveDatasourceUrl(ds, { DATABASE_URL: 'postgresql://a/b', OVERWRITE_DATASOURCES: json }), 'postgresql://over/ride');
  const b64 = Buffer.from(json).toString('base64');
  assert.deepStrictEqual(parseOverwriteDatasources(b64), [{ name: 'client', url: 'postgresql://over/ride' }]);
  assert.strictEqual(resolveDatasourceUrl({ name: 'db', url: { fromEnvVar: null, value: 'postgresql://lit/eral' } }, {}), 'postgresql://lit/eral');
  assert.throws(() => resolveDatasourceUrl(ds, {}), /Environment variable not found: DATABASE_URL/);
});

test('redact hides passwords in URLs and key=value text', () => {
  assert.strictEqual(redact('connect postgresql://user:s3cr%40t@host:5432/db failed'), 'connect postgresql://user:****@host:5432/db failed');
  assert.strictEqual(redact('password=hunter2 host=x'), 'password=**** host=x');
  assert.strictEqual(redact('postgresql://user@host/db'), 'postgresql://user@host/db');
});
