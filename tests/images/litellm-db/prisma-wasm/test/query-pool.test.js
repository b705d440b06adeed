// TEST-ONLY: unit tests for the query-engine stand-in's pool helpers (lib/query-pool.js): the
// text fallback for column types @prisma/adapter-pg rejects, and connection-error triage.
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const net = require('net');
const pg = require('pg');
const { EnginePool, PoolTimeoutError, textFallbackTypes, relabelUnsupportedFields, isUnsupported, connectionIsBroken } = require('../lib/query-pool');
const { Metrics } = require('../lib/query-metrics');
const { parseDatasourceUrl } = require('../lib/query-url');

const NAME = 19;
const CHAR = 18;
const INTERVAL = 1186;
const NAME_ARRAY = 1003;
const INTERVAL_ARRAY = 1187;

test('types the adapter rejects are recognised; supported and user-defined types are not', () => {
  for (const oid of [NAME, CHAR, INTERVAL, NAME_ARRAY, INTERVAL_ARRAY, 2205 /* regclass */, 2278 /* void */, 1185 /* timestamptz[] */]) {
    assert.ok(isUnsupported(oid), String(oid));
  }
  for (const oid of [16, 20, 23, 25, 114, 1043, 1114, 1184, 1700, 2950, 3802, 1009, 1016, 17, 26, 12345]) {
    assert.ok(!isUnsupported(oid), String(oid));
  }
});

test('unsupported columns are parsed as text / text arrays; others use the adapter parser', () => {
  const adapterTypes = { getTypeParser: (oid) => (oid === 23 ? (v) => Number(v) * 10 : (v) => `adapter:${v}`) };
  const types = textFallbackTypes(adapterTypes);
  assert.strictEqual(types.getTypeParser(INTERVAL, 'text')('1 day 02:00:00'), '1 day 02:00:00');
  assert.strictEqual(types.getTypeParser(NAME, 'text')('relname'), 'relname');
  assert.deepStrictEqual(types.getTypeParser(NAME_ARRAY, 'text')('{a,"b c",NULL}'), ['a', 'b c', null]);
  assert.deepStrictEqual(types.getTypeParser(INTERVAL_ARRAY, 'text')('{"1 day",00:00:01}'), ['1 day', '00:00:01']);
  assert.strictEqual(types.getTypeParser(23, 'text')('4'), 40);
  assert.strictEqual(types.getTypeParser(25, 'text')('x'), 'adapter:x');
});

test('result fields of unsupported types are relabelled text (25) / text[] (1009), also for multi-results', () => {
  const result = { fields: [{ name: 'n', dataTypeID: NAME }, { name: 'a', dataTypeID: NAME_ARRAY }, { name: 'i', dataTypeID: 23 }] };
  relabelUnsupportedFields(result);
  assert.deepStrictEqual(result.fields.map((f) => f.dataTypeID), [25, 1009, 23]);
  const multi = [{ fields: [{ dataTypeID: INTERVAL }] }, { fields: [] }, null];
  relabelUnsupportedFields(multi);
  assert.strictEqual(multi[0].fields[0].dataTypeID, 25);
});

test('server-reported SQL errors keep the connection; socket errors discard it', () => {
  assert.strictEqual(connectionIsBroken(undefined), false);
  const sqlError = Object.assign(new Error('duplicate key'), { severity: 'ERROR', code: '23505' });
  assert.strictEqual(connectionIsBroken(sqlError), false);
  assert.strictEqual(connectionIsBroken(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })), true);
});

test('PoolTimeoutError carries Prisma P2024 wording and meta', () => {
  const e = new PoolTimeoutError(5, 2500);
  assert.match(e.message, /^Timed out fetching a new connection from the connection pool\. More info: http:\/\/pris\.ly\/d\/connection-pool \(Current connection pool timeout: 2\.5, connection limit: 5\)$/);
  assert.strictEqual(e.connectionLimit, 5);
  assert.strictEqual(e.timeoutSeconds, 2.5);
});

test('pool is a pg.Pool (PrismaPg requires it) sized by connection_limit; waits bounded by pool_timeout', async () => {
  // A server that accepts TCP connections but never answers: the first checkout occupies the only
  // slot while it connects, so the second must give up after pool_timeout (0.2 s) with P2024,
  // well before connect_timeout (1 s) would end the connection attempt.
  const silent = net.createServer(() => {});
  await new Promise((r) => silent.listen(0, '127.0.0.1', r));
  const { port } = silent.address();
  const settings = parseDatasourceUrl(`postgresql://u:p@127.0.0.1:${port}/db?connection_limit=1&pool_timeout=0.2&connect_timeout=1&application_name=t`);
  const metrics = new Metrics();
  const pool = new EnginePool(settings, metrics);
  try {
    assert.ok(pool instanceof pg.Pool);
    assert.strictEqual(pool.options.max, 1);
    assert.strictEqual(pool.options.connectionTimeoutMillis, 0); // queue waits are bounded by us
    assert.strictEqual(pool.options.application_name, 't');
    const first = pool.acquire().then(() => 'connected', (e) => e);
    const started = Date.now();
    const second = await pool.acquire().then(() => 'connected', (e) => e);
    const waited = Date.now() - started;
    assert.ok(second instanceof PoolTimeoutError, String(second));
    assert.ok(waited >= 150 && waited < 900, `waited ${waited} ms`);
    // Like Prisma's pool, pool_timeout bounds the whole checkout, establishing included: the
    // first checkout (still connecting) gives up at the same time.
    assert.ok((await first) instanceof PoolTimeoutError);
    assert.strictEqual(metrics.counters.prisma_wasm_pool_timeouts_total, 2);
    assert.strictEqual(metrics.waiting, 0);
    assert.strictEqual(metrics.histograms.prisma_client_queries_wait_histogram_ms.count, 2);
  } finally {
    await pool.end().catch(() => {});
    silent.close();
  }
});

test('the connections the pool opens carry the URL password (pg-pool hides it from spreads)', async () => {
  const settings = parseDatasourceUrl('postgresql://u:s3cret%40pw@127.0.0.1:1/db?connection_limit=1&connect_timeout=1');
  const pool = new EnginePool(settings, new Metrics());
  const seen = [];
  pool.Client = class extends pool.Client {
    constructor(options) {
      super(options);
      seen.push(this.password);
    }
  };
  await assert.rejects(pool.connect());   // nothing listens on port 1: only the constructor matters
  await pool.end();
  assert.deepStrictEqual(seen, ['s3cret@pw']);
});
