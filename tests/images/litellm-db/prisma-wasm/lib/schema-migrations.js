// TEST-ONLY stand-in for Prisma's native schema engine (see ../schema-engine.js): the migrations
// directory and the history logic of Prisma 5.17's engine (schema-connector's migrations_directory
// and checksum modules, schema-core's apply/diagnose commands), kept free of I/O on the database
// so it can be unit-tested.
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const errors = require('./schema-errors');

const MIGRATION_SCRIPT = 'migration.sql';
const LOCK_FILE = 'migration_lock.toml';
const CHECKSUM_LENGTH = 64;

/**
 * The migration directories, sorted by name byte-wise as Rust sorts strings. Only directories
 * count (migration_lock.toml and stray files are skipped); a missing folder means no migrations.
 */
function listMigrations(migrationsDir) {
  let entries;
  try {
    entries = fs.readdirSync(migrationsDir, { withFileTypes: true });
  } catch (err) {
    if (err.code === 'ENOENT') return [];
    throw new errors.UnknownEngineError(`Failed to read the migrations directory at ${migrationsDir}: ${err.message}`);
  }
  return entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
    .map((name) => ({ name, scriptPath: path.join(migrationsDir, name, MIGRATION_SCRIPT) }));
}

/** The migration's SQL; a missing file is Prisma's P3015. */
function readMigrationScript(migration) {
  try {
    return fs.readFileSync(migration.scriptPath, 'utf8');
  } catch (_err) {
    throw errors.migrationFileNotFound(migration.scriptPath);
  }
}

/** The provider line of migration_lock.toml, or null when there is no lock file. */
function readLockfileProvider(migrationsDir) {
  let content;
  try {
    content = fs.readFileSync(path.join(migrationsDir, LOCK_FILE), 'utf8');
  } catch (_err) {
    return null;
  }
  const line = content.split('\n').find((l) => l.startsWith('provider'));
  if (!line) return '<PROVIDER NOT FOUND>';
  return line.replace(/^(provider = )+/, '').replace(/\r$/, '').replace(/^"+|"+$/g, '');
}

/** Prisma refuses migrations whose lock file names another provider (P3019). */
function checkLockfileProvider(migrationsDir, provider) {
  const expected = readLockfileProvider(migrationsDir);
  if (expected !== null && expected !== provider) throw errors.providerSwitched(provider, expected);
}

function sha256(text) {
  return crypto.createHash('sha256').update(text, 'utf8').digest();
}

/** The checksum Prisma stores: SHA-256 of the script, zero-padded lowercase hex. */
function checksum(script) {
  return sha256(script).toString('hex');
}

/**
 * Whether a script matches a stored checksum, ignoring line endings (CRLF/LF) as Prisma does, and
 * accepting the unpadded hex some old Prisma versions wrote (a checksum that is not 64 long).
 */
function scriptMatchesChecksum(script, stored) {
  const variants = [script, script.replace(/\r\n/g, '\n'), script.replace(/\n/g, '\r\n')];
  const legacy = stored !== '' && stored.length !== CHECKSUM_LENGTH;
  return variants.some((variant) => {
    const digest = sha256(variant);
    const rendered = legacy
      ? Array.from(digest, (byte) => byte.toString(16)).join('')
      : digest.toString('hex');
    return rendered === stored;
  });
}

/**
 * chrono's Display of a UTC timestamp ("2024-07-23 10:11:12.538445 UTC"): 3, 6 or no fraction
 * digits depending on the value. Input: "YYYY-MM-DD HH24:MI:SS.US" as rendered by PostgreSQL.
 */
function formatChronoUtc(pgText) {
  const match = /^(\d{4,}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?$/.exec(pgText);
  if (!match) return `${pgText} UTC`;
  const micros = Number((match[2] || '').padEnd(6, '0'));
  let fraction = '';
  if (micros !== 0) {
    fraction = micros % 1000 === 0 ? `.${String(micros / 1000).padStart(3, '0')}` : `.${String(micros).padStart(6, '0')}`;
  }
  return `${match[1]}${fraction} UTC`;
}

let lastMicros = 0n;

/** Microseconds since the epoch, strictly increasing within this process (the ledger is ordered by it). */
function nowMicros() {
  const { performance } = require('node:perf_hooks');
  const current = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000));
  lastMicros = current > lastMicros ? current : lastMicros + 1n;
  return lastMicros;
}

/** A timestamptz literal with microseconds ("2024-07-23T10:11:12.538445+00:00"). */
function microsToTimestamp(micros) {
  const ms = Number(micros / 1000n);
  const extra = Number(micros % 1000n);
  return new Date(ms).toISOString().replace('Z', `${String(extra).padStart(3, '0')}+00:00`);
}

function isFailed(record) {
  return !record.finished_at && !record.rolled_back_at;
}

/**
 * P3009's details: one line per failed migration. Prisma 5.17 does not load the `logs` column when
 * it lists the ledger, so the "with the following logs" variant never appears in its output.
 */
function failedMigrationsDetails(records) {
  return records
    .filter(isFailed)
    .map((record) => `The \`${record.migration_name}\` migration started at ${formatChronoUtc(record.started_at_text)} failed\n`)
    .join('');
}

/** Filesystem migrations not recorded in the ledger (rolled-back rows do not count). */
function unappliedMigrations(fsMigrations, records) {
  const applied = new Set(records.filter((r) => !r.rolled_back_at).map((r) => r.migration_name));
  return fsMigrations.filter((m) => !applied.has(m.name));
}

/**
 * diagnoseMigrationHistory without a shadow database: failed and edited migrations, and how the
 * filesystem history relates to the ledger (databaseIsBehind, migrationsDirectoryIsBehind,
 * historiesDiverge). `matches(migration, checksum)` checks a script against a stored checksum.
 */
function diagnoseHistory(fsMigrations, records, matches) {
  const fsNotInDb = [];
  const edited = [];
  fsMigrations.forEach((migration, index) => {
    const record = records.find((r) => r.migration_name === migration.name);
    if (!record) fsNotInDb.push({ index, name: migration.name });
    else if (!matches(migration, record.checksum)) edited.push(record.migration_name);
  });
  const fsNames = new Set(fsMigrations.map((m) => m.name));
  const failed = records.filter(isFailed).map((r) => r.migration_name);
  const dbNotInFs = records.filter((r) => !fsNames.has(r.migration_name)).map((r) => r.migration_name);

  let history = null;
  const unapplied = fsNotInDb.map((m) => m.name);
  if (fsNotInDb.length > 0 && dbNotInFs.length === 0) {
    history = { diagnostic: 'databaseIsBehind', unappliedMigrationNames: unapplied };
  } else if (fsNotInDb.length === 0 && dbNotInFs.length > 0) {
    history = { diagnostic: 'migrationsDirectoryIsBehind', unpersistedMigrationNames: dbNotInFs };
  } else if (fsNotInDb.length > 0 && dbNotInFs.length > 0) {
    const first = fsNotInDb[0].index;
    history = {
      diagnostic: 'historiesDiverge',
      lastCommonMigrationName: first === 0 ? null : fsMigrations[first - 1].name,
      unpersistedMigrationNames: dbNotInFs,
      unappliedMigrationNames: unapplied,
    };
  }
  return { history, failedMigrationNames: failed, editedMigrationNames: edited };
}

module.exports = {
  listMigrations,
  readMigrationScript,
  readLockfileProvider,
  checkLockfileProvider,
  checksum,
  scriptMatchesChecksum,
  formatChronoUtc,
  nowMicros,
  microsToTimestamp,
  failedMigrationsDetails,
  unappliedMigrations,
  diagnoseHistory,
  isFailed,
};
