// TEST-ONLY stand-in tests: command line of the schema engine stand-in (../schema-engine.js).
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { parseArgs, UsageError, VERSION_LINE } = require('../lib/schema-args');

test('--version prints what the native schema engine of commit 393aa359 prints', () => {
  assert.deepEqual(parseArgs(['--version']), { mode: 'version' });
  assert.deepEqual(parseArgs(['-V']), { mode: 'version' });
  assert.equal(VERSION_LINE, 'schema-engine-cli 393aa359c9ad4a4bb28630fb5613f9c281cde053');
});

test('RPC mode collects every -d schema file', () => {
  const args = parseArgs(['-d', '/a/schema.prisma', '--datamodels=/b/x.prisma', '--enabled-preview-features', 'x,y']);
  assert.equal(args.mode, 'rpc');
  assert.deepEqual(args.datamodels, ['/a/schema.prisma', '/b/x.prisma']);
  assert.deepEqual(args.previewFeatures, ['x', 'y']);
  assert.deepEqual(parseArgs([]).datamodels, []);
});

test('cli subcommand as the Prisma CLI spawns it', () => {
  assert.deepEqual(parseArgs(['cli', '--datasource', 'postgresql://h/db', 'can-connect-to-database']),
    { mode: 'cli', datasource: 'postgresql://h/db', command: 'can-connect-to-database', datamodels: [] });
  assert.equal(parseArgs(['cli', '--datasource=postgresql://h/db', 'create-database']).command, 'create-database');
});

test('bad command lines are usage errors', () => {
  assert.throws(() => parseArgs(['--bogus']), UsageError);
  assert.throws(() => parseArgs(['-d']), UsageError);
  assert.throws(() => parseArgs(['cli', 'can-connect-to-database']), UsageError);
  assert.throws(() => parseArgs(['cli', '--datasource', 'x']), UsageError);
  assert.throws(() => parseArgs(['cli', '--datasource', 'x', 'explode']), UsageError);
});
