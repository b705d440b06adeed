// TEST-ONLY stand-in for Prisma's native query engine (LiteLLM database mode in local test images,
// where the native engines cannot be downloaded; production uses the official image's native engine).
//
// Datasource URL handling. A Prisma PostgreSQL URL carries Prisma-only query parameters that `pg`
// must not see (it would forward unknown ones to the server as startup options). They are
// interpreted here the way Prisma's connector (quaint) does and turned into `pg` Client/Pool
// options:
//   connection_limit              pool size; default num_cpus * 2 + 1
//   pool_timeout                  seconds to wait for a free connection; default 10, 0 = forever
//   connect_timeout               seconds to establish a connection; default 5, 0 = forever
//   socket_timeout                seconds a query may wait on the socket; default none
//   max_connection_lifetime       seconds before a connection is retired; default none
//   max_idle_connection_lifetime  seconds an idle connection is kept; default 300, 0 = forever
//   schema                        schema the engine qualifies tables with (and search_path)
//   sslmode/sslcert/sslaccept     TLS (prefer/disable/require; strict or accept_invalid_certs)
//   application_name, options     passed through to the server
//   pgbouncer, statement_cache_size, sslidentity, sslpassword: accepted and ignored (pg uses no
//   named prepared statements, so pgbouncer mode needs nothing)
// The password is never included in anything this module returns for display.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');

const DEFAULT_APPLICATION_NAME = 'prisma-wasm-query-engine';

function cpuCount() {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length || 1;
}

/** Prisma's default pool size (quaint: num_cpus * 2 + 1). */
function defaultConnectionLimit() {
  return cpuCount() * 2 + 1;
}

class DatasourceError extends Error {
  constructor(message, code) {
    super(message);
    this.code = code || 'P1013';
  }
}

function seconds(params, name, fallback) {
  if (!params.has(name)) return fallback;
  const raw = params.get(name);
  const n = Number(raw);
  if (raw === '' || !Number.isFinite(n) || n < 0) {
    throw new DatasourceError(`The provided database string is invalid. Invalid ${name} value \`${raw}\` in database URL.`);
  }
  return n;
}

function positiveInt(params, name, fallback) {
  if (!params.has(name)) return fallback;
  const raw = params.get(name);
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    throw new DatasourceError(`The provided database string is invalid. Invalid ${name} value \`${raw}\` in database URL.`);
  }
  return n;
}

function tlsOptions(params, schemaDir) {
  const mode = (params.get('sslmode') || 'prefer').toLowerCase();
  if (mode === 'disable' || mode === 'allow') return false;
  // `pg` cannot fall back to plaintext the way Prisma's `prefer` does; `prefer` therefore means
  // plaintext here (the test databases are on loopback without TLS).
  if (mode === 'prefer') return false;
  const strict = (params.get('sslaccept') || 'accept_invalid_certs') === 'strict' || mode === 'verify-ca' || mode === 'verify-full';
  const ssl = { rejectUnauthorized: strict };
  if (params.get('sslcert')) {
    const certPath = path.resolve(schemaDir || process.cwd(), params.get('sslcert'));
    ssl.ca = fs.readFileSync(certPath, 'utf8');
  }
  if (!strict || mode === 'verify-ca') ssl.checkServerIdentity = () => undefined;
  return ssl;
}

/**
 * Parse a Prisma postgres URL. Returns {client, pool, schema, target} where `client` are pg Client
 * options (no Prisma-only parameters), `pool` the pool sizing/timeouts in milliseconds, `schema`
 * the schema name and `target` a password-free "host:port/database" for messages.
 */
function parseDatasourceUrl(url, opts = {}) {
  let u;
  try {
    u = new URL(url);
  } catch (_e) {
    throw new DatasourceError('The provided database string is invalid. The scheme is not recognized in database URL.');
  }
  if (u.protocol !== 'postgresql:' && u.protocol !== 'postgres:') {
    throw new DatasourceError(
      'the URL must start with the protocol `postgresql://` or `postgres://`.',
      'P1012',
    );
  }
  const params = u.searchParams;
  const host = params.get('host') || decodeURIComponent(u.hostname).replace(/^\[(.*)\]$/, '$1') || 'localhost';
  const port = u.port ? Number(u.port) : 5432;
  const database = decodeURIComponent(u.pathname.replace(/^\//, '')) || 'postgres';
  const schema = params.get('schema') || 'public';

  const connectTimeout = seconds(params, 'connect_timeout', 5);
  const socketTimeout = seconds(params, 'socket_timeout', 0);
  const client = {
    host,
    port,
    user: decodeURIComponent(u.username) || undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    database,
    ssl: tlsOptions(params, opts.schemaDir),
    application_name: params.get('application_name') || DEFAULT_APPLICATION_NAME,
    connectionTimeoutMillis: Math.round(connectTimeout * 1000),
    keepAlive: true,
  };
  if (socketTimeout > 0) client.query_timeout = Math.round(socketTimeout * 1000);
  let options = params.get('options') || '';
  if (params.has('schema')) options = `${options} -c search_path=${schema.replace(/[\s\\]/g, '\\$&')}`.trim();
  if (options) client.options = options;

  const pool = {
    max: positiveInt(params, 'connection_limit', defaultConnectionLimit()),
    poolTimeoutMs: Math.round(seconds(params, 'pool_timeout', 10) * 1000),
    idleTimeoutMs: Math.round(seconds(params, 'max_idle_connection_lifetime', 300) * 1000),
    maxLifetimeSeconds: Math.round(seconds(params, 'max_connection_lifetime', 0)),
    connectTimeoutMs: client.connectionTimeoutMillis,
  };
  return { client, pool, schema, target: `${host}:${port}/${database}` };
}

/** Remove any password from text (URLs and key=value forms) before it is logged. */
function redact(text) {
  return String(text)
    .replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^:/?#\s@]*:)[^@\s]*@/gi, '$1****@')
    .replace(/(password\s*[=:]\s*)("[^"]*"|'[^']*'|\S+)/gi, '$1****');
}

/** OVERWRITE_DATASOURCES: a JSON list [{name, url}] (prisma-client-py) or its base64 form. */
function parseOverwriteDatasources(value) {
  if (!value) return [];
  let text = value.trim();
  if (!text.startsWith('[') && !text.startsWith('{')) text = Buffer.from(text, 'base64').toString('utf8');
  const parsed = JSON.parse(text);
  return Array.isArray(parsed) ? parsed : [parsed];
}

/**
 * Pick the datasource URL: an OVERWRITE_DATASOURCES entry for the datasource's name wins, else the
 * schema's url (a literal or env("VAR")).
 */
function resolveDatasourceUrl(datasource, env) {
  const overrides = parseOverwriteDatasources(env.OVERWRITE_DATASOURCES);
  const override = overrides.find((d) => d && (d.name === datasource.name || overrides.length === 1) && d.url);
  if (override) return override.url;
  const url = datasource.url || {};
  if (url.fromEnvVar) {
    const v = env[url.fromEnvVar];
    if (!v) {
      throw new DatasourceError(
        `error: Environment variable not found: ${url.fromEnvVar}.\n  -->  schema.prisma\n   | \nValidation Error Count: 1`,
        'P1012',
      );
    }
    return v;
  }
  if (url.value) return url.value;
  throw new DatasourceError('The datasource has no url.', 'P1012');
}

module.exports = {
  parseDatasourceUrl,
  resolveDatasourceUrl,
  parseOverwriteDatasources,
  defaultConnectionLimit,
  redact,
  DatasourceError,
  DEFAULT_APPLICATION_NAME,
};
