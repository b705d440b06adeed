// TEST-ONLY stand-in for Prisma's native query engine (LiteLLM database mode in local test images,
// where the native engines cannot be downloaded; production uses the official image's native engine).
//
// Logging to stderr the way the native engine does: RUST_LOG picks the level (prisma-client-py
// sets "error", or "info" when PRISMA_PY_DEBUG is on), RUST_LOG_FORMAT=json selects one JSON object
// per line in tracing-subscriber's shape:
//   {"timestamp":"...","level":"ERROR","fields":{"message":"...",...},"target":"query_engine"}
// Every line passes through redact(), so a datasource password never reaches the log.
'use strict';

const { redact } = require('./query-url');

const LEVELS = { off: 0, error: 1, warn: 2, info: 3, debug: 4, trace: 5 };

/** Most verbose level any RUST_LOG directive ("info", "query_engine=debug,warn") asks for. */
function parseRustLog(value) {
  if (!value || !value.trim()) return LEVELS.error;
  let max = -1;
  for (const directive of value.split(',')) {
    const part = directive.trim().toLowerCase();
    if (!part) continue;
    const level = part.includes('=') ? part.slice(part.lastIndexOf('=') + 1) : part;
    if (level in LEVELS) max = Math.max(max, LEVELS[level]);
  }
  return max < 0 ? LEVELS.error : max;
}

function formatLine(format, level, message, fields, target) {
  const timestamp = new Date().toISOString();
  if (format === 'json') {
    return JSON.stringify({ timestamp, level: level.toUpperCase(), fields: { message, ...fields }, target });
  }
  const extra = Object.entries(fields)
    .map(([k, v]) => ` ${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join('');
  return `${timestamp} ${level.toUpperCase().padStart(5)} ${target}: ${message}${extra}`;
}

class Logger {
  constructor(env = process.env, write = (line) => process.stderr.write(`${line}\n`), options = {}) {
    this.level = parseRustLog(env.RUST_LOG);
    // LOG_QUERIES / --log-queries: the native engine then prints every SQL statement whatever
    // RUST_LOG says (prisma-client-py sets RUST_LOG=error and LOG_QUERIES=y together).
    this.logQueries = Boolean(options.logQueries || env.LOG_QUERIES);
    this.format = (env.RUST_LOG_FORMAT || '').toLowerCase() === 'json' ? 'json' : 'text';
    this.write = write;
  }

  enabled(level) {
    return LEVELS[level] <= this.level;
  }

  log(level, message, fields = {}, target = 'query_engine') {
    if (!this.enabled(level)) return;
    this.write(redact(formatLine(this.format, level, String(message), fields, target)));
  }

  error(message, fields) {
    this.log('error', message, fields);
  }

  warn(message, fields) {
    this.log('warn', message, fields);
  }

  info(message, fields) {
    this.log('info', message, fields);
  }

  debug(message, fields) {
    this.log('debug', message, fields);
  }

  /** The WASM engine's log callback hands over JSON: {level, module_path, message, ...}. */
  engineEvent(raw) {
    let event;
    try {
      event = typeof raw === 'string' ? JSON.parse(raw) : raw;
    } catch (_e) {
      event = { level: 'info', message: String(raw) };
    }
    const { level: rawLevel, module_path: target, message, ...fields } = event;
    if (event.is_query) {
      if (!this.logQueries) return;
      const { query, ...rest } = fields;
      this.write(redact(formatLine(this.format, 'info', String(query), rest, target || 'query_engine')));
      return;
    }
    const level = String(rawLevel || 'info').toLowerCase();
    if (!(level in LEVELS) || !this.enabled(level)) return;
    this.log(level, message === undefined ? '' : message, fields, target || 'query_engine');
  }
}

module.exports = { Logger, parseRustLog, formatLine, LEVELS };
