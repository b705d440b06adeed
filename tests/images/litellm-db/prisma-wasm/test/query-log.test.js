// TEST-ONLY: unit tests for the query-engine stand-in's logging (lib/query-log.js).
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const { Logger, parseRustLog, LEVELS } = require('../lib/query-log');

function capture(env) {
  const lines = [];
  return { logger: new Logger(env, (l) => lines.push(l)), lines };
}

test('RUST_LOG: error by default, most verbose directive wins, targets allowed', () => {
  assert.strictEqual(parseRustLog(undefined), LEVELS.error);
  assert.strictEqual(parseRustLog('error'), LEVELS.error);
  assert.strictEqual(parseRustLog('info'), LEVELS.info);
  assert.strictEqual(parseRustLog('query_engine=debug,warn'), LEVELS.debug);
  assert.strictEqual(parseRustLog('off'), LEVELS.off);
  assert.strictEqual(parseRustLog('nonsense'), LEVELS.error);
});

test('RUST_LOG_FORMAT=json prints tracing-style JSON lines; lower levels are dropped', () => {
  const { logger, lines } = capture({ RUST_LOG: 'error', RUST_LOG_FORMAT: 'json' });
  logger.info('hidden');
  logger.error('boom', { code: 'P1001' });
  assert.strictEqual(lines.length, 1);
  const obj = JSON.parse(lines[0]);
  assert.deepStrictEqual(Object.keys(obj), ['timestamp', 'level', 'fields', 'target']);
  assert.strictEqual(obj.level, 'ERROR');
  assert.deepStrictEqual(obj.fields, { message: 'boom', code: 'P1001' });
  assert.strictEqual(obj.target, 'query_engine');
});

test('passwords never reach the log', () => {
  const { logger, lines } = capture({ RUST_LOG: 'info', RUST_LOG_FORMAT: 'json' });
  logger.error('cannot connect to postgresql://u:topsecret@db:5432/x', { url: 'postgres://u:topsecret@db/x' });
  assert.ok(!lines[0].includes('topsecret'));
  const text = capture({ RUST_LOG: 'info' });
  text.logger.warn('postgresql://a:b@c/d');
  assert.ok(!text.lines[0].includes(':b@'));
  assert.match(text.lines[0], / WARN query_engine: /);
});

test('engine log events are filtered by level and keep their fields', () => {
  const { logger, lines } = capture({ RUST_LOG: 'info', RUST_LOG_FORMAT: 'json' });
  logger.engineEvent(JSON.stringify({ level: 'DEBUG', module_path: 'x', message: 'no' }));
  logger.engineEvent(JSON.stringify({ level: 'INFO', module_path: 'query_engine::x', message: 'yes', query: 'SELECT 1' }));
  logger.engineEvent('not json');
  assert.strictEqual(lines.length, 2);
  assert.deepStrictEqual(JSON.parse(lines[0]).fields, { message: 'yes', query: 'SELECT 1' });
  assert.strictEqual(JSON.parse(lines[0]).target, 'query_engine::x');
});

test('SQL statements are printed only with LOG_QUERIES, then whatever RUST_LOG says', () => {
  const event = JSON.stringify({ level: 'DEBUG', is_query: true, item_type: 'query', module_path: 'quaint::connector::metrics', query: 'SELECT 1', params: '[]', duration_ms: 0 });
  const quiet = capture({ RUST_LOG: 'error', RUST_LOG_FORMAT: 'json' });
  quiet.logger.engineEvent(event);
  assert.strictEqual(quiet.lines.length, 0);
  const loud = capture({ RUST_LOG: 'error', RUST_LOG_FORMAT: 'json', LOG_QUERIES: 'y' });
  loud.logger.engineEvent(event);
  const obj = JSON.parse(loud.lines[0]);
  assert.strictEqual(obj.level, 'INFO');
  assert.strictEqual(obj.fields.message, 'SELECT 1');
  assert.strictEqual(obj.target, 'quaint::connector::metrics');
});
