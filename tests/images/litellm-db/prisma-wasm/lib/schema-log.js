// TEST-ONLY stand-in for Prisma's native schema engine (see ../schema-engine.js): log lines on
// stderr in the JSON shape of the native engine's tracing subscriber. The Prisma CLI parses them:
// in `cli` mode it drops the first stderr line and reads the ERROR line of target
// "schema_engine::logger" for the error code; in RPC mode it keeps `fields.message` of each line.
'use strict';

const LEVELS = { error: 1, warn: 2, info: 3, debug: 4, trace: 5 };

/** The most verbose level RUST_LOG enables (only the global form, e.g. "info"); ERROR by default. */
function maxLevel(rustLog) {
  if (!rustLog) return LEVELS.error;
  let best = 0;
  for (const directive of String(rustLog).split(',')) {
    const level = directive.includes('=') ? directive.split('=').pop() : directive;
    best = Math.max(best, LEVELS[level.trim().toLowerCase()] || 0);
  }
  return best || LEVELS.error;
}

function formatLine(level, fields, target, now) {
  return JSON.stringify({
    timestamp: (now || new Date()).toISOString(),
    level: level.toUpperCase(),
    fields,
    target,
  });
}

function createLogger(env, write) {
  const limit = maxLevel(env.RUST_LOG);
  const out = write || ((line) => process.stderr.write(`${line}\n`));
  function log(level, fields, target) {
    if (LEVELS[level] <= limit) out(formatLine(level, fields, target || 'schema_engine'));
  }
  return {
    error: (fields, target) => log('error', fields, target),
    warn: (fields, target) => log('warn', fields, target),
    info: (fields, target) => log('info', fields, target),
    debug: (fields, target) => log('debug', fields, target),
  };
}

module.exports = { createLogger, formatLine, maxLevel };
