// TEST-ONLY stand-in for Prisma's native query engine (LiteLLM database mode in local test images,
// where the native engines cannot be downloaded; production uses the official image's native engine).
//
// The connection pool under @prisma/adapter-pg. PrismaPg insists on a `pg.Pool`, so this is a
// subclass that behaves like Prisma's own pool (quaint/mobc) where the two differ:
//   - size: `max` = connection_limit;
//   - pool_timeout bounds the wait for a free connection (P2024 when it expires) independently of
//     connect_timeout, which bounds establishing one (pg-pool uses one option for both, so the
//     pool-level timeout is ours and the connect timeout is set on each Client);
//   - a failed SQL statement does not cost the connection (pg-pool's own query() destroys the
//     client on every error; here only broken connections are discarded);
//   - result columns of Postgres types the adapter rejects (name, "char", interval, name[], ...)
//     are handed over as text / text[] instead of failing the whole query;
//   - it feeds the metrics (wait time, datasource query count/duration, open/idle connections).
'use strict';

const pg = require('pg');
const { parse: parsePgArray } = require('postgres-array');

const TEXT_OID = 25;
const TEXT_ARRAY_OID = 1009;

// The column types @prisma/adapter-pg 5.17 converts (its fieldToColumnType); OIDs >= 10000
// (user-defined types such as enums) are read as text by the adapter itself.
const ADAPTER_SUPPORTED_OIDS = new Set([
  16, 17, 20, 21, 23, 25, 26, 114, 142, 650, 700, 701, 790, 869, 1042, 1043, 1082, 1083, 1114, 1184,
  1266, 1560, 1562, 1700, 2950, 3802,
  143, 199, 651, 791, 1000, 1001, 1002, 1005, 1007, 1009, 1014, 1015, 1016, 1021, 1022, 1028, 1041,
  1115, 1182, 1183, 1231, 1561, 1563, 2951, 3807,
]);

// Built-in array types (pg_type.typcategory = 'A') the adapter does not support; their values are
// passed on as arrays of strings.
const BUILTIN_ARRAY_OIDS = new Set([
  271, 629, 719, 775, 1003, 1006, 1008, 1010, 1011, 1012, 1013, 1017, 1018, 1019, 1020, 1027, 1034,
  1040, 1185, 1187, 1263, 1270, 2201, 2207, 2208, 2209, 2210, 2211, 2287, 2949, 3221, 3643, 3644,
  3645, 3735, 3770, 3905, 3907, 3909, 3911, 3913, 3927, 4073, 4090, 4097, 4192, 5039, 6150, 6151,
  6152, 6153, 6155, 6157,
]);

function isUnsupported(oid) {
  return oid < 10000 && !ADAPTER_SUPPORTED_OIDS.has(oid);
}

const identity = (value) => value;
const parseTextArray = (value) => parsePgArray(value, identity);

/** Wrap the adapter's type parsers: unsupported types are read as text (or text arrays). */
function textFallbackTypes(types) {
  return {
    getTypeParser(oid, format) {
      if (isUnsupported(oid)) return BUILTIN_ARRAY_OIDS.has(oid) ? parseTextArray : identity;
      return types.getTypeParser(oid, format);
    },
  };
}

/** Report unsupported result columns to the adapter as text / text[]. */
function relabelUnsupportedFields(result) {
  const results = Array.isArray(result) ? result : [result];
  for (const r of results) {
    if (!r || !Array.isArray(r.fields)) continue;
    for (const field of r.fields) {
      if (isUnsupported(field.dataTypeID)) {
        field.dataTypeID = BUILTIN_ARRAY_OIDS.has(field.dataTypeID) ? TEXT_ARRAY_OID : TEXT_OID;
      }
    }
  }
  return result;
}

class PoolTimeoutError extends Error {
  constructor(connectionLimit, timeoutMs) {
    super(
      `Timed out fetching a new connection from the connection pool. More info: http://pris.ly/d/connection-pool ` +
        `(Current connection pool timeout: ${timeoutMs / 1000}, connection limit: ${connectionLimit})`,
    );
    this.connectionLimit = connectionLimit;
    this.timeoutSeconds = timeoutMs / 1000;
  }
}

/** A server-reported SQL error leaves the connection usable; anything else may not. */
function connectionIsBroken(err) {
  return Boolean(err) && typeof err.severity !== 'string';
}

function makeClientClass(connectTimeoutMs) {
  // pg-pool would apply its connectionTimeoutMillis to queue waits too; the connect timeout is
  // set per client instead.
  return class TimedClient extends pg.Client {
    constructor(options) {
      // pg-pool keeps the password as a non-enumerable property (so that it is not logged): a
      // spread would drop it, name it explicitly
      super({ ...options, password: options.password, connectionTimeoutMillis: connectTimeoutMs });
    }
  };
}

const now = () => Number(process.hrtime.bigint()) / 1e6;

class EnginePool extends pg.Pool {
  /**
   * @param {object} settings  parseDatasourceUrl() result
   * @param {import('./query-metrics').Metrics} metrics
   */
  constructor(settings, metrics) {
    super({
      ...settings.client,
      max: settings.pool.max,
      idleTimeoutMillis: settings.pool.idleTimeoutMs,
      maxLifetimeSeconds: settings.pool.maxLifetimeSeconds,
      connectionTimeoutMillis: 0,
      Client: makeClientClass(settings.pool.connectTimeoutMs),
    });
    this.poolTimeoutMs = settings.pool.poolTimeoutMs;
    this.metrics = metrics;
    this.transactionClients = new Set();
    this.on('connect', () => metrics.inc('prisma_pool_connections_opened_total'));
    this.on('remove', () => metrics.inc('prisma_pool_connections_closed_total'));
    // An idle client's socket error must not crash the process; pg-pool already drops the client.
    this.on('error', () => {});
    metrics.poolSnapshot = () => ({ open: this.totalCount, idle: this.idleCount });
  }

  /**
   * Check out a client, waiting at most pool_timeout for one to become free. @prisma/adapter-pg
   * calls this for interactive transactions; those clients are remembered until released so an
   * engine reset can give them back (releaseTransactionClients).
   */
  connect(callback) {
    const checkout = this.acquire().then((client) => {
      this.transactionClients.add(client);
      const release = client.release;
      client.release = (err) => {
        this.transactionClients.delete(client);
        return release(err);
      };
      return client;
    });
    if (typeof callback === 'function') {
      checkout.then((client) => callback(undefined, client, (err) => client.release(err)), (err) => callback(err));
      return undefined;
    }
    return checkout;
  }

  /** Return (and discard) every client still held by a transaction. */
  releaseTransactionClients(reason) {
    for (const client of [...this.transactionClients]) {
      try {
        client.release(reason);
      } catch (_e) {
        // already released
      }
    }
  }

  async acquire() {
    const metrics = this.metrics;
    const started = now();
    metrics.waiting += 1;
    const pending = super.connect();
    let timer;
    try {
      let client;
      if (this.poolTimeoutMs > 0) {
        const timeout = new Promise((_resolve, reject) => {
          timer = setTimeout(() => reject(new PoolTimeoutError(this.options.max, this.poolTimeoutMs)), this.poolTimeoutMs);
        });
        try {
          client = await Promise.race([pending, timeout]);
        } catch (err) {
          if (err instanceof PoolTimeoutError) {
            metrics.inc('prisma_wasm_pool_timeouts_total');
            // The request stays queued in pg-pool; hand its connection straight back when it comes.
            pending.then((c) => c.release(), () => {});
          }
          throw err;
        }
      } else {
        client = await pending;
      }
      this.instrument(client);
      return client;
    } finally {
      clearTimeout(timer);
      metrics.waiting -= 1;
      metrics.observe('prisma_client_queries_wait_histogram_ms', now() - started);
    }
  }

  /** Patch a client once: type fallback for the adapter's queries, and query metrics. */
  instrument(client) {
    if (client.__qeInstrumented) return;
    client.__qeInstrumented = true;
    const original = client.query;
    const metrics = this.metrics;
    client.query = function query(config, values, callback) {
      if (callback !== undefined || typeof values === 'function' || !config || typeof config !== 'object' || !config.types) {
        return original.call(this, config, values, callback);
      }
      const started = now();
      metrics.inc('prisma_datasource_queries_total');
      const settle = () => metrics.observe('prisma_datasource_queries_duration_histogram_ms', now() - started);
      return original.call(this, { ...config, types: textFallbackTypes(config.types) }, values).then(
        (result) => {
          settle();
          return relabelUnsupportedFields(result);
        },
        (err) => {
          settle();
          throw err;
        },
      );
    };
  }

  /** What @prisma/adapter-pg calls for statements outside transactions. */
  query(config, values, callback) {
    if (typeof callback === 'function' || typeof values === 'function') {
      return super.query(config, values, callback);
    }
    return this.acquire().then(async (client) => {
      let failure;
      try {
        return await client.query(config, values);
      } catch (err) {
        failure = err;
        throw err;
      } finally {
        client.release(connectionIsBroken(failure) ? failure : undefined);
      }
    });
  }
}

module.exports = {
  EnginePool,
  PoolTimeoutError,
  textFallbackTypes,
  relabelUnsupportedFields,
  isUnsupported,
  connectionIsBroken,
};
