// TEST-ONLY stand-in tests: the schema engine stand-in's stderr log lines (parsed by the Prisma CLI).
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { createLogger, maxLevel } = require('../lib/schema-log');

test('RUST_LOG decides the level; errors always pass', () => {
  assert.equal(maxLevel(undefined), 1);
  assert.equal(maxLevel('info'), 3);
  assert.equal(maxLevel('warn,schema_core=debug'), 4);
  const lines = [];
  const quiet = createLogger({}, (l) => lines.push(JSON.parse(l)));
  quiet.info({ message: 'hidden' });
  quiet.error({ is_panic: false, error_code: 'P1001', message: 'm' }, 'schema_engine::logger');
  assert.equal(lines.length, 1);
  assert.equal(lines[0].level, 'ERROR');
  assert.equal(lines[0].target, 'schema_engine::logger');
  assert.equal(lines[0].fields.error_code, 'P1001');
});
