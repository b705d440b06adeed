// TEST-ONLY stand-in for Prisma's native query engine (LiteLLM database mode in local test images,
// where the native engines cannot be downloaded; production uses the official image's native engine).
//
// The native query engine's HTTP interface, as prisma-client-py 0.11 uses it
// (templates/engine/query.py.jinja and http.py.jinja):
//   GET  /status                          {"status":"ok"}
//   POST /                                a query or batch (GraphQL protocol), header X-transaction-id
//                                         inside an interactive transaction; always 200 with
//                                         {"data": ...} / {"batchResult": [...]} / {"errors": [...]}
//   POST /transaction/start               {"max_wait": ms, "timeout": ms} -> {"id": "..."}
//   POST /transaction/<id>/commit         {} or the bare user-facing error with status 404/422/500
//   POST /transaction/<id>/rollback       same
//   GET  /metrics?format=json|prometheus  body: optional JSON object of global labels
//   GET  /server_info                     {"commit", "version", "primary_connector"}
'use strict';

const http = require('http');
const {
  translateRequest,
  translateSingleResponse,
  translateBatchResponse,
  requestErrorBody,
  unknownError,
} = require('./query-translate');
const { EnginePanicError } = require('./query-engine-host');

const now = () => Number(process.hrtime.bigint()) / 1e6;

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res, status, body, contentType = 'application/json') {
  const payload = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}

function panicBody(error) {
  return { errors: [{ error: error.message, user_facing_error: { is_panic: true, message: error.message, backtrace: null } }] };
}

class QueryServer {
  /**
   * @param {object} opts {host (EngineHost), index (DMMF index), logger, metrics, info,
   *   protocol ('graphql'|'json'), enableRawQueries, enableMetrics}
   */
  constructor(opts) {
    Object.assign(this, opts);
    this.inFlight = 0;
    this.idleWaiters = [];
    this.server = http.createServer((req, res) => this.handle(req, res));
    // hyper (native) keeps idle client connections open; Node's 5 s default would race with
    // prisma-client-py reusing a pooled connection.
    this.server.keepAliveTimeout = 0;
    this.server.requestTimeout = 0;
    this.server.headersTimeout = 60000;
  }

  listen(port, hostname) {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, hostname, () => {
        this.server.removeListener('error', reject);
        resolve(this.server.address());
      });
    });
  }

  async handle(req, res) {
    this.inFlight += 1;
    try {
      await this.route(req, res);
    } catch (error) {
      this.logger.error('request failed', { error: String((error && error.stack) || error) });
      if (!res.headersSent) send(res, 500, unknownError(String((error && error.message) || error)).user_facing_error);
    } finally {
      this.inFlight -= 1;
      if (this.inFlight === 0) this.idleWaiters.splice(0).forEach((w) => w());
    }
  }

  async route(req, res) {
    const url = new URL(req.url, 'http://localhost');
    const p = url.pathname;
    if (req.method === 'GET' && p === '/status') return send(res, 200, '{"status":"ok"}');
    if (req.method === 'POST' && p === '/') return this.handleQuery(req, res);
    if (req.method === 'POST' && p.startsWith('/transaction/')) return this.handleTransaction(req, res, p);
    if (req.method === 'GET' && p === '/metrics' && this.enableMetrics) return this.handleMetrics(req, res, url);
    if (req.method === 'GET' && p === '/server_info') return send(res, 200, this.info);
    res.writeHead(404);
    return res.end();
  }

  async handleQuery(req, res) {
    const raw = await readBody(req);
    let body;
    try {
      body = JSON.parse(raw);
    } catch (_e) {
      res.writeHead(400);
      return res.end();
    }
    const txId = req.headers['x-transaction-id'] || null;
    const started = now();
    this.metrics.active += 1;
    let count = 1;
    let out;
    try {
      if (this.protocol === 'json') {
        count = Array.isArray(body.batch) ? body.batch.length : 1;
        out = await this.host.query(raw, txId);
        if (out.includes('"P2036"')) out = JSON.stringify(this.host.fixErrors(JSON.parse(out)));
      } else {
        out = await this.runGraphQL(body, txId);
        count = Array.isArray(body.batch) ? body.batch.length : 1;
      }
    } catch (error) {
      out = JSON.stringify(error instanceof EnginePanicError ? panicBody(error) : requestErrorBody(error));
    } finally {
      this.metrics.active -= 1;
    }
    this.metrics.inc('prisma_client_queries_total', count);
    this.metrics.observe('prisma_client_queries_duration_histogram_ms', now() - started);
    if (out.startsWith('{"errors"') || (Array.isArray(body.batch) && hasBatchErrors(out))) {
      this.metrics.inc('prisma_wasm_client_queries_errors_total');
      if (this.logger.enabled('debug')) this.logger.debug('query answered with an error', { response: out.slice(0, 2000) });
    }
    return send(res, 200, out);
  }

  async runGraphQL(body, txId) {
    let translated;
    try {
      translated = translateRequest(body, this.index);
    } catch (error) {
      return JSON.stringify(requestErrorBody(error));
    }
    if (!this.enableRawQueries && translated.items.some((i) => i.action === 'queryRaw' || i.action === 'executeRaw')) {
      return JSON.stringify({ errors: [unknownError('Raw queries are not enabled: start the query engine with --enable-raw-queries.')] });
    }
    const text = await this.host.query(JSON.stringify(translated.body), txId);
    const fix = (resp) => this.host.fixErrors(resp);
    return translated.batch ? translateBatchResponse(text, translated.items, fix) : translateSingleResponse(text, translated.items[0], fix);
  }

  async handleTransaction(req, res, p) {
    const raw = await readBody(req);
    const parts = p.split('/'); // ['', 'transaction', 'start'] or ['', 'transaction', id, 'commit']
    try {
      if (parts[2] === 'start' && parts.length === 3) {
        let input = {};
        try {
          input = raw ? JSON.parse(raw) : {};
        } catch (_e) {
          res.writeHead(400);
          return res.end();
        }
        const result = await this.host.startTransaction(input);
        if (typeof result.id === 'string') return send(res, 200, { id: result.id });
        const status = /given time/.test(result.message || '') ? 504 : 500;
        return send(res, status, result);
      }
      if (parts.length === 4 && (parts[3] === 'commit' || parts[3] === 'rollback')) {
        const { status, body } = await this.host.endTransaction(decodeURIComponent(parts[2]), parts[3]);
        return send(res, status, body);
      }
    } catch (error) {
      if (error instanceof EnginePanicError) return send(res, 500, panicBody(error).errors[0].user_facing_error);
      throw error;
    }
    res.writeHead(400);
    return res.end();
  }

  async handleMetrics(req, res, url) {
    const raw = await readBody(req);
    let labels = {};
    if (raw.trim()) {
      try {
        labels = JSON.parse(raw) || {};
      } catch (_e) {
        res.writeHead(400);
        return res.end();
      }
    }
    if ((url.searchParams.get('format') || 'json') === 'prometheus') {
      return send(res, 200, this.metrics.toPrometheus(labels), 'text/plain; version=0.0.4');
    }
    return send(res, 200, this.metrics.toJSON(labels));
  }

  /** Stop accepting connections and resolve when in-flight requests have been answered. */
  drain(timeoutMs) {
    this.server.close();
    if (typeof this.server.closeIdleConnections === 'function') this.server.closeIdleConnections();
    if (this.inFlight === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}

function hasBatchErrors(text) {
  try {
    const resp = JSON.parse(text);
    return Boolean(resp.errors) || (Array.isArray(resp.batchResult) && resp.batchResult.some((r) => r && r.errors));
  } catch (_e) {
    return true;
  }
}

module.exports = { QueryServer };
