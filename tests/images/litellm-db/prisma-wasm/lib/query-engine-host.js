// TEST-ONLY stand-in for Prisma's native query engine (LiteLLM database mode in local test images,
// where the native engines cannot be downloaded; production uses the official image's native engine).
//
// Runs Prisma's query engine compiled to WebAssembly (@prisma/query-engine-wasm, postgresql build,
// same engine commit as the native binary) over @prisma/adapter-pg and our EnginePool, and guards
// it where the WASM build is more fragile than the native binary:
//   - a transaction id the engine does not know makes the WASM engine trap ("unreachable") and
//     takes the instance down, so ids are checked against our own registry first;
//   - should it trap anyway, pending calls fail with a panic error and a fresh instance is built.
// It also maps errors raised in JavaScript (the pool, the socket) that the engine can only report
// as "P2036 external error" back to the codes the native engine gives them (P2024, P1001, ...).
'use strict';

const fs = require('fs');
const path = require('path');
const { pathToFileURL } = require('url');
const { PrismaPg } = require('@prisma/adapter-pg');
const { err: adapterErr } = require('@prisma/driver-adapter-utils');
const { EnginePool, PoolTimeoutError, connectionIsBroken } = require('./query-pool');
const { knownError, unknownError } = require('./query-translate');
const { redact } = require('./query-url');

const WASM_DIR = path.join(path.dirname(require.resolve('@prisma/query-engine-wasm/package.json')), 'postgresql');

const TX_NOT_FOUND =
  "Transaction not found. Transaction ID is invalid, refers to an old closed transaction Prisma doesn't have information about anymore, or was obtained before disconnecting.";
// How long ids of finished transactions are remembered (to answer "already closed", not "not found").
const CLOSED_TX_MEMORY_MS = 10 * 60 * 1000;
// Margin before our own clock declares a transaction expired and stops forwarding its id.
const EXPIRY_MARGIN_MS = 2000;

class EnginePanicError extends Error {}

/** Our replacement for driver-adapter-utils' bindAdapter: same shape, but errors are freed once read. */
class ErrorRegistry {
  constructor() {
    this.errors = new Map();
    this.nextId = 0;
  }

  register(error) {
    const id = this.nextId;
    this.nextId = (this.nextId + 1) % 0x7fffffff;
    this.errors.set(id, error);
    if (this.errors.size > 1000) this.errors.delete(this.errors.keys().next().value);
    return id;
  }

  consume(id) {
    const error = this.errors.get(id);
    this.errors.delete(id);
    return error;
  }
}

function wrapAsync(registry, fn) {
  return async (...args) => {
    try {
      return await fn(...args);
    } catch (error) {
      return adapterErr({ kind: 'GenericJs', id: registry.register(error) });
    }
  };
}

function bindTransaction(registry, tx) {
  return {
    adapterName: tx.adapterName,
    provider: tx.provider,
    options: tx.options,
    queryRaw: wrapAsync(registry, tx.queryRaw.bind(tx)),
    executeRaw: wrapAsync(registry, tx.executeRaw.bind(tx)),
    commit: wrapAsync(registry, tx.commit.bind(tx)),
    rollback: wrapAsync(registry, tx.rollback.bind(tx)),
  };
}

function bindAdapter(adapter, registry) {
  const startTransaction = wrapAsync(registry, adapter.startTransaction.bind(adapter));
  return {
    adapterName: adapter.adapterName,
    provider: adapter.provider,
    errorRegistry: { consumeError: (id) => ({ error: registry.consume(id) }) },
    queryRaw: wrapAsync(registry, adapter.queryRaw.bind(adapter)),
    executeRaw: wrapAsync(registry, adapter.executeRaw.bind(adapter)),
    startTransaction: async (...args) => {
      const result = await startTransaction(...args);
      return result.map((tx) => bindTransaction(registry, tx));
    },
    getConnectionInfo: () => adapter.getConnectionInfo(),
  };
}

/** The user-facing error the native engine reports for a JavaScript-side failure. */
function externalErrorToKnown(error, settings) {
  const [host, port] = [settings.client.host, String(settings.client.port)];
  if (error instanceof PoolTimeoutError) {
    return knownError('P2024', error.message, { connection_limit: error.connectionLimit, timeout: error.timeoutSeconds });
  }
  const code = error && error.code;
  const message = String((error && error.message) || error);
  const user = settings.client.user || '';
  if (code === '28P01' || code === '28000') {
    return knownError(
      'P1000',
      `Authentication failed against database server at \`${host}\`, the provided database credentials for \`${user}\` are not valid.\n\n` +
        `Please make sure to provide valid database credentials for the database server at \`${host}\`.`,
      { database_user: user, database_host: host },
    );
  }
  if (code === '3D000') {
    const db = settings.client.database;
    return knownError('P1003', `Database \`${db}\` does not exist on the database server at \`${host}:${port}\`.`, {
      database_name: db,
      database_host: host,
      database_port: port,
    });
  }
  if (['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN'].includes(code) || /connection timeout/i.test(message)) {
    return knownError(
      'P1001',
      `Can't reach database server at \`${host}\`:\`${port}\`\n\nPlease make sure your database server is running at \`${host}\`:\`${port}\`.`,
      { database_host: host, database_port: port },
    );
  }
  if (code === 'ECONNRESET' || /Connection terminated/i.test(message)) {
    return knownError('P1017', 'Server has closed the connection.', {});
  }
  if (/Query read timeout/i.test(message)) {
    return knownError('P1008', `Operations timed out after \`${settings.client.query_timeout || 0}ms\``, { time: `${settings.client.query_timeout || 0}ms` });
  }
  return unknownError(redact(message));
}

class EngineHost {
  /**
   * @param {object} opts {datamodel, settings (parseDatasourceUrl result), logger, metrics, logQueries}
   */
  constructor(opts) {
    this.datamodel = opts.datamodel;
    this.settings = opts.settings;
    this.logger = opts.logger;
    this.metrics = opts.metrics;
    this.logQueries = Boolean(opts.logQueries || this.logger.logQueries);
    this.registry = new ErrorRegistry();
    this.pool = new EnginePool(this.settings, this.metrics);
    this.adapter = bindAdapter(new PrismaPg(this.pool, { schema: this.settings.schema }), this.registry);
    this.wasmModule = null;
    this.engine = null;
    this.generation = 0;
    this.pending = new Set();
    // id -> {startedAt, timeoutMs, expiresAt, closed: null|'committed'|'rolled back', forgetAt}
    this.transactions = new Map();
    this.lastForget = 0;
    this.ready = null;
  }

  /** Compile the WASM (once) and instantiate a fresh engine; resolves when connected. */
  async start() {
    this.ready = this.instantiate();
    return this.ready;
  }

  async compile() {
    if (!this.wasmModule) {
      this.wasmModule = await WebAssembly.compile(await fs.promises.readFile(path.join(WASM_DIR, 'query_engine_bg.wasm')));
    }
    return this.wasmModule;
  }

  async instantiate() {
    // The engine draws randomness (transaction ids) through globalThis.crypto; Node 18 only has
    // it behind --experimental-global-webcrypto, and the glue's fallback (module.require) does
    // not exist in an ES module, so without this the engine traps on the first transaction.
    if (!globalThis.crypto || typeof globalThis.crypto.getRandomValues !== 'function') {
      Object.defineProperty(globalThis, 'crypto', { value: require('crypto').webcrypto, configurable: true, writable: true });
    }
    this.generation += 1;
    // Each instance gets its own copy of the wasm-bindgen glue module: its heap and memory views
    // are module-level state that must not be shared with a trapped instance.
    const glueUrl = `${pathToFileURL(path.join(WASM_DIR, 'query_engine_bg.js')).href}?instance=${this.generation}`;
    const glue = await import(glueUrl);
    const instance = await WebAssembly.instantiate(await this.compile(), { './query_engine_bg.js': glue });
    glue.__wbg_set_wasm(instance.exports);
    const logLevel = this.logger.enabled('debug') ? 'debug' : this.logger.enabled('info') ? 'info' : this.logger.enabled('warn') ? 'warn' : 'error';
    const engine = new glue.QueryEngine(
      { datamodel: this.datamodel, logLevel, logQueries: this.logQueries },
      (event) => this.logger.engineEvent(event),
      this.adapter,
    );
    await engine.connect('{}');
    this.engine = engine;
    return engine;
  }

  /** Verify the datasource answers (the native engine fails at startup when it does not). */
  async checkConnection() {
    const client = await this.pool.acquire();
    client.release();
  }

  /** Run an engine call, tracked so that a trap can fail it instead of leaving it hanging. */
  async call(fn) {
    const engine = this.engine || (await this.ready);
    return new Promise((resolve, reject) => {
      const entry = { reject };
      this.pending.add(entry);
      Promise.resolve()
        .then(() => fn(engine))
        .then(
          (value) => {
            this.pending.delete(entry);
            resolve(value);
          },
          (error) => {
            this.pending.delete(entry);
            reject(error);
          },
        );
    });
  }

  /** Called for an uncaught WebAssembly.RuntimeError: the instance is unusable from here on. */
  onTrap(error) {
    // Late callbacks into an instance that already trapped (e.g. a database answer arriving for
    // one of its queries) trap again; they must not take the fresh instance down with them. The
    // glue module URL in the stack tells which instance it was.
    const m = /query_engine_bg\.js\?instance=(\d+)/.exec(String(error && error.stack));
    if (m && Number(m[1]) !== this.generation) {
      this.logger.debug('late trap from a retired WASM engine instance ignored', { instance: m[1] });
      return;
    }
    this.logger.error('The WASM query engine trapped; starting a new instance', { error: String(error && error.message) });
    const failed = [...this.pending];
    this.pending.clear();
    for (const entry of failed) entry.reject(new EnginePanicError(`PANIC: ${error && error.message}`));
    this.engine = null;
    this.transactions.clear();
    this.pool.releaseTransactionClients(new Error('query engine instance reset'));
    this.ready = this.instantiate();
    this.ready.catch((e) => this.logger.error('Could not restart the WASM query engine', { error: String(e && e.message) }));
  }

  // -------------------------------------------------------------------------------------------
  // Transactions

  /** Drop remembered transactions past their memory period (at most every 10 s: it is a scan). */
  forgetOldTransactions(now) {
    if (now - (this.lastForget || 0) < 10000) return;
    this.lastForget = now;
    for (const [id, tx] of this.transactions) {
      if (tx.forgetAt < now) this.transactions.delete(id);
    }
  }

  /**
   * Decide whether a transaction id may be handed to the engine. Returns null when it may, else
   * the user-facing P2028 error to answer instead ({status, error}).
   */
  checkTransaction(id, what) {
    const now = Date.now();
    const tx = this.transactions.get(id);
    if (!tx) return { status: 404, error: knownError('P2028', `Transaction API error: ${TX_NOT_FOUND}`, { error: TX_NOT_FOUND }) };
    let reason = null;
    if (tx.closed) {
      reason = `A ${what} cannot be executed on a ${tx.closed} transaction.`;
    } else if (now > tx.expiresAt + EXPIRY_MARGIN_MS) {
      reason =
        `A ${what} cannot be executed on an expired transaction. The timeout for this transaction was ${tx.timeoutMs} ms, ` +
        `however ${now - tx.startedAt} ms passed since the start of the transaction. Consider increasing the interactive ` +
        'transaction timeout or doing less work in the transaction.';
    }
    if (reason === null) return null;
    const text = `Transaction already closed: ${reason}`;
    return { status: 422, error: { ...knownError('P2028', `Transaction API error: ${text}`, { error: text }), error: text } };
  }

  async startTransaction(input) {
    const options = { max_wait: 2000, timeout: 5000, ...input };
    const started = Date.now();
    const text = await this.call((engine) => engine.startTransaction(JSON.stringify(options), '{}'));
    let result = JSON.parse(text);
    if (result && result.error_code === 'P2036') result = this.fixError({ user_facing_error: result }).user_facing_error;
    if (typeof result.id === 'string') {
      this.forgetOldTransactions(started);
      const expiresAt = started + options.timeout;
      this.transactions.set(result.id, { startedAt: started, timeoutMs: options.timeout, expiresAt, closed: null, forgetAt: expiresAt + CLOSED_TX_MEMORY_MS });
    }
    return result;
  }

  async endTransaction(id, kind) {
    const refused = this.checkTransaction(id, kind === 'commit' ? 'commit' : 'rollback');
    if (refused) return { status: refused.status, body: refused.error.user_facing_error };
    const text = await this.call((engine) => (kind === 'commit' ? engine.commitTransaction(id, '{}') : engine.rollbackTransaction(id, '{}')));
    const tx = this.transactions.get(id);
    if (tx) {
      tx.closed = kind === 'commit' ? 'committed' : 'rolled back';
      tx.forgetAt = Date.now() + CLOSED_TX_MEMORY_MS;
    }
    const result = JSON.parse(text || '{}');
    if (result && result.error_code) return { status: /already closed/.test(result.message) ? 422 : 500, body: result };
    return { status: 200, body: {} };
  }

  // -------------------------------------------------------------------------------------------
  // Queries

  /** Send a JSON-protocol body; returns the engine's JSON text (errors included). */
  async query(jsonBody, txId) {
    if (txId) {
      const refused = this.checkTransaction(txId, 'query');
      if (refused) return JSON.stringify({ errors: [refused.error] });
    }
    return this.call((engine) => engine.query(jsonBody, '{}', txId || undefined));
  }

  /**
   * Map one GQL error entry ({error, user_facing_error}) whose user-facing part is "P2036 external
   * error" to what the JavaScript error really was; other entries are returned unchanged.
   */
  fixError(entry) {
    const uf = entry && entry.user_facing_error;
    if (!uf || uf.error_code !== 'P2036' || !uf.meta || typeof uf.meta.id !== 'number') return entry;
    const original = this.registry.consume(uf.meta.id);
    if (original === undefined) return entry;
    const mapped = externalErrorToKnown(original, this.settings);
    if (uf.batch_request_idx !== undefined) mapped.user_facing_error.batch_request_idx = uf.batch_request_idx;
    if (!(original instanceof PoolTimeoutError) && connectionIsBroken(original)) {
      this.logger.error('Database connection error', { error: redact(String(original.message || original)) });
    }
    return mapped;
  }

  /** Apply fixError to every entry of an {"errors": [...]} response. */
  fixErrors(resp) {
    if (resp && Array.isArray(resp.errors)) resp.errors = resp.errors.map((e) => this.fixError(e));
    return resp;
  }

  async stop() {
    const engine = this.engine;
    this.engine = null;
    if (engine) {
      try {
        await engine.disconnect('{}');
      } catch (e) {
        this.logger.warn('disconnect failed', { error: String(e && e.message) });
      }
    }
    await this.pool.end().catch(() => {});
  }
}

module.exports = { EngineHost, EnginePanicError, ErrorRegistry, bindAdapter, externalErrorToKnown, TX_NOT_FOUND };
