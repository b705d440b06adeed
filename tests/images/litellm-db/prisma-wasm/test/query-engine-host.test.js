// TEST-ONLY: unit tests for the query-engine stand-in's engine host (lib/query-engine-host.js):
// transaction-id guarding, error registry and the mapping of JavaScript-side errors to Prisma codes.
// No database is contacted (the pool connects lazily and is never used here).
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const { EngineHost, ErrorRegistry, externalErrorToKnown, TX_NOT_FOUND } = require('../lib/query-engine-host');
const { PoolTimeoutError } = require('../lib/query-pool');
const { parseDatasourceUrl } = require('../lib/query-url');
const { Metrics } = require('../lib/query-metrics');
const { Logger } = require('../lib/query-log');

const settings = parseDatasourceUrl('postgresql://llm:pw@db.internal:6432/litellm?connection_limit=4&pool_timeout=3');

function makeHost() {
  return new EngineHost({ datamodel: '', settings, logger: new Logger({ RUST_LOG: 'off' }, () => {}), metrics: new Metrics() });
}

test('error registry hands each error out once', () => {
  const r = new ErrorRegistry();
  const id = r.register(new Error('x'));
  assert.strictEqual(r.consume(id).message, 'x');
  assert.strictEqual(r.consume(id), undefined);
  for (let i = 0; i < 1100; i += 1) r.register(i);
  assert.ok(r.errors.size <= 1000);
});

test('JavaScript-side failures map to the native error codes', () => {
  const p2024 = externalErrorToKnown(new PoolTimeoutError(4, 3000), settings).user_facing_error;
  assert.strictEqual(p2024.error_code, 'P2024');
  assert.deepStrictEqual(p2024.meta, { connection_limit: 4, timeout: 3 });
  const p1001 = externalErrorToKnown(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), settings).user_facing_error;
  assert.strictEqual(p1001.error_code, 'P1001');
  assert.match(p1001.message, /^Can't reach database server at `db.internal`:`6432`/);
  assert.deepStrictEqual(p1001.meta, { database_host: 'db.internal', database_port: '6432' });
  const p1000 = externalErrorToKnown(Object.assign(new Error('password authentication failed'), { code: '28P01', severity: 'FATAL' }), settings);
  assert.strictEqual(p1000.user_facing_error.error_code, 'P1000');
  assert.strictEqual(externalErrorToKnown(Object.assign(new Error('no db'), { code: '3D000' }), settings).user_facing_error.error_code, 'P1003');
  assert.strictEqual(externalErrorToKnown(new Error('Connection terminated unexpectedly'), settings).user_facing_error.error_code, 'P1017');
  const other = externalErrorToKnown(new Error('weird postgresql://u:leak@h/d'), settings).user_facing_error;
  assert.strictEqual(other.error_code, undefined);
  assert.ok(!other.message.includes('leak'));
});

test('P2036 entries are replaced using the registry; others are untouched', () => {
  const host = makeHost();
  const id = host.registry.register(new PoolTimeoutError(4, 3000));
  const resp = host.fixErrors({
    errors: [
      { error: 'x', user_facing_error: { is_panic: false, message: 'external', meta: { id }, error_code: 'P2036', batch_request_idx: 2 } },
      { error: 'y', user_facing_error: { is_panic: false, message: 'dup', meta: {}, error_code: 'P2002' } },
    ],
  });
  assert.strictEqual(resp.errors[0].user_facing_error.error_code, 'P2024');
  assert.strictEqual(resp.errors[0].user_facing_error.batch_request_idx, 2);
  assert.strictEqual(resp.errors[1].user_facing_error.error_code, 'P2002');
  return host.pool.end();
});

test('transaction ids the engine may not know are answered here (the WASM engine traps on them)', async () => {
  const host = makeHost();
  const unknown = host.checkTransaction('nope', 'query');
  assert.strictEqual(unknown.status, 404);
  assert.strictEqual(unknown.error.user_facing_error.error_code, 'P2028');
  assert.strictEqual(unknown.error.user_facing_error.meta.error, TX_NOT_FOUND);

  const now = Date.now();
  host.transactions.set('open', { startedAt: now, timeoutMs: 5000, expiresAt: now + 5000, closed: null, forgetAt: now + 60000 });
  assert.strictEqual(host.checkTransaction('open', 'query'), null);

  host.transactions.set('old', { startedAt: now - 60000, timeoutMs: 5000, expiresAt: now - 55000, closed: null });
  const expired = host.checkTransaction('old', 'commit');
  assert.strictEqual(expired.status, 422);
  // prisma-client-py raises TransactionExpiredError when `error` starts like this
  assert.match(expired.error.error, /^Transaction already closed: A commit cannot be executed on an expired transaction\./);

  host.transactions.set('done', { startedAt: now, timeoutMs: 5000, expiresAt: now + 5000, closed: 'committed' });
  assert.match(host.checkTransaction('done', 'rollback').error.error, /^Transaction already closed: A rollback cannot be executed on a committed transaction\./);

  const refused = await host.endTransaction('nope', 'commit');
  assert.strictEqual(refused.status, 404);
  assert.strictEqual(refused.body.error_code, 'P2028');
  const q = JSON.parse(await host.query('{}', 'nope'));
  assert.strictEqual(q.errors[0].user_facing_error.error_code, 'P2028');
  await host.pool.end();
});

test('finished or abandoned transactions are forgotten after their memory period', async () => {
  const host = makeHost();
  const now = Date.now();
  host.transactions.set('stale', { startedAt: 0, timeoutMs: 1, expiresAt: 1, closed: null, forgetAt: now - 1 });
  host.transactions.set('fresh', { startedAt: now, timeoutMs: 5000, expiresAt: now + 5000, closed: null, forgetAt: now + 60000 });
  host.forgetOldTransactions(now);
  assert.deepStrictEqual([...host.transactions.keys()], ['fresh']);
  await host.pool.end();
});

test('a trap rebuilds the current instance once; late traps of retired instances are ignored', async () => {
  const host = makeHost();
  let rebuilds = 0;
  host.instantiate = () => {
    rebuilds += 1;
    return Promise.resolve({});
  };
  host.generation = 2;
  const pending = new Promise((resolve, reject) => host.pending.add({ reject })).catch((e) => e);
  const stale = new WebAssembly.RuntimeError('unreachable');
  stale.stack = 'RuntimeError: unreachable\n    at __wbg_adapter_48 (file:///x/query_engine_bg.js?instance=1:241:10)';
  host.onTrap(stale);
  assert.strictEqual(rebuilds, 0);
  const current = new WebAssembly.RuntimeError('unreachable');
  current.stack = 'RuntimeError: unreachable\n    at real (file:///x/query_engine_bg.js?instance=2:226:20)';
  host.transactions.set('t', { startedAt: 0, timeoutMs: 1, expiresAt: 1, closed: null, forgetAt: Infinity });
  host.onTrap(current);
  assert.strictEqual(rebuilds, 1);
  assert.match((await pending).message, /^PANIC: unreachable/);
  assert.strictEqual(host.transactions.size, 0);
  await host.pool.end();
});
