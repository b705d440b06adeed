// TEST-ONLY stand-in for Prisma's native schema engine (see ../schema-engine.js): one PostgreSQL
// session, set up as Prisma 5.17's engine sets up its connection, with the `_prisma_migrations`
// ledger and Prisma's advisory lock. Everything here talks to the database through `pg`.
'use strict';

const pg = require('pg');
const errors = require('./schema-errors');
const { parsePostgresUrl, toPgConfig, quoteIdent } = require('./schema-pgurl');
const { userFacingFromPgError, isDatabaseError } = require('./schema-dberror');

// "72707369 is a unique number we chose to identify Migrate" (prisma-engines, postgres flavour).
const PRISMA_ADVISORY_LOCK_KEY = 72707369;
const ADVISORY_LOCK_TIMEOUT_MS = 10000;
const LOCK_POLL_MS = 100;
const MIGRATIONS_TABLE = '_prisma_migrations';
// Tables Prisma does not count when it decides whether a database is empty (PostGIS).
const IGNORED_TABLES = /^(spatial_ref_sys|geometry_columns)$/i;

/** PRISMA_SCHEMA_DISABLE_ADVISORY_LOCK set to anything but "" or "0" disables the lock. */
function advisoryLockDisabled(env) {
  const value = env.PRISMA_SCHEMA_DISABLE_ADVISORY_LOCK;
  return value !== undefined && value !== '' && value !== '0';
}

class PgSession {
  constructor(client, url) {
    this.client = client;
    this.url = url;
    this.version = null;
  }

  /**
   * Connect like the native engine: search_path set to the URL's schema (quaint), then the schema
   * created when it does not exist (setup_connection). Connection failures become P1000/P1001/P1003...
   */
  static async connect(connectionString, options = {}) {
    const url = typeof connectionString === 'string' ? parsePostgresUrl(connectionString) : connectionString;
    const client = new pg.Client(toPgConfig(url, options.pgOverrides));
    // A dropped connection must surface on the next query, not crash the process.
    client.on('error', () => {});
    try {
      await client.connect();
    } catch (err) {
      await client.end().catch(() => {});
      throw userFacingFromPgError(err, url);
    }
    const session = new PgSession(client, url);
    try {
      await session.setup(options.createSchema !== false);
    } catch (err) {
      await session.close();
      throw err;
    }
    return session;
  }

  async setup(createSchema) {
    await this.raw(`SET search_path = ${quoteIdent(this.url.schema)}; SET NAMES 'UTF8';`);
    const { rows } = await this.query(
      "SELECT EXISTS(SELECT 1 FROM pg_namespace WHERE nspname = $1) AS schema_exists, version() AS version, current_setting('server_version_num')::integer AS version_num",
      [this.url.schema]);
    this.version = rows[0].version;
    if (createSchema && !rows[0].schema_exists) {
      await this.raw(`CREATE SCHEMA ${quoteIdent(this.url.schema)}`);
    }
  }

  /** A parameterized statement; database errors become the engine's user-facing errors. */
  async query(sql, params) {
    try {
      return await this.client.query(sql, params);
    } catch (err) {
      throw userFacingFromPgError(err, this.url);
    }
  }

  /** A script sent as one simple-protocol Query message (several statements, one implicit transaction). */
  async raw(script) {
    try {
      return await this.client.query(script);
    } catch (err) {
      throw userFacingFromPgError(err, this.url);
    }
  }

  /** The same, but with the raw `pg` error, for callers that format it themselves (P3018). */
  async rawUnmapped(script) {
    return this.client.query(script);
  }

  async close() {
    await this.client.end().catch(() => {});
  }

  ledger() {
    return `${quoteIdent(this.url.schema)}.${quoteIdent(MIGRATIONS_TABLE)}`;
  }

  /**
   * Prisma's session-level advisory lock (same key), held until the process ends, given up with
   * P1002 after 10 s. One deliberate difference: the native engine blocks in pg_advisory_lock(),
   * and a session blocked there keeps a snapshot open that CREATE INDEX CONCURRENTLY (LiteLLM ships
   * such migrations) in the lock holder waits for: PostgreSQL then aborts one side with "deadlock
   * detected" (40P01) and a failed ledger row. Polling pg_try_advisory_lock() leaves the waiting
   * session idle between attempts, so the holder's migration never waits for it.
   */
  async acquireAdvisoryLock(env, timeoutMs = ADVISORY_LOCK_TIMEOUT_MS) {
    if (advisoryLockDisabled(env)) return false;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { rows } = await this.query(`SELECT pg_try_advisory_lock(${PRISMA_ADVISORY_LOCK_KEY}) AS locked`);
      if (rows[0].locked) return true;
      if (Date.now() >= deadline) {
        throw errors.advisoryLockTimeout(this.url.host, this.url.port, ADVISORY_LOCK_TIMEOUT_MS);
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(LOCK_POLL_MS, Math.max(0, deadline - Date.now()))));
    }
  }

  /** Ordinary tables of the URL's schema (relkind 'r', as Prisma's table_names). */
  async tableNames() {
    const { rows } = await this.query(
      `SELECT tbl.relname AS table_name FROM pg_class AS tbl
         INNER JOIN pg_namespace AS namespace ON namespace.oid = tbl.relnamespace
        WHERE tbl.relkind = 'r' AND namespace.nspname = ANY ($1)`,
      [[this.url.schema]]);
    return rows.map((r) => r.table_name);
  }

  async createMigrationsTable() {
    await this.raw(`CREATE TABLE ${this.ledger()} (
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             TIMESTAMPTZ,
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          TIMESTAMPTZ,
    started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_steps_count     INTEGER NOT NULL DEFAULT 0
);
`);
  }

  /**
   * MigrationPersistence::initialize: nothing to do when the ledger exists, P3005 when the schema
   * holds other tables, else create the ledger.
   */
  async initializeLedger() {
    const names = await this.tableNames();
    if (names.includes(MIGRATIONS_TABLE)) return;
    if (names.some((name) => !IGNORED_TABLES.test(name))) throw errors.databaseSchemaNotEmpty();
    await this.createMigrationsTable();
  }

  /**
   * The ledger ordered by started_at, or null when the table does not exist. Timestamps come back
   * as text with microseconds (JavaScript dates would lose them; LiteLLM matches started_at exactly).
   */
  async listLedger() {
    const sql = `SELECT id, checksum, migration_name, applied_steps_count,
        to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS started_at_text,
        finished_at IS NOT NULL AS finished_at, rolled_back_at IS NOT NULL AS rolled_back_at
      FROM ${this.ledger()} ORDER BY started_at ASC`;
    try {
      const { rows } = await this.client.query(sql);
      return rows;
    } catch (err) {
      // Prisma treats every database error on reading the table as "not initialized".
      if (isDatabaseError(err)) return null;
      throw userFacingFromPgError(err, this.url);
    }
  }

  async recordMigrationStarted(id, name, checksum, startedAt) {
    await this.query(
      `INSERT INTO ${this.ledger()} (id, checksum, started_at, migration_name) VALUES ($1, $2, $3, $4)`,
      [id, checksum, startedAt, name]);
  }

  async recordSuccessfulStep(id) {
    await this.query(`UPDATE ${this.ledger()} SET applied_steps_count = applied_steps_count + 1 WHERE id = $1`, [id]);
  }

  async recordMigrationFinished(id, finishedAt) {
    await this.query(`UPDATE ${this.ledger()} SET finished_at = $1 WHERE id = $2`, [finishedAt, id]);
  }

  async recordFailedStep(id, logs) {
    await this.query(`UPDATE ${this.ledger()} SET logs = $1 WHERE id = $2`, [logs, id]);
  }

  async markMigrationApplied(id, name, checksum, now) {
    await this.query(
      `INSERT INTO ${this.ledger()} (id, checksum, logs, started_at, finished_at, migration_name)
       VALUES ($1, $2, '', $3, $3, $4)`,
      [id, checksum, now, name]);
  }

  async markMigrationRolledBack(id, now) {
    await this.query(`UPDATE ${this.ledger()} SET rolled_back_at = $1 WHERE id = $2`, [now, id]);
  }
}

module.exports = { PgSession, advisoryLockDisabled, PRISMA_ADVISORY_LOCK_KEY, ADVISORY_LOCK_TIMEOUT_MS, MIGRATIONS_TABLE };
