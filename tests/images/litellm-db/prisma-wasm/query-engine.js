// TEST-ONLY stand-in for Prisma's native query engine binary. LiteLLM's database mode drives
// prisma-client-py 0.11, which spawns the native `query-engine` and talks to it over HTTP in the
// GraphQL protocol. Our local test images cannot download Prisma's native engines, so this program
// presents the same command line and HTTP interface and runs Prisma's own query engine compiled to
// WebAssembly (@prisma/query-engine-wasm, same engine commit) over @prisma/adapter-pg instead.
// Production never uses it: the official LiteLLM image ships the native engines.
//
// Command line (the parts prisma-client-py and the Prisma CLI use):
//   query-engine --version | -V        "query-engine <commit>" (the Prisma CLI and prisma-client-py
//                                      read the text after "query-engine")
//   query-engine -p <port> [-H <host>] --enable-metrics --enable-raw-queries
//                                      serve HTTP; datamodel from PRISMA_DML_PATH / PRISMA_DML
//                                      (or --datamodel-path / --datamodel), datasource override from
//                                      OVERWRITE_DATASOURCES, logs per RUST_LOG / RUST_LOG_FORMAT
//   query-engine cli dmmf | get-config print the DMMF / config of the datamodel (prisma-schema-wasm)
//   query-engine cli build-index       (ours) precompute the schema index cache, see lib/query-dmmf.js
//
// Environment of our own: PRISMA_WASM_CACHE_DIR (schema index cache; default $TMPDIR/prisma-wasm-cache-<uid>),
// PRISMA_WASM_EXIT_WITH_PARENT=0 (keep running when the spawning process dies; default: stop).
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');

const ENGINE_PACKAGE = require('@prisma/query-engine-wasm/package.json');
// "5.17.0-31.393aa359c9ad4a4bb28630fb5613f9c281cde053" -> the engine commit hash
const ENGINE_COMMIT = ENGINE_PACKAGE.version.slice(ENGINE_PACKAGE.version.lastIndexOf('.') + 1);
const ENGINE_VERSION = ENGINE_PACKAGE.version.split('-')[0];
const SHUTDOWN_GRACE_MS = 10000;

const FLAGS_WITH_VALUE = new Set([
  '-p', '--port', '-H', '--host', '--datamodel', '--datamodel-path', '--overwrite-datasources',
  '--engine-protocol', '--unix-path', '--open-telemetry-endpoint', '--dataproxy-metric-override',
]);

function parseArgs(argv) {
  const args = { flags: new Set(), values: {}, positional: [] };
  for (let i = 0; i < argv.length; i += 1) {
    const a = argv[i];
    if (a.startsWith('--') && a.includes('=')) {
      args.values[a.slice(0, a.indexOf('='))] = a.slice(a.indexOf('=') + 1);
    } else if (FLAGS_WITH_VALUE.has(a)) {
      args.values[a] = argv[i + 1];
      i += 1;
    } else if (a.startsWith('-')) {
      args.flags.add(a);
    } else {
      args.positional.push(a);
    }
  }
  const value = (...names) => names.map((n) => args.values[n]).find((v) => v !== undefined);
  return {
    version: args.flags.has('--version') || args.flags.has('-V'),
    help: args.flags.has('--help') || args.flags.has('-h'),
    cli: args.positional[0] === 'cli' ? args.positional.slice(1) : null,
    port: Number(value('-p', '--port') || process.env.PRISMA_ENGINE_PORT || 4466),
    host: value('-H', '--host') || '127.0.0.1',
    unixPath: value('--unix-path'),
    datamodel: value('--datamodel'),
    datamodelPath: value('--datamodel-path'),
    overwriteDatasources: value('--overwrite-datasources'),
    protocol: value('--engine-protocol'),
    enableRawQueries: args.flags.has('--enable-raw-queries') || args.flags.has('-r'),
    enableMetrics: args.flags.has('--enable-metrics') || args.flags.has('-m'),
    logQueries: args.flags.has('--log-queries') || args.flags.has('-o'),
  };
}

/** The datamodel text: a path (PRISMA_DML_PATH) or the text itself (PRISMA_DML, base64 like the native engine). */
function loadDatamodel(opts, env) {
  const file = opts.datamodelPath || env.PRISMA_DML_PATH;
  if (file) return { text: fs.readFileSync(file, 'utf8'), dir: path.dirname(path.resolve(file)) };
  const inline = opts.datamodel || env.PRISMA_DML;
  if (inline) {
    const looksLikeSchema = (t) => /\bdatasource\s+\w+\s*\{/.test(t);
    const decoded = Buffer.from(inline, 'base64').toString('utf8');
    return { text: !looksLikeSchema(inline) && looksLikeSchema(decoded) ? decoded : inline, dir: process.cwd() };
  }
  throw new Error('Either PRISMA_DML_PATH or PRISMA_DML (or --datamodel-path / --datamodel) must be set.');
}

function schemaWasm() {
  return require('@prisma/prisma-schema-wasm');
}

function getConfig(datamodel) {
  const raw = schemaWasm().get_config(JSON.stringify({ prismaSchema: datamodel, datasourceOverrides: {}, ignoreEnvVarErrors: true, env: {} }));
  const parsed = JSON.parse(raw);
  if (parsed.errors && parsed.errors.length) throw new Error(parsed.errors.map((e) => e.message).join('\n'));
  return parsed.config || parsed;
}

function runCli(opts, env) {
  const [command] = opts.cli;
  const { text } = loadDatamodel(opts, env);
  if (command === 'dmmf') {
    process.stdout.write(`${schemaWasm().get_dmmf(JSON.stringify({ prismaSchema: text }))}\n`);
    return 0;
  }
  if (command === 'get-config') {
    process.stdout.write(`${JSON.stringify(getConfig(text))}\n`);
    return 0;
  }
  if (command === 'build-index') {
    // Not a native subcommand: fills the schema index cache ahead of time (e.g. at image build),
    // so engines started later skip the seconds-long get_dmmf call.
    const { loadSchemaIndex } = require('./lib/query-dmmf');
    const { cached } = loadSchemaIndex(text, {
      getDmmf: (t) => schemaWasm().get_dmmf(JSON.stringify({ prismaSchema: t })),
      cacheDir: cacheDir(env),
      engineVersion: ENGINE_PACKAGE.version,
      onCacheError: (e) => {
        throw e;
      },
    });
    process.stdout.write(`schema index ${cached ? 'already cached' : 'written'} in ${cacheDir(env)}\n`);
    return 0;
  }
  process.stderr.write(`query-engine (WASM stand-in): unsupported cli command '${command}'\n`);
  return 1;
}

/** Where the schema index cache lives: PRISMA_WASM_CACHE_DIR, else a per-user directory in $TMPDIR. */
function cacheDir(env) {
  return env.PRISMA_WASM_CACHE_DIR || path.join(os.tmpdir(), `prisma-wasm-cache-${typeof process.getuid === 'function' ? process.getuid() : 'user'}`);
}

/** Print a startup failure the way the native engine does (its user-facing error as JSON), exit 1. */
function failStartup(logger, error) {
  const { redact } = require('./lib/query-url');
  const userFacing =
    error && error.user_facing_error
      ? error.user_facing_error
      : { is_panic: false, message: String((error && error.message) || error), meta: {}, error_code: /^P\d{4}$/.test((error && error.code) || '') ? error.code : undefined };
  logger.error('Encountered error during initialization', { error: userFacing.message });
  process.stderr.write(`${redact(JSON.stringify(userFacing))}\n`);
  process.exit(1);
}

async function serve(opts, env) {
  const { Logger } = require('./lib/query-log');
  const { Metrics } = require('./lib/query-metrics');
  const { parseDatasourceUrl, resolveDatasourceUrl } = require('./lib/query-url');
  const { loadSchemaIndex } = require('./lib/query-dmmf');
  const { EngineHost, externalErrorToKnown } = require('./lib/query-engine-host');
  const { QueryServer } = require('./lib/query-server');

  const startedAt = Date.now();
  const logger = new Logger(env, undefined, { logQueries: opts.logQueries });
  let host;
  let index;
  let settings;
  try {
    const datamodel = loadDatamodel(opts, env);
    const config = getConfig(datamodel.text);
    const datasource = (config.datasources || [])[0];
    if (!datasource || !['postgresql', 'postgres'].includes(datasource.activeProvider || datasource.provider)) {
      throw new Error('This query engine stand-in supports the postgresql provider only.');
    }
    const dsEnv = opts.overwriteDatasources ? { ...env, OVERWRITE_DATASOURCES: opts.overwriteDatasources } : env;
    settings = parseDatasourceUrl(resolveDatasourceUrl(datasource, dsEnv), { schemaDir: datamodel.dir });
    const metrics = new Metrics();
    host = new EngineHost({ datamodel: datamodel.text, settings, logger, metrics });
    // WASM compilation runs off the main thread while the DMMF (synchronous, the slowest part)
    // is computed. The database is probed afterwards, like the native engine does at startup: a
    // probe running during the blocking DMMF call could see its pool_timeout expire spuriously.
    const started = host.start();
    started.catch(() => {});
    const loaded = loadSchemaIndex(datamodel.text, {
      getDmmf: (text) => schemaWasm().get_dmmf(JSON.stringify({ prismaSchema: text })),
      cacheDir: cacheDir(env),
      engineVersion: ENGINE_PACKAGE.version,
      onCacheError: (e) => logger.debug('schema index cache not used', { error: String(e.message) }),
    });
    index = loaded.index;
    try {
      await host.checkConnection();
      await started;
    } catch (error) {
      throw error && error.user_facing_error ? error : externalErrorToKnown(error, settings);
    }
    const server = new QueryServer({
      host,
      index,
      logger,
      metrics,
      protocol: (opts.protocol || env.PRISMA_ENGINE_PROTOCOL || 'graphql').toLowerCase() === 'json' ? 'json' : 'graphql',
      enableRawQueries: opts.enableRawQueries,
      enableMetrics: opts.enableMetrics,
      info: { commit: ENGINE_COMMIT, version: ENGINE_VERSION, primary_connector: 'postgresql' },
    });
    const address = opts.unixPath ? await server.listen(opts.unixPath) : await server.listen(opts.port, opts.host);
    installLifecycle({ server, host, logger });
    logger.info(`Started query engine http server on http://${opts.host}:${address.port || opts.unixPath}`, {
      ip: opts.host,
      port: String(address.port || ''),
      pool_connection_limit: settings.pool.max,
      pool_timeout_s: settings.pool.poolTimeoutMs / 1000,
      startup_ms: Date.now() - startedAt,
      schema_index: loaded.cached ? 'cached' : 'built',
    });
  } catch (error) {
    if (host) host.stop().catch(() => {});
    failStartup(logger, error);
  }
}

/** Signals, parent death, WASM traps. */
function installLifecycle({ server, host, logger }) {
  let stopping = false;
  const shutdown = async (reason) => {
    if (stopping) process.exit(0); // a second signal: do not wait any longer
    stopping = true;
    logger.info(`Shutting down the query engine (${reason})`);
    const drained = await server.drain(SHUTDOWN_GRACE_MS);
    if (!drained) logger.warn('In-flight requests did not finish in time');
    await Promise.race([host.stop(), new Promise((r) => setTimeout(r, 5000).unref())]);
    process.exit(0);
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  // prisma-client-py stops us with SIGINT; should its process die without doing so, do not linger
  // as an orphan holding database connections (the native engine would; tests count connections).
  // PRISMA_WASM_EXIT_WITH_PARENT=0 turns this off, e.g. for an engine started from a script.
  const parent = process.ppid;
  if (process.env.PRISMA_WASM_EXIT_WITH_PARENT !== '0' && parent > 1) {
    setInterval(() => {
      if (process.ppid !== parent) shutdown('parent process exited');
    }, 2000).unref();
  }
  process.on('uncaughtException', (error) => {
    if (error instanceof WebAssembly.RuntimeError) {
      host.onTrap(error);
      return;
    }
    logger.error('Uncaught exception', { error: String((error && error.stack) || error) });
    process.exit(1);
  });
  process.on('unhandledRejection', (reason) => {
    if (reason instanceof WebAssembly.RuntimeError) {
      host.onTrap(reason);
      return;
    }
    logger.error('Unhandled rejection', { error: String((reason && reason.stack) || reason) });
  });
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.version) {
    process.stdout.write(`query-engine ${ENGINE_COMMIT}\n`);
    return;
  }
  if (opts.help) {
    process.stdout.write('query-engine (TEST-ONLY WASM stand-in): see the header of query-engine.js\n');
    return;
  }
  if (opts.cli) {
    process.exitCode = runCli(opts, process.env);
    return;
  }
  serve(opts, process.env);
}

if (require.main === module) main();

module.exports = { parseArgs, loadDatamodel, ENGINE_COMMIT };
