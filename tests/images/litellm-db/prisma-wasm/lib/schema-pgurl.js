// TEST-ONLY stand-in for Prisma's native schema engine (see ../schema-engine.js): reads a Prisma
// PostgreSQL connection URL the way Prisma's engines do (quaint's PostgresUrl) and turns it into a
// `pg` client config. The password only ever goes into the `pg` config, never into a message.
'use strict';

const errors = require('./schema-errors');

const DEFAULT_PORT = 5432;
const DEFAULT_CONNECT_TIMEOUT_S = 5;

function decode(component) {
  try {
    return decodeURIComponent(component);
  } catch (_err) {
    return component;
  }
}

/** Parse `postgresql://user:pass@host:port/db?schema=...&sslmode=...` into its parts. */
function parsePostgresUrl(raw) {
  if (typeof raw !== 'string' || raw.trim() === '') {
    throw errors.invalidConnectionString('empty connection string');
  }
  let url;
  try {
    url = new URL(raw);
  } catch (_err) {
    throw errors.invalidConnectionString('relative URL without a base or invalid URL');
  }
  if (url.protocol !== 'postgresql:' && url.protocol !== 'postgres:') {
    throw errors.invalidConnectionString(
      `\`${url.protocol.replace(/:$/, '')}\` is not a PostgreSQL connection URL scheme (expected postgresql://)`);
  }
  const params = url.searchParams;
  // A `host` query parameter (a Unix socket directory) wins over the URL's host, as in quaint.
  const host = params.get('host') || url.hostname.replace(/^\[(.*)\]$/, '$1') || 'localhost';
  const port = url.port ? Number(url.port) : DEFAULT_PORT;
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    throw errors.invalidConnectionString('invalid port number');
  }
  const timeoutParam = params.get('connect_timeout');
  const connectTimeoutS = timeoutParam === null ? DEFAULT_CONNECT_TIMEOUT_S : Number(timeoutParam);
  return {
    host,
    port,
    user: decode(url.username) || 'postgres',
    password: url.password ? decode(url.password) : undefined,
    database: decode(url.pathname.replace(/^\//, '')) || 'postgres',
    schema: params.get('schema') || 'public',
    sslmode: params.get('sslmode') || 'prefer',
    sslaccept: params.get('sslaccept') || 'strict',
    connectTimeoutS: Number.isFinite(connectTimeoutS) ? connectTimeoutS : DEFAULT_CONNECT_TIMEOUT_S,
    applicationName: params.get('application_name') || undefined,
    options: params.get('options') || undefined,
  };
}

/**
 * The `pg` client config for a parsed URL. sslmode=prefer (Prisma's default) is treated as
 * disable: node-postgres cannot fall back from TLS, and the test databases speak plain TCP.
 */
function toPgConfig(parsed, overrides) {
  const config = {
    host: parsed.host,
    port: parsed.port,
    user: parsed.user,
    password: parsed.password,
    database: parsed.database,
    connectionTimeoutMillis: parsed.connectTimeoutS > 0 ? parsed.connectTimeoutS * 1000 : 0,
    keepAlive: true,
  };
  if (parsed.sslmode === 'require') {
    config.ssl = { rejectUnauthorized: parsed.sslaccept !== 'accept_invalid_certs' };
  }
  if (parsed.applicationName) config.application_name = parsed.applicationName;
  if (parsed.options) config.options = parsed.options;
  return Object.assign(config, overrides || {});
}

/** Quote an identifier for PostgreSQL (double quotes, inner quotes doubled). */
function quoteIdent(name) {
  return `"${String(name).replace(/"/g, '""')}"`;
}

/** Remove the password of any URL-looking substring of a text (for messages and logs). */
function redactUrls(text) {
  return String(text).replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*:)[^@/?#\s]*@/gi, '$1***@');
}

module.exports = { parsePostgresUrl, toPgConfig, quoteIdent, redactUrls, DEFAULT_PORT };
