// TEST-ONLY stand-in tests: migrations directory and ledger history logic of the schema engine stand-in.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const m = require('../lib/schema-migrations');

function tempMigrations(layout) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'se-migrations-'));
  for (const [name, script] of Object.entries(layout)) {
    if (name.endsWith('.toml')) {
      fs.writeFileSync(path.join(dir, name), script);
    } else {
      fs.mkdirSync(path.join(dir, name));
      if (script !== null) fs.writeFileSync(path.join(dir, name, 'migration.sql'), script);
    }
  }
  return dir;
}

test('lists directories only, sorted byte-wise; a missing folder is empty', () => {
  const dir = tempMigrations({ '2_b': 'b', '10_a': 'a', 'Z_upper': 'z', 'migration_lock.toml': 'provider = "postgresql"' });
  assert.deepEqual(m.listMigrations(dir).map((x) => x.name), ['10_a', '2_b', 'Z_upper']);
  assert.deepEqual(m.listMigrations(path.join(dir, 'nope')), []);
});

test('a missing migration.sql is P3015', () => {
  const dir = tempMigrations({ '1_empty': null });
  assert.throws(() => m.readMigrationScript(m.listMigrations(dir)[0]), (err) => err.errorCode === 'P3015');
});

test('migration_lock.toml provider check (P3019)', () => {
  assert.equal(m.readLockfileProvider(tempMigrations({ 'migration_lock.toml': '# x\nprovider = "postgresql"\n' })), 'postgresql');
  assert.equal(m.readLockfileProvider(tempMigrations({})), null);
  m.checkLockfileProvider(tempMigrations({ 'migration_lock.toml': 'provider = "postgresql"' }), 'postgresql');
  assert.throws(() => m.checkLockfileProvider(tempMigrations({ 'migration_lock.toml': 'provider = "mysql"' }), 'postgresql'),
    (err) => err.errorCode === 'P3019');
});

test('checksum is sha256 hex and matching ignores line endings and accepts unpadded hex', () => {
  assert.equal(m.checksum('hello'), '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
  assert.ok(m.scriptMatchesChecksum('a\r\nb\r\n', m.checksum('a\nb\n')));
  assert.ok(m.scriptMatchesChecksum('a\nb\n', m.checksum('a\r\nb\r\n')));
  assert.ok(!m.scriptMatchesChecksum('abc\n', m.checksum('abc')));
  const unpadded = Array.from(require('node:crypto').createHash('sha256').update('abcd').digest(), (b) => b.toString(16)).join('');
  if (unpadded.length !== 64) assert.ok(m.scriptMatchesChecksum('abcd', unpadded));
});

test('chrono-style timestamps (3, 6 or no fraction digits)', () => {
  assert.equal(m.formatChronoUtc('2025-10-10 13:48:23.538445'), '2025-10-10 13:48:23.538445 UTC');
  assert.equal(m.formatChronoUtc('2025-10-10 13:48:23.538000'), '2025-10-10 13:48:23.538 UTC');
  assert.equal(m.formatChronoUtc('2025-10-10 13:48:23.000000'), '2025-10-10 13:48:23 UTC');
});

test('ledger timestamps keep microseconds and strictly increase', () => {
  assert.equal(m.microsToTimestamp(1700000000123456n), '2023-11-14T22:13:20.123456+00:00');
  const a = m.nowMicros();
  const b = m.nowMicros();
  assert.ok(b > a);
});

const record = (name, state, checksum = 'c') => ({
  migration_name: name,
  checksum,
  finished_at: state === 'done',
  rolled_back_at: state === 'rolled',
  started_at_text: '2025-01-01 00:00:00.000001',
});

test('failed migrations details and unapplied migrations', () => {
  const records = [record('1_a', 'done'), record('2_b', 'failed'), record('3_c', 'rolled')];
  assert.equal(m.failedMigrationsDetails(records), 'The `2_b` migration started at 2025-01-01 00:00:00.000001 UTC failed\n');
  const fsMigrations = [{ name: '1_a' }, { name: '2_b' }, { name: '3_c' }, { name: '4_d' }];
  assert.deepEqual(m.unappliedMigrations(fsMigrations, records).map((x) => x.name), ['3_c', '4_d']);
});

test('history diagnostics: behind, ahead, diverged, edited', () => {
  const fsMigrations = [{ name: '1_a' }, { name: '2_b' }, { name: '3_c' }];
  const same = () => true;
  assert.deepEqual(m.diagnoseHistory(fsMigrations, [record('1_a', 'done')], same).history,
    { diagnostic: 'databaseIsBehind', unappliedMigrationNames: ['2_b', '3_c'] });
  const all = fsMigrations.map((x) => record(x.name, 'done'));
  assert.equal(m.diagnoseHistory(fsMigrations, all, same).history, null);
  assert.deepEqual(m.diagnoseHistory(fsMigrations, [...all, record('9_z', 'done')], same).history,
    { diagnostic: 'migrationsDirectoryIsBehind', unpersistedMigrationNames: ['9_z'] });
  assert.deepEqual(m.diagnoseHistory(fsMigrations, [record('1_a', 'done'), record('9_z', 'done')], same).history, {
    diagnostic: 'historiesDiverge', lastCommonMigrationName: '1_a', unpersistedMigrationNames: ['9_z'], unappliedMigrationNames: ['2_b', '3_c'],
  });
  const edited = m.diagnoseHistory(fsMigrations, all, (mig) => mig.name !== '2_b');
  assert.deepEqual(edited.editedMigrationNames, ['2_b']);
  const failed = m.diagnoseHistory(fsMigrations, [record('1_a', 'done'), record('2_b', 'failed')], same);
  assert.deepEqual(failed.failedMigrationNames, ['2_b']);
});
