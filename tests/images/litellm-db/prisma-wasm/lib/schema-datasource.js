// TEST-ONLY stand-in for Prisma's native schema engine (see ../schema-engine.js): finds the
// datasource of a Prisma schema with Prisma's own schema parser (@prisma/prisma-schema-wasm 5.17,
// the same commit as the engines), resolving env("...") from the process environment. Like Prisma
// Migrate, it prefers `directUrl` over `url`.
'use strict';

const fs = require('node:fs');
const errors = require('./schema-errors');

let schemaWasm = null;

function loadSchemaWasm() {
  if (!schemaWasm) schemaWasm = require('@prisma/prisma-schema-wasm');
  return schemaWasm;
}

/** Read the schema files given with -d at startup ([path, content] pairs, as the engine keeps them). */
function readSchemaFiles(paths) {
  return paths.map((p) => {
    try {
      return { path: p, content: fs.readFileSync(p, 'utf8') };
    } catch (err) {
      throw new errors.UnknownEngineError(`Error opening datamodel file in \`${p}\`: ${err.message}`);
    }
  });
}

/** get_config's answer for these files, or P1012 with the parser's errors. */
function getConfig(files, env) {
  const params = {
    prismaSchema: files.map((f) => [f.path, f.content]),
    datasourceOverrides: {},
    ignoreEnvVarErrors: false,
    env,
  };
  let result;
  try {
    result = JSON.parse(loadSchemaWasm().get_config(JSON.stringify(params)));
  } catch (err) {
    throw errors.schemaParserError(String(err && err.message ? err.message : err));
  }
  if (result.errors && result.errors.length > 0) {
    const text = result.errors.map((e) => e.message).join('\n');
    throw errors.schemaParserError(`${text}\nValidation Error Count: ${result.errors.length}`);
  }
  return result.config;
}

/** The connection string Prisma Migrate would use for these schema files. */
function resolveDatasource(files, env) {
  const config = getConfig(files, env);
  const datasource = config.datasources[0];
  if (!datasource) {
    throw new errors.UnknownEngineError("Couldn't find a datasource in the schema.");
  }
  if (datasource.provider !== 'postgresql' && datasource.provider !== 'postgres') {
    throw new errors.UnknownEngineError(
      `The TEST-ONLY schema engine stand-in supports only PostgreSQL, not \`${datasource.provider}\`.`);
  }
  const direct = datasource.directUrl && datasource.directUrl.value;
  const url = direct || (datasource.url && datasource.url.value);
  if (!url) throw errors.schemaParserError('The datasource has no url.');
  return { url, provider: datasource.provider, name: datasource.name };
}

module.exports = { readSchemaFiles, getConfig, resolveDatasource };
