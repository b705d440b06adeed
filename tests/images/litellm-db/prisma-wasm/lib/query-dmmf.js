// TEST-ONLY stand-in for Prisma's native query engine (LiteLLM database mode in local test images,
// where the native engines cannot be downloaded; production uses the official image's native engine).
//
// Builds, once per process, the lookup tables the GraphQL -> JSON protocol translation needs from
// the DMMF that @prisma/prisma-schema-wasm's get_dmmf returns:
//   - operations: GraphQL root field name ("findUniqueUserOrThrow") -> {modelName, action, args, outputType}
//   - outputTypes: output object type -> field -> {args, outputType}, for nested selections' args
//   - inputTypes: input object type -> {special, fields: field -> Slot, allFields}
// A Slot summarises a field's union of accepted input types. Only a few scalar types are read
// differently by the JSON protocol than by the GraphQL protocol (see query-translate.js), so a Slot
// or input type is `special` when something below it may need rewriting. Only special slots are
// kept: everything else passes through the translation untouched (the common, cheap case).
//
// get_dmmf takes seconds for LiteLLM's schema (10 MB of JSON), and every LiteLLM worker starts its
// own engine, so the (small) pruned index is cached on disk keyed by a hash of the datamodel.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

/** Scalars whose plain JSON spelling means something else under the JSON protocol. */
const SPECIAL_SCALARS = new Set(['Json', 'Bytes', 'BigInt', 'Decimal']);
const INDEX_FORMAT = 1;

/** Summarise a DMMF `inputTypes` union into a Slot. */
function makeSlot(inputTypes) {
  const slot = { scalar: new Set(), listScalar: new Set(), objects: [], listObjects: [], special: false };
  for (const t of inputTypes || []) {
    if (t.location === 'scalar' && SPECIAL_SCALARS.has(t.type)) {
      (t.isList ? slot.listScalar : slot.scalar).add(t.type);
    } else if (t.location === 'inputObjectTypes') {
      (t.isList ? slot.listObjects : slot.objects).push(t.type);
    }
  }
  slot.special = slot.scalar.size > 0 || slot.listScalar.size > 0;
  return slot;
}

function argSlots(args) {
  const map = new Map();
  for (const a of args || []) map.set(a.name, makeSlot(a.inputTypes));
  return map;
}

/**
 * An input type is special when any of its fields is, and a field is special when it accepts a
 * special scalar or a special input type. Input types are recursive (AND/OR/NOT, relation
 * filters), so iterate to a fixpoint.
 */
function propagateSpecial(types) {
  const isSpecial = (name) => {
    const t = types.get(name);
    return t !== undefined && t.special;
  };
  let changed = true;
  while (changed) {
    changed = false;
    for (const t of types.values()) {
      for (const slot of t.fields.values()) {
        if (!slot.special && (slot.objects.some(isSpecial) || slot.listObjects.some(isSpecial))) slot.special = true;
        if (slot.special && !t.special) {
          t.special = true;
          changed = true;
        }
      }
    }
  }
  return isSpecial;
}

function markSpecialArgs(args, isSpecial) {
  for (const slot of args.values()) {
    if (!slot.special && (slot.objects.some(isSpecial) || slot.listObjects.some(isSpecial))) slot.special = true;
  }
}

function onlySpecial(slots) {
  const kept = new Map();
  for (const [name, slot] of slots) if (slot.special) kept.set(name, slot);
  return kept.size > 0 ? kept : null;
}

/** Build the translation index from a parsed DMMF document. */
function buildSchemaIndex(dmmf) {
  const schema = dmmf.schema;
  const fullInput = new Map();
  for (const ns of Object.values(schema.inputObjectTypes || {})) {
    for (const t of ns) {
      const fields = new Map();
      for (const f of t.fields) fields.set(f.name, makeSlot(f.inputTypes));
      fullInput.set(t.name, { name: t.name, fields, special: false });
    }
  }
  const isSpecial = propagateSpecial(fullInput);

  const fullOutput = new Map();
  for (const ns of Object.values(schema.outputObjectTypes || {})) {
    for (const t of ns) {
      const fields = new Map();
      for (const f of t.fields) {
        const args = argSlots(f.args);
        markSpecialArgs(args, isSpecial);
        const outputType = f.outputType && f.outputType.location === 'outputObjectTypes' ? f.outputType.type : null;
        fields.set(f.name, { args, outputType });
      }
      fullOutput.set(t.name, fields);
    }
  }

  // Types that compete with another object type in a special slot need their field names, so the
  // translation can tell which one a given object is.
  const needNames = new Set();
  const noteCandidates = (slot) => {
    const candidates = [...slot.objects, ...slot.listObjects];
    if (slot.special && candidates.length > 1) candidates.forEach((c) => needNames.add(c));
  };
  for (const t of fullInput.values()) t.fields.forEach(noteCandidates);
  for (const fields of fullOutput.values()) for (const f of fields.values()) f.args.forEach(noteCandidates);

  const inputTypes = new Map();
  for (const t of fullInput.values()) {
    if (!t.special && !needNames.has(t.name)) continue;
    inputTypes.set(t.name, {
      name: t.name,
      special: t.special,
      fields: onlySpecial(t.fields) || new Map(),
      allFields: needNames.has(t.name) ? new Set(t.fields.keys()) : null,
    });
  }

  const outputTypes = new Map();
  for (const [name, fields] of fullOutput) {
    const kept = new Map();
    for (const [fname, f] of fields) {
      const args = onlySpecial(f.args);
      if (args || f.outputType) kept.set(fname, { args, outputType: f.outputType });
    }
    if (kept.size) outputTypes.set(name, kept);
  }

  const rootFields = new Map([...(fullOutput.get('Query') || new Map()), ...(fullOutput.get('Mutation') || new Map())]);
  const operations = new Map();
  const addOperation = (fieldName, modelName, action) => {
    const field = rootFields.get(fieldName);
    if (field) operations.set(fieldName, { modelName, action, args: onlySpecial(field.args), outputType: field.outputType });
  };
  for (const mapping of dmmf.mappings.modelOperations || []) {
    for (const [action, fieldName] of Object.entries(mapping)) {
      if (action !== 'model' && typeof fieldName === 'string') addOperation(fieldName, mapping.model, action);
    }
  }
  const other = dmmf.mappings.otherOperations || {};
  for (const name of [...(other.read || []), ...(other.write || [])]) addOperation(name, null, name);

  return { inputTypes, outputTypes, operations };
}

// ---------------------------------------------------------------------------------------------
// (De)serialisation of the index for the on-disk cache

const slotOut = (s) => [[...s.scalar], [...s.listScalar], s.objects, s.listObjects, s.special];
const slotIn = (a) => ({ scalar: new Set(a[0]), listScalar: new Set(a[1]), objects: a[2], listObjects: a[3], special: a[4] });
const slotsOut = (m) => (m ? Object.fromEntries([...m].map(([k, s]) => [k, slotOut(s)])) : null);
const slotsIn = (o) => (o ? new Map(Object.entries(o).map(([k, a]) => [k, slotIn(a)])) : null);

function serializeIndex(index) {
  return JSON.stringify({
    format: INDEX_FORMAT,
    inputTypes: [...index.inputTypes.values()].map((t) => [t.name, t.special, slotsOut(t.fields), t.allFields ? [...t.allFields] : null]),
    outputTypes: Object.fromEntries(
      [...index.outputTypes].map(([name, fields]) => [name, Object.fromEntries([...fields].map(([f, v]) => [f, [slotsOut(v.args), v.outputType]]))]),
    ),
    operations: Object.fromEntries([...index.operations].map(([name, op]) => [name, [op.modelName, op.action, slotsOut(op.args), op.outputType]])),
  });
}

function deserializeIndex(text) {
  const raw = JSON.parse(text);
  if (raw.format !== INDEX_FORMAT) throw new Error('index format mismatch');
  return {
    inputTypes: new Map(
      raw.inputTypes.map(([name, special, fields, allFields]) => [name, { name, special, fields: slotsIn(fields) || new Map(), allFields: allFields ? new Set(allFields) : null }]),
    ),
    outputTypes: new Map(
      Object.entries(raw.outputTypes).map(([name, fields]) => [name, new Map(Object.entries(fields).map(([f, [args, outputType]]) => [f, { args: slotsIn(args), outputType }]))]),
    ),
    operations: new Map(
      Object.entries(raw.operations).map(([name, [modelName, action, args, outputType]]) => [name, { modelName, action, args: slotsIn(args), outputType }]),
    ),
  };
}

/** Create the cache directory if needed; refuse one another user owns (e.g. pre-made in /tmp). */
function usableCacheDir(dir) {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = fs.statSync(dir);
    return typeof process.getuid !== 'function' || st.uid === process.getuid();
  } catch (_e) {
    return false;
  }
}

/**
 * The index for `datamodel`: from the cache directory when a valid entry exists, else built from
 * getDmmf(datamodel) and stored there (best effort: an unwritable cache only costs time).
 */
function loadSchemaIndex(datamodel, { getDmmf, cacheDir, engineVersion, onCacheError }) {
  const key = crypto.createHash('sha256').update(`${INDEX_FORMAT}\0${engineVersion}\0${datamodel}`).digest('hex');
  const file = cacheDir && usableCacheDir(cacheDir) ? path.join(cacheDir, `qe-index-${key.slice(0, 32)}.json`) : null;
  if (file) {
    try {
      return { index: deserializeIndex(fs.readFileSync(file, 'utf8')), cached: true };
    } catch (e) {
      if (e.code !== 'ENOENT' && onCacheError) onCacheError(e);
    }
  }
  const index = buildSchemaIndex(JSON.parse(getDmmf(datamodel)));
  if (file) {
    try {
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, serializeIndex(index), { mode: 0o600 });
      fs.renameSync(tmp, file);
    } catch (e) {
      if (onCacheError) onCacheError(e);
    }
  }
  return { index, cached: false };
}

module.exports = { buildSchemaIndex, serializeIndex, deserializeIndex, loadSchemaIndex, makeSlot, SPECIAL_SCALARS };
