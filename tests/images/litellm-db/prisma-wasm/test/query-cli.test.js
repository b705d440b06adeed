// TEST-ONLY: unit tests for the query-engine stand-in's command line (query-engine.js).
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const path = require('path');
const { spawnSync } = require('child_process');
const { parseArgs, loadDatamodel, ENGINE_COMMIT } = require('../query-engine');

const SCRIPT = path.join(__dirname, '..', 'query-engine.js');
const SCHEMA = 'datasource db {\n  provider = "postgresql"\n  url = env("DATABASE_URL")\n}\nmodel A {\n  id Int @id\n}\n';

test('--version prints what the native binary prints (Prisma CLI and prisma-client-py parse it)', () => {
  assert.match(ENGINE_COMMIT, /^[0-9a-f]{40}$/);
  for (const flag of ['--version', '-V']) {
    const r = spawnSync(process.execPath, [SCRIPT, flag], { encoding: 'utf8' });
    assert.strictEqual(r.status, 0);
    assert.strictEqual(r.stdout, `query-engine ${ENGINE_COMMIT}\n`);
    // prisma-client-py: stdout.replace('query-engine', '').strip()
    assert.strictEqual(r.stdout.replace('query-engine', '').trim(), ENGINE_COMMIT);
  }
});

test('prisma-client-py spawn arguments are understood', () => {
  const o = parseArgs(['-p', '40123', '--enable-metrics', '--enable-raw-queries']);
  assert.strictEqual(o.port, 40123);
  assert.strictEqual(o.host, '127.0.0.1');
  assert.strictEqual(o.enableMetrics, true);
  assert.strictEqual(o.enableRawQueries, true);
  assert.strictEqual(o.version, false);
  assert.strictEqual(o.cli, null);
  const p = parseArgs(['--port=5', '-H', '0.0.0.0', '--datamodel-path', '/x', 'cli', 'dmmf']);
  assert.strictEqual(p.port, 5);
  assert.strictEqual(p.host, '0.0.0.0');
  assert.strictEqual(p.datamodelPath, '/x');
  assert.deepStrictEqual(p.cli, ['dmmf']);
});

test('datamodel from PRISMA_DML (base64, as the native engine takes it, or plain)', () => {
  const b64 = Buffer.from(SCHEMA).toString('base64');
  assert.strictEqual(loadDatamodel({}, { PRISMA_DML: b64 }).text, SCHEMA);
  assert.strictEqual(loadDatamodel({}, { PRISMA_DML: SCHEMA }).text, SCHEMA);
  assert.throws(() => loadDatamodel({}, {}), /PRISMA_DML_PATH/);
});

test('cli get-config / dmmf answer from prisma-schema-wasm', () => {
  const env = { ...process.env, PRISMA_DML: Buffer.from(SCHEMA).toString('base64') };
  const cfg = spawnSync(process.execPath, [SCRIPT, 'cli', 'get-config'], { encoding: 'utf8', env });
  assert.strictEqual(cfg.status, 0, cfg.stderr);
  assert.strictEqual(JSON.parse(cfg.stdout).datasources[0].provider, 'postgresql');
  const dmmf = spawnSync(process.execPath, [SCRIPT, 'cli', 'dmmf'], { encoding: 'utf8', env });
  assert.strictEqual(dmmf.status, 0, dmmf.stderr);
  assert.strictEqual(JSON.parse(dmmf.stdout).datamodel.models[0].name, 'A');
});

test('a missing database URL fails startup with a JSON error and exit code 1', () => {
  const env = { ...process.env, PRISMA_DML: Buffer.from(SCHEMA).toString('base64'), RUST_LOG: 'off' };
  delete env.DATABASE_URL;
  delete env.OVERWRITE_DATASOURCES;
  const r = spawnSync(process.execPath, [SCRIPT, '-p', '0'], { encoding: 'utf8', env, timeout: 30000 });
  assert.strictEqual(r.status, 1);
  const line = JSON.parse(r.stderr.trim().split('\n').pop());
  assert.strictEqual(line.is_panic, false);
  assert.match(line.message, /Environment variable not found: DATABASE_URL/);
});

test('cli build-index fills the schema index cache ahead of time', () => {
  const fs = require('fs');
  const os = require('os');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qe-cli-index-'));
  try {
    const env = { ...process.env, PRISMA_DML: SCHEMA, PRISMA_WASM_CACHE_DIR: dir };
    const first = spawnSync(process.execPath, [SCRIPT, 'cli', 'build-index'], { encoding: 'utf8', env });
    assert.strictEqual(first.status, 0, first.stderr);
    assert.match(first.stdout, /schema index written/);
    assert.strictEqual(fs.readdirSync(dir).filter((f) => f.startsWith('qe-index-')).length, 1);
    const second = spawnSync(process.execPath, [SCRIPT, 'cli', 'build-index'], { encoding: 'utf8', env });
    assert.match(second.stdout, /already cached/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
