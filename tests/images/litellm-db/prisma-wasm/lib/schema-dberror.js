// TEST-ONLY stand-in for Prisma's native schema engine (see ../schema-engine.js): renders a `pg`
// DatabaseError the way Prisma 5.17's engine (tokio-postgres + quaint) does, because the P3018
// message and the `logs` column of `_prisma_migrations` carry it and LiteLLM searches them for
// "deadlock detected", "already exists", "Database error code: 42501", ...
'use strict';

const errors = require('./schema-errors');

// tokio-postgres' Severity enum, parsed from the (English) severity field.
const SEVERITIES = {
  ERROR: 'Error', FATAL: 'Fatal', PANIC: 'Panic', WARNING: 'Warning',
  NOTICE: 'Notice', DEBUG: 'Debug', INFO: 'Info', LOG: 'Log',
};

/** Rust's `{:?}` of a &str: quotes, escapes of quote/backslash/control characters. */
function rustDebugString(value) {
  let out = '"';
  for (const ch of String(value)) {
    const code = ch.codePointAt(0);
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\0') out += '\\0';
    else if (code < 0x20 || code === 0x7f) out += `\\u{${code.toString(16)}}`;
    else out += ch;
  }
  return `${out}"`;
}

function debugOptionString(value) {
  return value === undefined || value === null ? 'None' : `Some(${rustDebugString(value)})`;
}

function debugOptionNumber(value) {
  const n = value === undefined || value === null ? NaN : Number(value);
  return Number.isFinite(n) ? `Some(${n})` : 'None';
}

function debugPosition(err) {
  if (err.position) return `Some(Original(${Number(err.position)}))`;
  if (err.internalPosition) {
    return `Some(Internal { position: ${Number(err.internalPosition)}, query: ${rustDebugString(err.internalQuery || '')} })`;
  }
  return 'None';
}

/** tokio-postgres' `impl Display for DbError`: "SEVERITY: message", then DETAIL and HINT lines. */
function displayDbError(err) {
  let text = `${err.severity || 'ERROR'}: ${err.message}`;
  if (err.detail) text += `\nDETAIL: ${err.detail}`;
  if (err.hint) text += `\nHINT: ${err.hint}`;
  return text;
}

/** tokio-postgres' derived `Debug` of DbError (field order of the Rust struct). */
function debugDbError(err) {
  const parsed = SEVERITIES[String(err.severity || '').toUpperCase()];
  const fields = [
    `severity: ${rustDebugString(err.severity || 'ERROR')}`,
    `parsed_severity: ${parsed ? `Some(${parsed})` : 'None'}`,
    `code: SqlState(E${err.code})`,
    `message: ${rustDebugString(err.message)}`,
    `detail: ${debugOptionString(err.detail)}`,
    `hint: ${debugOptionString(err.hint)}`,
    `position: ${debugPosition(err)}`,
    `where_: ${debugOptionString(err.where)}`,
    `schema: ${debugOptionString(err.schema)}`,
    `table: ${debugOptionString(err.table)}`,
    `column: ${debugOptionString(err.column)}`,
    `datatype: ${debugOptionString(err.dataType)}`,
    `constraint: ${debugOptionString(err.constraint)}`,
    `file: ${debugOptionString(err.file)}`,
    `line: ${debugOptionNumber(err.line)}`,
    `routine: ${debugOptionString(err.routine)}`,
  ];
  return `DbError { ${fields.join(', ')} }`;
}

/** Rust's `str::lines()`: split on \n, drop one trailing empty line, strip a trailing \r. */
function rustLines(text) {
  if (text === '') return [];
  const parts = text.split('\n');
  if (parts[parts.length - 1] === '') parts.pop();
  return parts.map((line) => line.replace(/\r$/, ''));
}

function pad3(n) {
  return String(n).padStart(3, ' ');
}

/**
 * The "Position:" block Prisma appends to a migration error: the failing line in bold red with up
 * to five lines before it. Prisma compares the server's (character) position with a running byte
 * count and numbers lines from `line_number - 5 + idx` when not negative (so a line 0 can appear):
 * reproduced as is.
 */
function positionBlock(script, position) {
  const target = Number(position);
  if (!Number.isFinite(target)) return '';
  let previous = ['', '', '', '', ''];
  let byteIndex = 0;
  const lines = rustLines(script);
  for (let i = 0; i < lines.length; i += 1) {
    const lineNumber = i + 1;
    const line = lines[i];
    byteIndex += Buffer.byteLength(line, 'utf8') + 1;
    if (target <= byteIndex) {
      const numbered = [];
      previous.forEach((prev, idx) => {
        const n = lineNumber - (previous.length - idx);
        if (n >= 0) numbered.push(`\x1b[1m${pad3(n)}\x1b[0m${prev === '' ? '' : ' '}${prev}`);
      });
      return `\n\nPosition:\n${numbered.join('\n')}\n\x1b[1m${pad3(lineNumber)}\x1b[1;31m ${line}\x1b[0m`;
    }
    previous = [previous[1], previous[2], previous[3], previous[4], line];
  }
  return '';
}

function isDatabaseError(err) {
  return Boolean(err && typeof err.code === 'string' && /^[0-9A-Z]{5}$/.test(err.code) && err.severity);
}

/** The P3018 error for a failed migration script, exactly as Prisma composes it. */
function migrationScriptError(migrationName, script, err) {
  if (isDatabaseError(err)) {
    const position = err.position ? positionBlock(script, err.position) : '';
    const databaseError = `${displayDbError(err)}${position}\n\n${debugDbError(err)}`;
    return errors.applyMigrationError(migrationName, err.code, databaseError);
  }
  return errors.applyMigrationError(migrationName, 'none', err && err.message ? err.message : String(err));
}

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EPIPE',
]);

function isUnreachable(err) {
  if (!err) return false;
  if (UNREACHABLE_CODES.has(err.code)) return true;
  return /timeout expired|connection timeout|Connection terminated unexpectedly/i.test(String(err.message));
}

/**
 * A `pg` error turned into the user-facing error quaint would give (render_quaint_error), else an
 * unknown error whose message is the database error's Display, as the native engine reports it.
 */
function userFacingFromPgError(err, url) {
  const host = url.host;
  const port = url.port;
  if (isDatabaseError(err)) {
    switch (err.code) {
      case '3D000': return errors.databaseDoesNotExist(url.database, host, port);
      case '28P01': return errors.incorrectCredentials(url.user, host);
      case '28000': return errors.databaseAccessDenied(url.user, `${url.database}.${url.schema}`);
      case '42P04': return errors.databaseAlreadyExists(url.database, host, port);
      case '23505': return errors.uniqueKeyViolation(`constraint: \`${err.constraint || '(not available)'}\``);
      case '42P01': {
        const match = /relation "(.*)" does not exist/.exec(err.message || '');
        return errors.invalidModel(match ? match[1] : '(not available)');
      }
      default: return new errors.UnknownEngineError(displayDbError(err));
    }
  }
  if (err instanceof errors.UserFacingError || err instanceof errors.UnknownEngineError) return err;
  if (isUnreachable(err)) return errors.databaseNotReachable(host, port);
  if (/SSL|TLS|certificate/i.test(String(err && err.message))) return errors.tlsConnectionError(String(err.message));
  if (/Connection terminated|Client has encountered a connection error/i.test(String(err && err.message))) {
    return errors.connectionClosed();
  }
  return new errors.UnknownEngineError(err && err.message ? err.message : String(err));
}

module.exports = {
  rustDebugString,
  displayDbError,
  debugDbError,
  rustLines,
  positionBlock,
  migrationScriptError,
  userFacingFromPgError,
  isDatabaseError,
};
