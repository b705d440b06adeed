// TEST-ONLY: unit tests for the query-engine stand-in's metrics (lib/query-metrics.js).
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const { Metrics, Histogram, BUCKETS_MS } = require('../lib/query-metrics');

test('histogram buckets are per-bucket counts; overflow only in count/sum', () => {
  const h = new Histogram();
  [0, 0.5, 1, 3, 70, 60000].forEach((v) => h.observe(v));
  const j = h.toJSON();
  assert.strictEqual(j.count, 6);
  assert.strictEqual(j.sum, 60074.5);
  assert.deepStrictEqual(j.buckets.map((b) => b[0]), BUCKETS_MS);
  assert.deepStrictEqual(Object.fromEntries(j.buckets), { 0: 1, 1: 2, 5: 1, 10: 0, 50: 0, 100: 1, 500: 0, 1000: 0, 5000: 0, 50000: 0 });
});

test('JSON shape matches prisma-client-py Metrics model, gauges come from the pool snapshot', () => {
  const m = new Metrics();
  m.poolSnapshot = () => ({ open: 5, idle: 2 });
  m.inc('prisma_client_queries_total', 3);
  m.active = 1;
  m.waiting = 4;
  m.observe('prisma_client_queries_duration_histogram_ms', 12);
  const j = m.toJSON({ svc: 'a' });
  assert.deepStrictEqual(Object.keys(j), ['counters', 'gauges', 'histograms']);
  const byKey = (list) => Object.fromEntries(list.map((x) => [x.key, x]));
  const counters = byKey(j.counters);
  const gauges = byKey(j.gauges);
  assert.strictEqual(counters.prisma_client_queries_total.value, 3);
  assert.deepStrictEqual(counters.prisma_client_queries_total.labels, { svc: 'a' });
  assert.ok(counters.prisma_client_queries_total.description);
  assert.strictEqual(gauges.prisma_pool_connections_open.value, 5);
  assert.strictEqual(gauges.prisma_pool_connections_idle.value, 2);
  assert.strictEqual(gauges.prisma_pool_connections_busy.value, 3);
  assert.strictEqual(gauges.prisma_client_queries_active.value, 1);
  assert.strictEqual(gauges.prisma_client_queries_wait.value, 4);
  const hist = byKey(j.histograms).prisma_client_queries_duration_histogram_ms.value;
  assert.strictEqual(hist.count, 1);
  // every non-Prisma metric is marked as ours
  for (const c of j.counters) assert.ok(c.key.startsWith('prisma_client_') || c.key.startsWith('prisma_datasource_') || c.key.startsWith('prisma_pool_') || c.key.startsWith('prisma_wasm_'));
});

test('Prometheus text: HELP/TYPE lines, labels, cumulative buckets', () => {
  const m = new Metrics();
  m.inc('prisma_client_queries_total');
  m.observe('prisma_client_queries_wait_histogram_ms', 3);
  m.observe('prisma_client_queries_wait_histogram_ms', 30);
  const text = m.toPrometheus({ app: 'x"y' });
  assert.match(text, /# TYPE prisma_client_queries_total counter\nprisma_client_queries_total\{app="x\\"y"\} 1\n/);
  assert.match(text, /# TYPE prisma_pool_connections_open gauge\n/);
  assert.match(text, /prisma_client_queries_wait_histogram_ms_bucket\{app="x\\"y",le="5"\} 1\n/);
  assert.match(text, /prisma_client_queries_wait_histogram_ms_bucket\{app="x\\"y",le="50"\} 2\n/);
  assert.match(text, /prisma_client_queries_wait_histogram_ms_bucket\{app="x\\"y",le="\+Inf"\} 2\n/);
  assert.match(text, /prisma_client_queries_wait_histogram_ms_count\{app="x\\"y"\} 2\n/);
  assert.ok(!new Metrics().toPrometheus().includes('{}'));
});
