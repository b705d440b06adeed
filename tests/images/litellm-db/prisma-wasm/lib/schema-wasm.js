// TEST-ONLY stand-in for Prisma's native schema engine (see ../schema-engine.js): runs Prisma's
// schema engine compiled to WebAssembly (@prisma/schema-engine-wasm 6.19, the only one published)
// over @prisma/adapter-pg 6.19 (installed as adapter-pg-6) for the commands that need Prisma's
// schema differ: `migrate diff` and `db push`. Three things have to be bridged:
//  - the 6.19 engine has no connection strings: a database is reached through the adapter, and
//    diff targets that name a database become `schemaDatasource` targets read through it;
//  - adapter-pg rejects some catalog column types (name, name[], "char", interval, ...) that the
//    engine's describer selects: such columns are parsed and reported as text / text[];
//  - adapter-pg runs a script by splitting it on ";", which breaks on a ";" inside a literal:
//    scripts go to PostgreSQL whole, in one simple-protocol message, as the native engine sends them.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { createRequire } = require('node:module');
const { pathToFileURL } = require('node:url');
const pg = require('pg');
const errors = require('./schema-errors');
const { parsePostgresUrl, toPgConfig } = require('./schema-pgurl');

const TEXT_OID = 25;
const TEXT_ARRAY_OID = 1009;
const FIRST_USER_OID = 16384;

// Built-in type OIDs @prisma/adapter-pg 6.19 maps to a column type (its fieldToColumnType).
const ADAPTER_OIDS = new Set([
  21, 23, 20, 700, 701, 16, 1082, 1083, 1266, 1114, 1184, 1700, 790, 114, 3802, 2950, 26,
  1042, 25, 1043, 1560, 1562, 869, 650, 142, 17,
  1005, 1007, 1021, 1022, 1231, 791, 1000, 1002, 1014, 1009, 1015, 1563, 1561, 1041, 651, 143,
  1182, 1183, 1115, 1185, 199, 3807, 1001, 2951, 1016, 1028,
]);

// Built-in array types the adapter does not know (their text form is an array literal).
const OTHER_ARRAY_OIDS = new Set([
  271, 629, 719, 775, 1003, 1006, 1008, 1010, 1011, 1012, 1013, 1017, 1018, 1019, 1020, 1027,
  1034, 1040, 1187, 1263, 1270, 2201, 2207, 2208, 2209, 2210, 2211, 2287, 2949, 3221, 3643,
  3644, 3645, 3735, 3770, 3905, 3907, 3909, 3911, 3913, 3927, 4073, 4090, 4097, 4192, 5039,
]);

/** The OID a column is reported and parsed as: unchanged if the adapter knows it, else text / text[]. */
function substituteOid(oid) {
  if (oid >= FIRST_USER_OID || ADAPTER_OIDS.has(oid)) return oid;
  return OTHER_ARRAY_OIDS.has(oid) ? TEXT_ARRAY_OID : TEXT_OID;
}

function withSubstitutedParsers(config) {
  const base = config.types && typeof config.types.getTypeParser === 'function'
    ? config.types.getTypeParser.bind(config.types)
    : pg.types.getTypeParser;
  return Object.assign({}, config, {
    types: { getTypeParser: (oid, format) => base(substituteOid(oid), format) },
  });
}

function relabelFields(result) {
  for (const r of Array.isArray(result) ? result : [result]) {
    if (r && Array.isArray(r.fields)) {
      for (const field of r.fields) field.dataTypeID = substituteOid(field.dataTypeID);
    }
  }
  return result;
}

/** A pg.Client whose results only carry column types adapter-pg 6.19 accepts. */
class TextFallbackClient extends pg.Client {
  query(config, values, callback) {
    if (typeof values === 'function') {
      callback = values;
      values = undefined;
    }
    if (!config || typeof config !== 'object' || typeof config.submit === 'function') {
      return super.query(config, values, callback);
    }
    const wrapped = withSubstitutedParsers(config);
    if (callback) {
      return super.query(wrapped, values, (err, res) => callback(err, err ? res : relabelFields(res)));
    }
    return super.query(wrapped, values).then(relabelFields);
  }
}

/**
 * The glue's imports, adjusted for Node 18. The engine's random numbers come from Rust's getrandom,
 * which on Node asks the glue for `module.require` to load `crypto`: in an ES module (the glue is
 * one) there is no `module`, and on Node 18 getrandom then panics ("Node.js ES modules are not
 * directly supported"). Handing it CommonJS `require` fixes that. The engine also reports panics
 * to a PRISMA_WASM_PANIC_REGISTRY global that Prisma's CLI normally installs.
 */
function nodeCompatibleImports(glue) {
  const imports = Object.assign({}, glue);
  for (const name of Object.keys(imports)) {
    if (name.startsWith('__wbg_require_')) imports[name] = () => require;
  }
  if (!global.PRISMA_WASM_PANIC_REGISTRY) {
    global.PRISMA_WASM_PANIC_REGISTRY = {
      message: '',
      set_message(message) {
        this.message = message;
      },
    };
  }
  return imports;
}

let wasmModulePromise = null;

/** Load the wasm-bindgen glue (an ES module) and instantiate the engine's WebAssembly module. */
function loadWasmModule() {
  if (!wasmModulePromise) {
    wasmModulePromise = (async () => {
      const gluePath = require.resolve('@prisma/schema-engine-wasm/schema_engine_bg');
      const dir = path.dirname(gluePath);
      const glue = await import(pathToFileURL(gluePath).href);
      const module = new WebAssembly.Module(fs.readFileSync(path.join(dir, 'schema_engine_bg.wasm')));
      const instance = new WebAssembly.Instance(module, { './schema_engine_bg.js': nodeCompatibleImports(glue) });
      glue.__wbg_set_wasm(instance.exports);
      instance.exports.__wbindgen_start();
      return glue;
    })();
  }
  return wasmModulePromise;
}

function loadAdapter() {
  const adapterRequire = createRequire(require.resolve('adapter-pg-6'));
  return {
    PrismaPg: require('adapter-pg-6').PrismaPg,
    bindMigrationAwareSqlAdapterFactory: adapterRequire('@prisma/driver-adapter-utils').bindMigrationAwareSqlAdapterFactory,
    ColumnTypeEnum: adapterRequire('@prisma/driver-adapter-utils').ColumnTypeEnum,
  };
}

/** The startup `options` that put the URL's schema first on the search_path (quaint does SET search_path). */
function searchPathOptions(url) {
  const escaped = url.schema.replace(/\\/g, '\\\\').replace(/ /g, '\\ ');
  return [url.options, `-c search_path=${escaped}`].filter(Boolean).join(' ');
}

/**
 * An adapter factory for one database: a pool of text-fallback clients, and a connect() whose
 * adapters run scripts whole.
 */
function createAdapterFactory(connectionString) {
  const { PrismaPg, bindMigrationAwareSqlAdapterFactory } = loadAdapter();
  const url = parsePostgresUrl(connectionString);
  const pool = new pg.Pool(toPgConfig(url, { Client: TextFallbackClient, max: 4, options: searchPathOptions(url) }));
  pool.on('error', () => {});
  const factory = new PrismaPg(pool, { schema: url.schema });
  const connect = factory.connect.bind(factory);
  factory.connect = async () => {
    const adapter = await connect();
    adapter.executeScript = async (script) => {
      try {
        await pool.query(script);
      } catch (err) {
        adapter.onError(err);
      }
    };
    return adapter;
  };
  return { factory: bindMigrationAwareSqlAdapterFactory(factory), pool, url };
}

/**
 * An adapter without a database, for diffs between schemas only. The 6.19 engine still "connects"
 * when it starts and runs its connection setup query (schema exists?, version()): that one query is
 * answered as a PostgreSQL 15 server would; any other query fails.
 */
function offlineAdapterFactory() {
  const { bindMigrationAwareSqlAdapterFactory, ColumnTypeEnum } = loadAdapter();
  const adapter = {
    provider: 'postgres',
    adapterName: '@prisma/adapter-pg',
    async queryRaw(query) {
      if (/^SELECT EXISTS\(SELECT 1 FROM pg_namespace/.test(query.sql)) {
        return {
          columnNames: ['exists', 'version', 'numeric_version'],
          columnTypes: [ColumnTypeEnum.Boolean, ColumnTypeEnum.Text, ColumnTypeEnum.Int32],
          rows: [[true, 'PostgreSQL 15.0 (offline, no database)', 150000]],
        };
      }
      throw new Error('This diff involves no database.');
    },
    async executeRaw() {
      throw new Error('This diff involves no database.');
    },
    async executeScript() {
      throw new Error('This diff involves no database.');
    },
    async startTransaction() {
      throw new Error('This diff involves no database.');
    },
    getConnectionInfo: () => ({ schemaName: 'public', supportsRelationJoins: true }),
    async dispose() {},
  };
  const refuse = async () => {
    throw new Error('This diff involves no database.');
  };
  return bindMigrationAwareSqlAdapterFactory({
    provider: 'postgres',
    adapterName: '@prisma/adapter-pg',
    connect: async () => adapter,
    connectToShadowDb: refuse,
  });
}

/** The engine's errors: a Prisma code when it has one, else its message (the first line block). */
function translateWasmError(err) {
  if (err instanceof errors.UserFacingError || err instanceof errors.UnknownEngineError) return err;
  const panic = global.PRISMA_WASM_PANIC_REGISTRY && global.PRISMA_WASM_PANIC_REGISTRY.message;
  if (err instanceof WebAssembly.RuntimeError && panic) {
    return new errors.UnknownEngineError(`Error in Schema engine (WebAssembly panic): ${panic}`);
  }
  const message = String(err && err.message ? err.message : err);
  if (err && typeof err.code === 'string' && /^P\d{4}$/.test(err.code)) {
    return new errors.UserFacingError(err.code, message, err.meta);
  }
  return new errors.UnknownEngineError(message);
}

/**
 * Run `fn(engine)` with a 6.19 wasm engine bound to `connectionString` (or to no database), and
 * free everything afterwards. `onLog` receives the engine's log lines.
 */
async function withWasmEngine(connectionString, datamodels, fn, onLog) {
  const glue = await loadWasmModule();
  const adapter = connectionString ? createAdapterFactory(connectionString) : null;
  let engine = null;
  try {
    const factory = adapter ? adapter.factory : offlineAdapterFactory();
    const options = { datamodels: datamodels && datamodels.length > 0 ? datamodels.map((f) => [f.path, f.content]) : undefined };
    engine = await glue.SchemaEngine.new(options, (line) => onLog && onLog(line), factory);
    return await fn(engine);
  } catch (err) {
    const registered = adapter && adapter.factory.errorRegistry && adapter.factory.errorRegistry.lookupError
      ? adapter.factory.errorRegistry.lookupError(err) : null;
    if (registered && registered.error) {
      throw new errors.UnknownEngineError(describeAdapterError(registered.error));
    }
    throw translateWasmError(err);
  } finally {
    if (engine) {
      try {
        engine.free();
      } catch (_err) {
        // already freed
      }
    }
    if (adapter) await adapter.pool.end().catch(() => {});
  }
}

function describeAdapterError(error) {
  if (error && error.originalMessage) return error.originalMessage;
  if (error && error.message) return error.message;
  return JSON.stringify(error);
}

/** A schema whose only job is to say "PostgreSQL, through the adapter" to the 6.19 engine. */
const ADAPTER_DATASOURCE_SCHEMA = 'datasource db {\n  provider = "postgresql"\n  url      = "postgresql://adapter@localhost/adapter"\n}\n';

function adapterDatasourceTarget() {
  return {
    tag: 'schemaDatasource',
    configDir: process.cwd(),
    files: [{ path: path.join(process.cwd(), 'adapter-datasource.prisma'), content: ADAPTER_DATASOURCE_SCHEMA }],
  };
}

const NO_FILTERS = { externalTables: [], externalEnums: [] };

module.exports = {
  substituteOid,
  withSubstitutedParsers,
  relabelFields,
  TextFallbackClient,
  loadWasmModule,
  withWasmEngine,
  translateWasmError,
  adapterDatasourceTarget,
  searchPathOptions,
  ADAPTER_DATASOURCE_SCHEMA,
  NO_FILTERS,
};
