// TEST-ONLY stand-in for Prisma's native schema engine (schema-engine-cli, engine commit
// 393aa359c9ad4a4bb28630fb5613f9c281cde053, used by prisma-client-py 0.11.0 / Prisma CLI 5.17.0).
// Local test images cannot download Prisma's native engines, so the Prisma CLI is pointed here with
// PRISMA_SCHEMA_ENGINE_BINARY. It speaks the native engine's interfaces (--version, JSON-RPC over
// stdio, the `cli` subcommands) for PostgreSQL only: migrate deploy/resolve/status and db execute
// run on `pg` and keep Prisma's `_prisma_migrations` ledger and advisory lock; migrate diff and
// db push run Prisma's 6.19 schema engine compiled to WebAssembly. Production images ship the
// native engine and never use this.
'use strict';

const { parseArgs, UsageError, VERSION_LINE, ENGINE_COMMIT, HELP } = require('./lib/schema-args');
const { createLogger } = require('./lib/schema-log');

const SHUTDOWN_TIMEOUT_MS = 4000;

function quietNodeWarnings(logger) {
  // Node prints warnings on stderr; the CLI parses that stream as JSON lines, so they go to the log.
  process.removeAllListeners('warning');
  process.on('warning', (warning) => logger.warn({ message: String(warning && warning.message) }));
}

/** `schema-engine cli --datasource <url> <command>`: one command, result in the log, exit code 0/1. */
async function runCliCommand(args, logger) {
  const { SchemaEngineCommands, connectAdmin } = require('./lib/schema-commands');
  const { parsePostgresUrl, quoteIdent } = require('./lib/schema-pgurl');
  logger.info({ message: 'Starting schema engine CLI', git_hash: ENGINE_COMMIT });
  const commands = new SchemaEngineCommands({ schemaFiles: [], env: process.env, logger });
  const datasource = { tag: 'ConnectionString', url: args.datasource };
  try {
    let message;
    if (args.command === 'can-connect-to-database') {
      await commands.ensureConnectionValidity({ datasource });
      message = 'Connection successful';
    } else if (args.command === 'create-database') {
      const { databaseName } = await commands.createDatabase({ datasource });
      message = `Database '${databaseName}' was successfully created.`;
    } else {
      const url = parsePostgresUrl(args.datasource);
      const admin = await connectAdmin(url);
      try {
        await admin.raw(`DROP DATABASE ${quoteIdent(url.database)}`);
      } finally {
        await admin.close();
      }
      message = 'The database was successfully dropped.';
    }
    await commands.close();
    logger.info({ message });
    return 0;
  } catch (err) {
    await commands.close();
    // The CLI reads error_code and message from this line (target schema_engine::logger).
    logger.error({ is_panic: false, error_code: err.errorCode || '', message: err.message }, 'schema_engine::logger');
    return 1;
  }
}

/** The JSON-RPC server the CLI spawns for migrate/db commands; ends with stdin or SIGTERM. */
async function runRpcServer(args, logger) {
  const { readSchemaFiles } = require('./lib/schema-datasource');
  const { SchemaEngineCommands } = require('./lib/schema-commands');
  const { JsonRpcServer } = require('./lib/schema-jsonrpc');
  logger.info({ message: 'Starting schema engine RPC server', git_hash: ENGINE_COMMIT });
  let schemaFiles;
  try {
    schemaFiles = readSchemaFiles(args.datamodels);
  } catch (err) {
    logger.error({ is_panic: true, message: err.message }, 'schema_engine');
    return 101;
  }
  const commands = new SchemaEngineCommands({ schemaFiles, env: process.env, logger });
  const shutdown = (signal) => {
    logger.info({ message: `Received ${signal}` });
    const timer = setTimeout(() => process.exit(1), SHUTDOWN_TIMEOUT_MS);
    commands.close().then(() => {
      clearTimeout(timer);
      process.exit(0);
    });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  const server = new JsonRpcServer(commands.handlers(), { input: process.stdin, output: process.stdout });
  await server.run();
  await commands.close();
  return 0;
}

async function main() {
  const logger = createLogger(process.env);
  quietNodeWarnings(logger);
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`error: ${err.message}\n\nFor more information try --help\n`);
    return 1;
  }
  if (args.mode === 'version') {
    process.stdout.write(`${VERSION_LINE}\n`);
    return 0;
  }
  if (args.mode === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  if (args.mode === 'cli') return runCliCommand(args, logger);
  return runRpcServer(args, logger);
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`${JSON.stringify({
      timestamp: new Date().toISOString(),
      level: 'ERROR',
      fields: { is_panic: true, message: String(err && err.stack ? err.stack : err) },
      target: 'schema_engine',
    })}\n`);
    process.exit(101);
  },
);
