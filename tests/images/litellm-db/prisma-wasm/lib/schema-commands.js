// TEST-ONLY stand-in for Prisma's native schema engine (see ../schema-engine.js): the JSON-RPC
// methods the Prisma 5.17 CLI calls, with the parameter and result shapes of that engine version
// (migrations are named by `migrationsDirectoryPath`, diff results are printed through the CLI).
// The ledger commands run on `pg` and keep `_prisma_migrations` as the native engine does; diff
// and db push are delegated to the 6.19 WebAssembly engine (./schema-wasm.js).
'use strict';

const crypto = require('node:crypto');
const errors = require('./schema-errors');
const migrations = require('./schema-migrations');
const { PgSession } = require('./schema-postgres');
const { resolveDatasource } = require('./schema-datasource');
const { parsePostgresUrl, quoteIdent } = require('./schema-pgurl');
const { migrationScriptError } = require('./schema-dberror');
const wasm = require('./schema-wasm');

const PROVIDER = 'postgresql';

function timestampNow() {
  return migrations.microsToTimestamp(migrations.nowMicros());
}

/**
 * The tracing span trace the native engine appends to an error's Display, which is what lands in
 * the `logs` column of a failed migration (approximated: same frames, no exact line numbers).
 */
function applySpanTrace(migrationName) {
  const name = JSON.stringify(migrationName);
  return `   0: sql_schema_connector::apply_migration::apply_script\n           with migration_name=${name}\n` +
    '             at schema-engine/connectors/sql-schema-connector/src/apply_migration.rs:10\n' +
    `   1: schema_core::commands::apply_migrations::Applying migration\n           with migration_name=${name}\n` +
    '             at schema-engine/core/src/commands/apply_migrations.rs:91\n' +
    '   2: schema_core::state::ApplyMigrations\n             at schema-engine/core/src/state.rs:201';
}

/** Unknown (code-less) errors carry the command's span, as the native engine's Display does. */
function withCommandSpan(err, command) {
  if (err instanceof errors.UnknownEngineError && !/\n {3}0: /.test(err.message)) {
    err.message = `${err.message}\n   0: schema_core::state::${command}\n             at schema-engine/core/src/state.rs`;
  }
  return err;
}

class SchemaEngineCommands {
  /**
   * @param {{schemaFiles: {path: string, content: string}[], env: object, logger: object}} options
   */
  constructor({ schemaFiles, env, logger }) {
    this.schemaFiles = schemaFiles || [];
    this.env = env;
    this.logger = logger;
    this.sessions = new Map();
  }

  /** The connection string of the schema given at startup (-d), directUrl first. */
  defaultUrl() {
    if (this.schemaFiles.length === 0) {
      throw new errors.UnknownEngineError('The schema engine was started without a Prisma schema (-d), so it has no datasource.');
    }
    return resolveDatasource(this.schemaFiles, this.env).url;
  }

  /** DatasourceParam: {tag: "ConnectionString", url} or {tag: "Schema", files}. */
  datasourceUrl(datasource) {
    if (!datasource) return this.defaultUrl();
    if (datasource.tag === 'ConnectionString') return datasource.url;
    if (datasource.tag === 'Schema') return resolveDatasource(datasource.files || [], this.env).url;
    throw new errors.UnknownEngineError(`Unknown datasource parameter: ${JSON.stringify(datasource.tag)}`);
  }

  /** One connection per database for the life of the engine (the advisory lock lives on it). */
  session(url) {
    if (!this.sessions.has(url)) {
      const pending = PgSession.connect(url);
      pending.catch(() => this.sessions.delete(url));
      this.sessions.set(url, pending);
    }
    return this.sessions.get(url);
  }

  defaultSession() {
    return this.session(this.defaultUrl());
  }

  async close() {
    const all = Array.from(this.sessions.values());
    this.sessions.clear();
    await Promise.all(all.map((p) => p.then((s) => s.close(), () => {})));
  }

  handlers() {
    const bind = (name, command) => async (params, server) => {
      try {
        return await this[name](params || {}, server);
      } catch (err) {
        throw withCommandSpan(err, command);
      }
    };
    return {
      applyMigrations: bind('applyMigrations', 'ApplyMigrations'),
      createDatabase: bind('createDatabase', 'CreateDatabase'),
      dbExecute: bind('dbExecute', 'DbExecute'),
      diagnoseMigrationHistory: bind('diagnoseMigrationHistory', 'DiagnoseMigrationHistory'),
      diff: bind('diff', 'Diff'),
      ensureConnectionValidity: bind('ensureConnectionValidity', 'EnsureConnectionValidity'),
      getDatabaseVersion: bind('getDatabaseVersion', 'GetDatabaseVersion'),
      listMigrationDirectories: bind('listMigrationDirectories', 'ListMigrationDirectories'),
      markMigrationApplied: bind('markMigrationApplied', 'MarkMigrationApplied'),
      markMigrationRolledBack: bind('markMigrationRolledBack', 'MarkMigrationRolledBack'),
      reset: bind('reset', 'Reset'),
      schemaPush: bind('schemaPush', 'SchemaPush'),
    };
  }

  async listMigrationDirectories({ migrationsDirectoryPath }) {
    return { migrations: migrations.listMigrations(migrationsDirectoryPath).map((m) => m.name) };
  }

  /** `prisma migrate deploy`: apply every migration the ledger does not have, each as one script. */
  async applyMigrations({ migrationsDirectoryPath }) {
    migrations.checkLockfileProvider(migrationsDirectoryPath, PROVIDER);
    const fsMigrations = migrations.listMigrations(migrationsDirectoryPath);
    const db = await this.defaultSession();
    await db.acquireAdvisoryLock(this.env);
    await db.initializeLedger();
    const records = await db.listLedger();
    if (records === null) throw errors.persistenceNotInitialized();
    if (records.some(migrations.isFailed)) {
      throw errors.foundFailedMigrations(migrations.failedMigrationsDetails(records));
    }
    const applied = [];
    for (const migration of migrations.unappliedMigrations(fsMigrations, records)) {
      await this.applyOne(db, migration);
      applied.push(migration.name);
    }
    return { appliedMigrationNames: applied };
  }

  /**
   * One migration: a ledger row, the script as a single simple-protocol message (PostgreSQL runs a
   * multi-statement message in one implicit transaction; a lone CREATE INDEX CONCURRENTLY runs
   * outside one, as with the native engine), then the step count and finished_at, or the logs.
   */
  async applyOne(db, migration) {
    const script = migrations.readMigrationScript(migration);
    const id = crypto.randomUUID();
    this.logger.info({ message: `Applying \`${migration.name}\``, script },
      'schema_core::commands::apply_migrations');
    await db.recordMigrationStarted(id, migration.name, migrations.checksum(script), timestampNow());
    try {
      await db.rawUnmapped(script);
    } catch (err) {
      const failure = migrationScriptError(migration.name, script, err);
      await db.recordFailedStep(id, `${failure.message}\n${applySpanTrace(migration.name)}`);
      throw failure;
    }
    await db.recordSuccessfulStep(id);
    await db.recordMigrationFinished(id, timestampNow());
  }

  /** `prisma migrate resolve --applied`: a finished row without running the script. */
  async markMigrationApplied({ migrationsDirectoryPath, migrationName }) {
    migrations.checkLockfileProvider(migrationsDirectoryPath, PROVIDER);
    const db = await this.defaultSession();
    await db.acquireAdvisoryLock(this.env);
    const migration = migrations.listMigrations(migrationsDirectoryPath).find((m) => m.name === migrationName);
    if (!migration) throw errors.migrationToMarkAppliedNotFound(migrationName);
    let script;
    try {
      script = migrations.readMigrationScript(migration);
    } catch (_err) {
      throw errors.migrationToMarkAppliedNotFound(migrationName);
    }
    let records = await db.listLedger();
    if (records === null) {
      await db.createMigrationsTable();
      records = [];
    }
    const relevant = records.filter((r) => r.migration_name === migrationName);
    if (relevant.some((r) => r.finished_at)) throw errors.migrationAlreadyApplied(migrationName);
    const now = timestampNow();
    for (const record of relevant.filter(migrations.isFailed)) {
      await db.markMigrationRolledBack(record.id, now);
    }
    await db.markMigrationApplied(crypto.randomUUID(), migrationName, migrations.checksum(script), now);
    return {};
  }

  /** `prisma migrate resolve --rolled-back`: failed rows of that migration get rolled_back_at. */
  async markMigrationRolledBack({ migrationName }) {
    const db = await this.defaultSession();
    await db.acquireAdvisoryLock(this.env);
    const records = await db.listLedger();
    if (records === null) {
      throw new errors.UnknownEngineError(
        'Invariant violation: called markMigrationRolledBack on a database without migrations table.');
    }
    const relevant = records.filter((r) => r.migration_name === migrationName);
    if (relevant.length === 0) throw errors.cannotRollBackUnappliedMigration(migrationName);
    if (relevant.every((r) => r.finished_at)) throw errors.cannotRollBackSucceededMigration(migrationName);
    const now = timestampNow();
    for (const record of relevant.filter(migrations.isFailed)) {
      await db.markMigrationRolledBack(record.id, now);
    }
    return {};
  }

  /** `prisma migrate status`: history, failed and edited migrations (no shadow database: no drift). */
  async diagnoseMigrationHistory({ migrationsDirectoryPath }) {
    migrations.checkLockfileProvider(migrationsDirectoryPath, PROVIDER);
    const fsMigrations = migrations.listMigrations(migrationsDirectoryPath);
    const db = await this.defaultSession();
    const records = await db.listLedger();
    const matches = (migration, checksum) =>
      migrations.scriptMatchesChecksum(migrations.readMigrationScript(migration), checksum);
    const result = migrations.diagnoseHistory(fsMigrations, records || [], matches);
    return {
      history: result.history,
      failedMigrationNames: result.failedMigrationNames,
      editedMigrationNames: result.editedMigrationNames,
      hasMigrationsTable: records !== null,
    };
  }

  async ensureConnectionValidity({ datasource }) {
    await this.session(this.datasourceUrl(datasource));
    return {};
  }

  async getDatabaseVersion(params) {
    const db = await this.session(this.datasourceUrl(params && params.datasource));
    return db.version;
  }

  /** CREATE DATABASE from an administrative database, then the schema; P1009 when it exists. */
  async createDatabase({ datasource }) {
    const connectionString = this.datasourceUrl(datasource);
    const url = parsePostgresUrl(connectionString);
    const admin = await connectAdmin(url);
    let alreadyExists = null;
    try {
      await admin.raw(`CREATE DATABASE ${quoteIdent(url.database)}`);
    } catch (err) {
      if (err.errorCode === 'P1009' || err.errorCode === 'P2002') alreadyExists = err;
      else throw err;
    } finally {
      await admin.close();
    }
    if (alreadyExists && alreadyExists.errorCode === 'P1009') {
      alreadyExists = errors.databaseAlreadyExists(url.database, url.host, url.port);
    }
    const target = await PgSession.connect(connectionString);
    await target.close();
    if (alreadyExists) throw alreadyExists;
    return { databaseName: url.database };
  }

  /** `prisma db execute`: the script as one simple-protocol message. */
  async dbExecute({ datasourceType, script }) {
    let url;
    if (datasourceType && datasourceType.tag === 'url') url = datasourceType.url;
    else if (datasourceType && datasourceType.tag === 'schema') url = resolveDatasource(datasourceType.files || [], this.env).url;
    else throw new errors.UnknownEngineError('dbExecute needs a `url` or `schema` datasource.');
    const db = await this.session(url);
    await db.raw(script);
    return null;
  }

  /** Reset: drop and recreate the schema, and the ledger with it. */
  async reset() {
    const db = await this.defaultSession();
    const schema = quoteIdent(db.url.schema);
    await db.raw(`DROP SCHEMA ${schema} CASCADE`);
    await db.raw(`CREATE SCHEMA ${schema}`);
    await db.client.query(`DROP TABLE ${db.ledger()}`).catch(() => {});
    return null;
  }

  /** `prisma db push`, by the 6.19 wasm engine on the schema's database. */
  async schemaPush({ schema, force }) {
    const files = (schema && schema.files) || [];
    const url = resolveDatasource(files, this.env).url;
    await this.session(url);
    return wasm.withWasmEngine(url, files,
      (engine) => engine.schemaPush({ force: Boolean(force), schema: { files }, filters: wasm.NO_FILTERS }),
      (line) => this.logger.debug({ message: line }, 'schema_engine_wasm'));
  }

  /** The connection string a diff target stands for, or null when it names no database. */
  diffTargetUrl(target) {
    if (!target) throw new errors.UnknownEngineError('A diff needs `from` and `to`.');
    if (target.tag === 'url') return target.url;
    if (target.tag === 'schemaDatasource') return resolveDatasource(target.files || [], this.env).url;
    if (target.tag === 'migrations') {
      throw new errors.UnknownEngineError(
        'Diffing a migrations directory (--from-migrations/--to-migrations) needs a shadow database, which the ' +
        'TEST-ONLY schema engine stand-in does not implement.');
    }
    return null;
  }

  /**
   * `prisma migrate diff`. The 6.19 engine reaches one database, through its adapter: targets naming
   * that database become `schemaDatasource`; when `from` and `to` are two different databases, `to`
   * is introspected into a datamodel first (approximate: what Prisma cannot represent is lost).
   */
  async diff(params, server) {
    const fromUrl = this.diffTargetUrl(params.from);
    const toUrl = this.diffTargetUrl(params.to);
    for (const url of [fromUrl, toUrl]) if (url) await this.session(url);
    const from = fromUrl ? wasm.adapterDatasourceTarget() : params.from;
    let to = toUrl ? wasm.adapterDatasourceTarget() : params.to;
    let engineUrl = fromUrl || toUrl;
    if (fromUrl && toUrl && fromUrl !== toUrl) {
      to = { tag: 'schemaDatamodel', files: await this.introspect(toUrl) };
      engineUrl = fromUrl;
    }
    const input = {
      from,
      to,
      shadowDatabaseUrl: null,
      script: Boolean(params.script),
      exitCode: params.exitCode === true ? true : null,
      filters: wasm.NO_FILTERS,
    };
    const result = await wasm.withWasmEngine(engineUrl, null, (engine) => engine.diff(input),
      (line) => this.logger.debug({ message: line }, 'schema_engine_wasm'));
    const stdout = result.stdout || '';
    if (stdout !== '' && server) {
      // The 5.17 engine hands its output to the CLI, which prints it followed by a newline.
      await server.call('print', { content: stdout.endsWith('\n') ? stdout.slice(0, -1) : stdout });
    }
    return { exitCode: result.exitCode };
  }

  /** The datamodel of a live database (db pull), for a diff between two databases. */
  async introspect(url) {
    const datasource = wasm.adapterDatasourceTarget().files;
    const result = await wasm.withWasmEngine(url, null, (engine) => engine.introspect({
      schema: { files: datasource },
      baseDirectoryPath: process.cwd(),
      force: true,
      compositeTypeDepth: -1,
      namespaces: null,
    }), (line) => this.logger.debug({ message: line }, 'schema_engine_wasm'));
    return result.schema.files;
  }
}

/** An administrative connection: the first of postgres, template1, defaultdb that exists and admits us. */
async function connectAdmin(url) {
  for (const database of ['postgres', 'template1', 'defaultdb']) {
    try {
      return await PgSession.connect(Object.assign({}, url, { database, schema: 'public' }), { createSchema: false });
    } catch (err) {
      if (err.errorCode === 'P1003' || err.errorCode === 'P1010') continue;
      throw err;
    }
  }
  throw errors.databaseCreationFailed(
    'Prisma could not connect to a default database (`postgres` or `template1`), it cannot create the specified database.');
}

module.exports = { SchemaEngineCommands, applySpanTrace, connectAdmin };
