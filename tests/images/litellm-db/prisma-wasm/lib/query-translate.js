// TEST-ONLY stand-in for Prisma's native query engine (LiteLLM database mode in local test images,
// where the native engines cannot be downloaded; production uses the official image's native engine).
//
// Translation between the two request protocols of Prisma's query engine:
//   - prisma-client-py 0.11 speaks the GraphQL protocol (PRISMA_ENGINE_PROTOCOL=graphql):
//     {"query": "mutation { result: createOneUser(data: {...}) { id name } }", "variables": {}}
//     and {"batch": [{query, variables}...], "transaction": true}.
//   - the WASM query engine only accepts the JSON protocol:
//     {"modelName": "User", "action": "createOne", "query": {"arguments": {...}, "selection": {...}}}
//     and {"batch": [...], "transaction": {"isolationLevel": null}}.
// Both end up in the engine's one query-document parser, so argument values mostly carry over as
// they are. The protocol-dependent differences this module bridges:
//   - Json fields: GraphQL sends JSON text in a string and the engine parses it; under the JSON
//     protocol a plain string *is* a JSON string value, JSON text must come as {"$type":"Json"}.
//     Likewise Bytes/Decimal/BigInt given as strings are tagged, and integers too wide for a JS
//     double keep their digits through {"$type":"BigInt"} (the DMMF says which positions).
//   - outputs: the JSON protocol tags DateTime/Json/BigInt/Bytes/Decimal values as
//     {"$type":..., "value":...}; the GraphQL protocol prints them plain (DateTime, BigInt, Bytes
//     as strings, Json as its JSON text, Decimal as a number), which prisma-client-py's pydantic
//     models parse.
//   - the response is keyed by the GraphQL alias ("result"), not by the operation name.
//   - queryRaw: the JSON protocol answers {columns, types, rows}; the GraphQL protocol answers a
//     list of objects whose values are {"prisma__type": ..., "prisma__value": ...}, which is what
//     prisma-client-py's _raw_query.py deserialises.
'use strict';

const { parseGraphQL, IntToken, EnumToken, GraphQLSyntaxError } = require('./query-graphql');

class TranslationError extends Error {}

const RAW_ACTIONS = new Set(['queryRaw', 'executeRaw']);

function isPlainObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof IntToken) && !(v instanceof EnumToken);
}

// ---------------------------------------------------------------------------------------------
// Requests

/** Tag a scalar that the JSON protocol would otherwise read differently. */
function convertScalar(value, scalars) {
  if (typeof value === 'string') {
    // Json wins: a Json position accepts any JSON text, so it is the most general reading.
    if (scalars.has('Json')) return { $type: 'Json', value };
    if (scalars.has('Bytes')) return { $type: 'Bytes', value };
    if (scalars.has('Decimal')) return { $type: 'Decimal', value };
    if (scalars.has('BigInt')) return { $type: 'BigInt', value };
    return value;
  }
  if (value instanceof IntToken) {
    if (scalars.has('BigInt')) return { $type: 'BigInt', value: value.text };
    if (scalars.has('Decimal')) return { $type: 'Decimal', value: value.text };
  }
  return value;
}

/** Which of a slot's input object types `obj` is (by its keys), or undefined if none is special. */
function pickInputType(obj, candidates, index) {
  if (candidates.length === 1) return index.inputTypes.get(candidates[0]);
  const keys = Object.keys(obj);
  for (const name of candidates) {
    const t = index.inputTypes.get(name);
    if (t && t.allFields && keys.every((k) => t.allFields.has(k))) return t;
  }
  return candidates.map((name) => index.inputTypes.get(name)).find((t) => t && t.special);
}

function convertObject(obj, candidates, index) {
  const type = pickInputType(obj, candidates, index);
  if (!type || !type.special) return obj;
  const out = {};
  for (const key of Object.keys(obj)) {
    const slot = type.fields.get(key);
    out[key] = slot && slot.special ? convertValue(obj[key], slot, index) : obj[key];
  }
  return out;
}

function convertValue(value, slot, index) {
  if (!slot.special || value === null || typeof value === 'boolean') return value;
  if (Array.isArray(value)) {
    if (slot.listScalar.size > 0) return value.map((v) => convertScalar(v, slot.listScalar));
    if (slot.listObjects.length > 0) {
      return value.map((v) => (isPlainObject(v) ? convertObject(v, slot.listObjects, index) : v));
    }
    return value;
  }
  if (isPlainObject(value)) {
    return slot.objects.length > 0 ? convertObject(value, slot.objects, index) : value;
  }
  return convertScalar(value, slot.scalar);
}

function convertArguments(args, argSlots, index) {
  if (!args) return {};
  if (!argSlots) return args;
  const out = {};
  for (const key of Object.keys(args)) {
    const slot = argSlots.get(key);
    out[key] = slot ? convertValue(args[key], slot, index) : args[key];
  }
  return out;
}

/** GraphQL selection set -> JSON protocol selection ({field: true} or {field: {arguments, selection}}). */
function convertSelection(fields, outputTypeName, index) {
  const selection = {};
  if (!fields) return selection;
  const outFields = outputTypeName ? index.outputTypes.get(outputTypeName) : undefined;
  for (const f of fields) {
    if (f.args === null && f.selection === null) {
      selection[f.name] = true;
      continue;
    }
    const outField = outFields ? outFields.get(f.name) : undefined;
    const nested = {
      selection: convertSelection(f.selection, outField ? outField.outputType : null, index),
    };
    if (f.args !== null) nested.arguments = convertArguments(f.args, outField ? outField.args : null, index);
    selection[f.name] = nested;
  }
  return selection;
}

/**
 * Translate one GraphQL query text. Returns {json, alias, responseKey, action} where json is the
 * JSON protocol query object, alias the key prisma-client-py reads the result under, responseKey
 * the key the JSON protocol answers with, and action the JSON protocol action.
 */
function translateQuery(queryText, index) {
  const doc = parseGraphQL(queryText);
  if (doc.fields.length === 0) throw new TranslationError('Document contained no operations.');
  // Like the native engine, the last field of the operation is the one executed.
  const field = doc.fields[doc.fields.length - 1];
  const op = index.operations.get(field.name);
  if (!op) {
    const root = doc.operation === 'mutation' ? 'Mutation' : 'Query';
    throw new TranslationError(`Field '${field.name}' not found in enclosing type '${root}'`);
  }
  const raw = RAW_ACTIONS.has(op.action);
  const json = {
    action: op.action,
    query: {
      // Raw parameters stay the JSON text string the engine expects for both protocols.
      arguments: raw ? field.args || {} : convertArguments(field.args, op.args, index),
      selection: convertSelection(field.selection, op.outputType, index),
    },
  };
  if (op.modelName !== null) json.modelName = op.modelName;
  return { json, alias: field.alias || field.name, responseKey: field.name, action: op.action };
}

/**
 * Translate a GraphQL-protocol request body (already JSON-parsed). Returns
 * {body: JSON protocol body, items: [translateQuery results], batch: bool, transaction: bool}.
 */
function translateRequest(body, index) {
  if (body && Array.isArray(body.batch)) {
    const items = body.batch.map((q) => translateQuery(q.query, index));
    const out = { batch: items.map((t) => t.json) };
    if (body.transaction === true) {
      out.transaction = { isolationLevel: body.isolationLevel || body.isolation_level || null };
    }
    return { body: out, items, batch: true, transaction: body.transaction === true };
  }
  if (!body || typeof body.query !== 'string') {
    throw new TranslationError('Invalid request body: expected {"query": ...} or {"batch": [...]}');
  }
  const item = translateQuery(body.query, index);
  return { body: item.json, items: [item], batch: false, transaction: false };
}

// ---------------------------------------------------------------------------------------------
// Responses

// A tagged output value is always printed by the engine as exactly {"$type":"T","value":"..."};
// user data cannot produce that text unescaped (strings escape their quotes and no field can be
// named $type), so a textual replacement is safe and far cheaper than a parse/walk/stringify.
const TAGGED_RE = /\{"\$type":"(DateTime|Json|BigInt|Bytes|Decimal)","value":("(?:[^"\\]|\\.)*")\}/g;

function decimalLiteral(jsonString) {
  const n = Number(JSON.parse(jsonString));
  return Number.isFinite(n) ? JSON.stringify(n) : 'null';
}

/** Replace every tagged value in a JSON text by its GraphQL-protocol spelling. */
function untagText(text) {
  if (text.indexOf('{"$type":"') === -1) return text;
  return text.replace(TAGGED_RE, (_m, type, literal) => (type === 'Decimal' ? decimalLiteral(literal) : literal));
}

/** Same as untagText, for an already parsed value. */
function untagValue(v) {
  if (Array.isArray(v)) return v.map(untagValue);
  if (v === null || typeof v !== 'object') return v;
  if (typeof v.$type === 'string' && 'value' in v && Object.keys(v).length === 2) {
    if (v.$type === 'Decimal') {
      const n = Number(v.value);
      return Number.isFinite(n) ? n : null;
    }
    return v.value;
  }
  const out = {};
  for (const k of Object.keys(v)) out[k] = untagValue(v[k]);
  return out;
}

function typedRawValue(type, value) {
  if (value === null || value === undefined) return { prisma__type: 'null', prisma__value: null };
  if (type.endsWith('-array') && Array.isArray(value)) {
    const elementType = type.slice(0, -'-array'.length);
    return { prisma__type: 'array', prisma__value: value.map((v) => typedRawValue(elementType, v)) };
  }
  return { prisma__type: type, prisma__value: value };
}

/** JSON protocol queryRaw result {columns, types, rows} -> GraphQL protocol typed row objects. */
function rawResultToTyped(result) {
  if (!result || !Array.isArray(result.columns) || !Array.isArray(result.rows)) return result;
  const { columns, types } = result;
  return result.rows.map((row) => {
    const obj = {};
    for (let i = 0; i < columns.length; i += 1) obj[columns[i]] = typedRawValue(types[i], row[i]);
    return obj;
  });
}

/** Translate one item's {"data": {responseKey: value}} (parsed) to {"data": {alias: value}}. */
function translateDataObject(resp, item) {
  if (!resp || !resp.data || typeof resp.data !== 'object') return resp;
  let value = resp.data[item.responseKey];
  if (value === undefined) {
    const keys = Object.keys(resp.data);
    value = keys.length === 1 ? resp.data[keys[0]] : null;
  }
  value = item.action === 'queryRaw' ? rawResultToTyped(value) : untagValue(value);
  return { ...resp, data: { [item.alias]: value } };
}

/**
 * Translate the engine's answer to a single (non-batch) query. `text` is the engine's JSON text;
 * errors pass through `fixErrors`. Returns JSON text in the GraphQL protocol shape.
 */
function translateSingleResponse(text, item, fixErrors) {
  if (item.action !== 'queryRaw') {
    const prefix = `{"data":{"${item.responseKey}":`;
    if (text.startsWith(prefix)) {
      return untagText(`{"data":{${JSON.stringify(item.alias)}:${text.slice(prefix.length)}`);
    }
  }
  const resp = JSON.parse(text);
  if (resp.errors) return JSON.stringify(fixErrors(resp));
  return JSON.stringify(translateDataObject(resp, item));
}

/** Translate the engine's answer to a batch request. */
function translateBatchResponse(text, items, fixErrors) {
  const resp = JSON.parse(text);
  if (Array.isArray(resp.batchResult)) {
    resp.batchResult = resp.batchResult.map((r, i) => (r && r.errors ? fixErrors(r) : translateDataObject(r, items[i])));
  }
  if (resp.errors) return JSON.stringify(fixErrors(resp));
  return JSON.stringify(resp);
}

// ---------------------------------------------------------------------------------------------
// Errors in the engine's shape: {"errors": [{"error": text, "user_facing_error": {...}}]}

function knownError(code, message, meta) {
  return { error: message, user_facing_error: { is_panic: false, message, meta: meta || {}, error_code: code } };
}

function unknownError(message) {
  return { error: message, user_facing_error: { is_panic: false, message, backtrace: null } };
}

/** The error body the native engine answers when a request cannot be parsed/validated. */
function requestErrorBody(err) {
  if (err instanceof GraphQLSyntaxError) {
    return { errors: [unknownError(err.message)] };
  }
  if (err instanceof TranslationError) {
    // Same code the engine gives query validation failures (prisma-client-py: FieldNotFoundError
    // for unknown fields, DataError otherwise).
    return { errors: [knownError('P2009', `Failed to validate the query: ${err.message}`, { query_validation_error: err.message, query_position: '' })] };
  }
  return { errors: [unknownError(String((err && err.message) || err))] };
}

module.exports = {
  translateQuery,
  translateRequest,
  translateSingleResponse,
  translateBatchResponse,
  untagText,
  untagValue,
  rawResultToTyped,
  convertValue,
  knownError,
  unknownError,
  requestErrorBody,
  TranslationError,
};
