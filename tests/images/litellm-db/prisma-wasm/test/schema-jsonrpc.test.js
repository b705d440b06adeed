// TEST-ONLY stand-in tests: JSON-RPC over stdio of the schema engine stand-in, as the Prisma CLI speaks it.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { PassThrough } = require('node:stream');
const { JsonRpcServer } = require('../lib/schema-jsonrpc');
const errors = require('../lib/schema-errors');

function harness(handlers) {
  const input = new PassThrough();
  const output = new PassThrough();
  const received = [];
  const waiters = [];
  let buffered = '';
  output.on('data', (chunk) => {
    buffered += chunk.toString();
    let idx;
    while ((idx = buffered.indexOf('\n')) >= 0) {
      received.push(JSON.parse(buffered.slice(0, idx)));
      buffered = buffered.slice(idx + 1);
    }
    while (waiters.length > 0 && received.length > 0) waiters.shift()(received.shift());
  });
  const server = new JsonRpcServer(handlers, { input, output });
  const done = server.run();
  // The next message the server writes.
  const next = () => new Promise((resolve) => {
    if (received.length > 0) resolve(received.shift());
    else waiters.push(resolve);
  });
  return { input, next, done };
}

test('answers requests in order, with results and 4466 errors', async () => {
  const h = harness({
    ok: async (params) => ({ echoed: params }),
    fail: async () => { throw errors.migrationAlreadyApplied('1_a'); },
  });
  h.input.write('{"id":1,"jsonrpc":"2.0","method":"ok","params":{"a":1}}\n');
  h.input.write('{"id":2,"jsonrpc":"2.0","method":"fail","params":{}}\n');
  h.input.write('{"id":3,"jsonrpc":"2.0","method":"nope"}\n');
  assert.deepEqual(await h.next(), { jsonrpc: '2.0', result: { echoed: { a: 1 } }, id: 1 });
  const failed = await h.next();
  assert.equal(failed.id, 2);
  assert.equal(failed.error.code, 4466);
  assert.equal(failed.error.data.error_code, 'P3008');
  assert.equal((await h.next()).error.code, -32601);
  h.input.end();
  await h.done;
});

test('the engine can call the CLI (print) in the middle of a request', async () => {
  const h = harness({
    diff: async (params, server) => {
      const answer = await server.call('print', { content: '-- This is an empty migration.' });
      return { exitCode: 0, answer };
    },
  });
  h.input.write('{"id":7,"jsonrpc":"2.0","method":"diff","params":{}}\n');
  const print = await h.next();
  assert.equal(print.method, 'print');
  assert.deepEqual(print.params, { content: '-- This is an empty migration.' });
  h.input.write(`${JSON.stringify({ id: print.id, jsonrpc: '2.0', result: {} })}\n`);
  assert.deepEqual(await h.next(), { jsonrpc: '2.0', result: { exitCode: 0, answer: {} }, id: 7 });
  h.input.end();
  await h.done;
});

test('unparsable lines get a parse error, and a missing result is null', async () => {
  const h = harness({ nothing: async () => undefined });
  h.input.write('not json\n');
  assert.equal((await h.next()).error.code, -32700);
  h.input.write('{"id":4,"jsonrpc":"2.0","method":"nothing"}\n');
  assert.deepEqual(await h.next(), { jsonrpc: '2.0', result: null, id: 4 });
  h.input.end();
  await h.done;
});
