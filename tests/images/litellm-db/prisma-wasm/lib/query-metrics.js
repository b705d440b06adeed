// TEST-ONLY stand-in for Prisma's native query engine (LiteLLM database mode in local test images,
// where the native engines cannot be downloaded; production uses the official image's native engine).
//
// GET /metrics. The WASM engine keeps no metrics, so this process counts what it sees itself: every
// value here is measured by this process (nothing is estimated or invented). Names follow Prisma's
// metrics where Prisma has one with the same meaning; counters Prisma does not have carry the
// `prisma_wasm_` prefix. Output shapes follow the native engine:
//   json:       {"counters": [...], "gauges": [...], "histograms": [...]}, each metric
//               {key, labels, value, description}, histogram value {buckets: [[le, count]...], sum, count}
//               with per-bucket (non-cumulative) counts as Prisma prints them
//   prometheus: text exposition format (cumulative buckets, as Prometheus requires)
'use strict';

const BUCKETS_MS = [0, 1, 5, 10, 50, 100, 500, 1000, 5000, 50000];

const DESCRIPTIONS = {
  prisma_client_queries_total: 'Total number of Prisma Client queries executed',
  prisma_datasource_queries_total: 'Total number of Datasource Queries executed',
  prisma_pool_connections_opened_total: 'Total number of Pool Connections opened',
  prisma_pool_connections_closed_total: 'Total number of Pool Connections closed',
  prisma_wasm_client_queries_errors_total: 'Total number of Prisma Client queries answered with an error (counted by the WASM stand-in, not a Prisma metric)',
  prisma_wasm_pool_timeouts_total: 'Total number of waits for a pool connection that hit pool_timeout (P2024; counted by the WASM stand-in, not a Prisma metric)',
  prisma_client_queries_active: 'Number of currently active Prisma Client queries',
  prisma_client_queries_wait: 'Number of Prisma Client queries currently waiting for a connection',
  prisma_pool_connections_busy: 'Number of currently busy Pool Connections (executing a datasource query)',
  prisma_pool_connections_idle: 'Number of currently unused Pool Connections (waiting for the next datasource query to run)',
  prisma_pool_connections_open: 'Number of currently open Pool Connections',
  prisma_client_queries_duration_histogram_ms: 'Histogram of the duration of all executed Prisma Client queries in ms',
  prisma_client_queries_wait_histogram_ms: 'Histogram of the wait time of all Prisma Client Queries in ms',
  prisma_datasource_queries_duration_histogram_ms: 'Histogram of the duration of all executed Datasource Queries in ms',
};

class Histogram {
  constructor() {
    this.counts = new Array(BUCKETS_MS.length).fill(0);
    this.sum = 0;
    this.count = 0;
  }

  observe(ms) {
    // Bucket i counts observations in (BUCKETS_MS[i-1], BUCKETS_MS[i]]; beyond the last bound
    // they only show in count/sum (Prometheus' +Inf bucket).
    const i = BUCKETS_MS.findIndex((le) => ms <= le);
    if (i >= 0) this.counts[i] += 1;
    this.sum += ms;
    this.count += 1;
  }

  toJSON() {
    return {
      buckets: BUCKETS_MS.map((le, i) => [le, this.counts[i]]),
      sum: Math.round(this.sum * 1000) / 1000,
      count: this.count,
    };
  }
}

class Metrics {
  constructor() {
    this.counters = {
      prisma_client_queries_total: 0,
      prisma_datasource_queries_total: 0,
      prisma_pool_connections_opened_total: 0,
      prisma_pool_connections_closed_total: 0,
      prisma_wasm_client_queries_errors_total: 0,
      prisma_wasm_pool_timeouts_total: 0,
    };
    this.active = 0;
    this.waiting = 0;
    this.histograms = {
      prisma_client_queries_duration_histogram_ms: new Histogram(),
      prisma_client_queries_wait_histogram_ms: new Histogram(),
      prisma_datasource_queries_duration_histogram_ms: new Histogram(),
    };
    // Set by the engine once the pool exists: () => {open, idle}.
    this.poolSnapshot = () => ({ open: 0, idle: 0 });
  }

  inc(name, by = 1) {
    this.counters[name] += by;
  }

  observe(name, ms) {
    this.histograms[name].observe(ms);
  }

  gauges() {
    const { open, idle } = this.poolSnapshot();
    return {
      prisma_client_queries_active: this.active,
      prisma_client_queries_wait: this.waiting,
      prisma_pool_connections_busy: open - idle,
      prisma_pool_connections_idle: idle,
      prisma_pool_connections_open: open,
    };
  }

  toJSON(globalLabels = {}) {
    const metric = (key, value) => ({ key, labels: { ...globalLabels }, value, description: DESCRIPTIONS[key] });
    return {
      counters: Object.entries(this.counters).map(([k, v]) => metric(k, v)),
      gauges: Object.entries(this.gauges()).map(([k, v]) => metric(k, v)),
      histograms: Object.entries(this.histograms).map(([k, h]) => metric(k, h.toJSON())),
    };
  }

  toPrometheus(globalLabels = {}) {
    const labelText = (extra) => {
      const all = { ...globalLabels, ...extra };
      const parts = Object.entries(all).map(([k, v]) => `${k}="${String(v).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
      return parts.length ? `{${parts.join(',')}}` : '';
    };
    const lines = [];
    const head = (key, type) => lines.push(`# HELP ${key} ${DESCRIPTIONS[key]}`, `# TYPE ${key} ${type}`);
    for (const [k, v] of Object.entries(this.counters)) {
      head(k, 'counter');
      lines.push(`${k}${labelText({})} ${v}`);
    }
    for (const [k, v] of Object.entries(this.gauges())) {
      head(k, 'gauge');
      lines.push(`${k}${labelText({})} ${v}`);
    }
    for (const [k, h] of Object.entries(this.histograms)) {
      head(k, 'histogram');
      let cumulative = 0;
      BUCKETS_MS.forEach((le, i) => {
        cumulative += h.counts[i];
        lines.push(`${k}_bucket${labelText({ le: String(le) })} ${cumulative}`);
      });
      lines.push(`${k}_bucket${labelText({ le: '+Inf' })} ${h.count}`);
      lines.push(`${k}_sum${labelText({})} ${Math.round(h.sum * 1000) / 1000}`);
      lines.push(`${k}_count${labelText({})} ${h.count}`);
    }
    return `${lines.join('\n')}\n`;
  }
}

module.exports = { Metrics, Histogram, BUCKETS_MS };
