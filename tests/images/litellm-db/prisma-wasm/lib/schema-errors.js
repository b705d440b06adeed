// TEST-ONLY stand-in for Prisma's native schema engine (see ../schema-engine.js): the user-facing
// errors it reports, with the codes and messages of Prisma 5.17's engine (libs/user-facing-errors),
// because the Prisma CLI prints them and LiteLLM parses them (P3005, P3009, P3018, P1002).
'use strict';

/** An error with a Prisma error code ("known" error in the engine's terms). */
class UserFacingError extends Error {
  constructor(code, message, meta) {
    super(message);
    this.name = 'UserFacingError';
    this.errorCode = code;
    this.meta = meta || {};
  }
}

/** An error without a Prisma code ("unknown" error): the CLI prints only its message. */
class UnknownEngineError extends Error {
  constructor(message) {
    super(message);
    this.name = 'UnknownEngineError';
  }
}

const CONNECTION_URL_DOCS = 'https://www.prisma.io/docs/reference/database-reference/connection-urls';

function incorrectCredentials(user, host) {
  return new UserFacingError('P1000',
    `Authentication failed against database server at \`${host}\`, the provided database credentials for \`${user}\` are not valid.\n\n` +
    `Please make sure to provide valid database credentials for the database server at \`${host}\`.`,
    { database_user: user, database_host: host });
}

function databaseNotReachable(host, port) {
  return new UserFacingError('P1001',
    `Can't reach database server at \`${host}\`:\`${port}\`\n\nPlease make sure your database server is running at \`${host}\`:\`${port}\`.`,
    { database_host: host, database_port: port });
}

function databaseTimeout(host, port, context) {
  return new UserFacingError('P1002',
    `The database server at \`${host}\`:\`${port}\` was reached but timed out.\n\nPlease try again.\n\n` +
    `Please make sure your database server is running at \`${host}\`:\`${port}\`.\n\nContext: ${context}\n`,
    { database_host: host, database_port: String(port), context });
}

/** The context Prisma gives when its advisory lock could not be taken within 10 s. */
function advisoryLockTimeout(host, port, timeoutMs) {
  return databaseTimeout(host, port,
    `Timed out trying to acquire a postgres advisory lock (SELECT pg_advisory_lock(72707369)). ` +
    `Elapsed: ${timeoutMs}ms. See https://pris.ly/d/migrate-advisory-locking for details.`);
}

function databaseDoesNotExist(database, host, port) {
  return new UserFacingError('P1003',
    `Database \`${database}\` does not exist on the database server at \`${host}:${port}\`.`,
    { database_name: database, database_host: host, database_port: port });
}

function databaseAlreadyExists(database, host, port) {
  return new UserFacingError('P1009',
    `Database \`${database}\` already exists on the database server at \`${host}:${port}\``,
    { database_name: database, database_host: host, database_port: port });
}

function databaseAccessDenied(user, databaseAndSchema) {
  return new UserFacingError('P1010',
    `User \`${user}\` was denied access on the database \`${databaseAndSchema}\``,
    { database_user: user, database_name: databaseAndSchema });
}

function tlsConnectionError(message) {
  return new UserFacingError('P1011', `Error opening a TLS connection: ${message}`, { message });
}

function schemaParserError(fullError) {
  return new UserFacingError('P1012', fullError, { full_error: fullError });
}

function invalidConnectionString(details) {
  const text = `${details} in database URL. Please refer to the documentation in ${CONNECTION_URL_DOCS} for ` +
    'constructing a correct connection string. In some cases, certain characters must be escaped. ' +
    'Please check the string for any illegal characters.';
  return new UserFacingError('P1013', `The provided database string is invalid. ${text}`, { details: text });
}

function invalidModel(table) {
  return new UserFacingError('P1014', `The underlying table for model \`${table}\` does not exist.`,
    { model: table, kind: 'Table' });
}

function connectionClosed() {
  return new UserFacingError('P1017', 'Server has closed the connection.', {});
}

function uniqueKeyViolation(constraint) {
  return new UserFacingError('P2002', `Unique constraint failed on the ${constraint}`, { constraint });
}

function databaseCreationFailed(databaseError) {
  return new UserFacingError('P3000', `Failed to create database: ${databaseError}`, { database_error: databaseError });
}

function databaseSchemaNotEmpty() {
  return new UserFacingError('P3005',
    'The database schema is not empty. Read more about how to baseline an existing production database: https://pris.ly/d/migrate-baseline');
}

function migrationAlreadyApplied(name) {
  return new UserFacingError('P3008', `The migration \`${name}\` is already recorded as applied in the database.`,
    { migration_name: name });
}

function foundFailedMigrations(details) {
  return new UserFacingError('P3009',
    'migrate found failed migrations in the target database, new migrations will not be applied. Read more about ' +
    `how to resolve migration issues in a production database: https://pris.ly/d/migrate-resolve\n${details}`,
    { details });
}

function cannotRollBackUnappliedMigration(name) {
  return new UserFacingError('P3011',
    `Migration \`${name}\` cannot be rolled back because it was never applied to the database. Hint: did you pass ` +
    'in the whole migration name? (example: "20201207184859_initial_migration")',
    { migration_name: name });
}

function cannotRollBackSucceededMigration(name) {
  return new UserFacingError('P3012', `Migration \`${name}\` cannot be rolled back because it is not in a failed state.`,
    { migration_name: name });
}

function migrationFileNotFound(path) {
  return new UserFacingError('P3015',
    `Could not find the migration file at ${path}. Please delete the directory or restore the migration file.`,
    { migration_file_path: path });
}

function migrationToMarkAppliedNotFound(name) {
  return new UserFacingError('P3017',
    `The migration ${name} could not be found. Please make sure that the migration exists, and that you included ` +
    'the whole name of the directory. (example: "20201207184859_initial_migration")',
    { migration_name: name });
}

function applyMigrationError(name, databaseErrorCode, databaseError) {
  return new UserFacingError('P3018',
    'A migration failed to apply. New migrations cannot be applied before the error is recovered from. Read more ' +
    'about how to resolve migration issues in a production database: https://pris.ly/d/migrate-resolve\n\n' +
    `Migration name: ${name}\n\nDatabase error code: ${databaseErrorCode}\n\nDatabase error:\n${databaseError}\n`,
    { migration_name: name, database_error_code: databaseErrorCode, database_error: databaseError });
}

function providerSwitched(provider, expected) {
  return new UserFacingError('P3019',
    `The datasource provider \`${provider}\` specified in your schema does not match the one specified in the ` +
    `migration_lock.toml, \`${expected}\`. Please remove your current migration directory and start a new migration ` +
    'history with prisma migrate dev. Read more: https://pris.ly/d/migrate-provider-switch',
    { provider, expected_provider: expected });
}

/** The engine's message when a command needs the ledger and the table does not exist. */
function persistenceNotInitialized() {
  return new UnknownEngineError('Invariant violation: migration persistence is not initialized.');
}

/**
 * The `error` member of a JSON-RPC response, as the native engine renders it: JSON-RPC code 4466
 * and the user-facing error in `data` (is_panic, message, then meta + error_code when known).
 */
function toJsonRpcError(err) {
  let data;
  if (err instanceof UserFacingError) {
    data = { is_panic: false, message: err.message, meta: err.meta, error_code: err.errorCode };
  } else {
    const message = err && err.message ? err.message : String(err);
    data = { is_panic: false, message, backtrace: null };
  }
  return { code: 4466, message: 'An error happened. Check the data field for details.', data };
}

module.exports = {
  UserFacingError,
  UnknownEngineError,
  incorrectCredentials,
  databaseNotReachable,
  databaseTimeout,
  advisoryLockTimeout,
  databaseDoesNotExist,
  databaseAlreadyExists,
  databaseAccessDenied,
  tlsConnectionError,
  schemaParserError,
  invalidConnectionString,
  invalidModel,
  connectionClosed,
  uniqueKeyViolation,
  databaseCreationFailed,
  databaseSchemaNotEmpty,
  migrationAlreadyApplied,
  foundFailedMigrations,
  cannotRollBackUnappliedMigration,
  cannotRollBackSucceededMigration,
  migrationFileNotFound,
  migrationToMarkAppliedNotFound,
  applyMigrationError,
  providerSwitched,
  persistenceNotInitialized,
  toJsonRpcError,
};
