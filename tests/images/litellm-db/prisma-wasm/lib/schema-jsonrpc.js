// TEST-ONLY stand-in for Prisma's native schema engine (see ../schema-engine.js): JSON-RPC 2.0
// over stdio, one JSON message per line, as the Prisma CLI speaks it to the schema engine.
// Requests are handled one at a time, in order. The engine can also call the CLI: Prisma 5.17's
// `diff` prints its result through a "print" request ({content}) that the CLI answers with {}.
'use strict';

const readline = require('node:readline');
const { toJsonRpcError } = require('./schema-errors');

const PARSE_ERROR = { code: -32700, message: 'Parse error' };
const INVALID_REQUEST = { code: -32600, message: 'Invalid request' };
const METHOD_NOT_FOUND = { code: -32601, message: 'Method not found' };

class JsonRpcServer {
  /**
   * @param {object} handlers method name -> async (params, server) => result
   * @param {{input: NodeJS.ReadableStream, output: NodeJS.WritableStream}} io
   */
  constructor(handlers, io) {
    this.handlers = handlers;
    this.input = io.input;
    this.output = io.output;
    this.queue = Promise.resolve();
    this.pending = new Map();
    this.nextOutgoingId = 1;
  }

  send(message) {
    this.output.write(`${JSON.stringify(message)}\n`);
  }

  /** Call a method of the peer (the CLI) and wait for its answer. */
  call(method, params) {
    const id = this.nextOutgoingId;
    this.nextOutgoingId += 1;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.send({ jsonrpc: '2.0', id, method, params });
    });
  }

  handleLine(line) {
    if (line.trim() === '') return;
    let message;
    try {
      message = JSON.parse(line);
    } catch (_err) {
      this.send({ jsonrpc: '2.0', error: PARSE_ERROR, id: null });
      return;
    }
    if (!message || typeof message !== 'object') {
      this.send({ jsonrpc: '2.0', error: INVALID_REQUEST, id: null });
      return;
    }
    if (typeof message.method !== 'string') {
      this.handleResponse(message);
      return;
    }
    this.queue = this.queue.then(() => this.handleRequest(message));
  }

  handleResponse(message) {
    const waiter = this.pending.get(message.id);
    if (!waiter) return;
    this.pending.delete(message.id);
    if (message.error) waiter.reject(new Error(message.error.message || 'JSON-RPC error'));
    else waiter.resolve(message.result);
  }

  async handleRequest(message) {
    const isNotification = !Object.prototype.hasOwnProperty.call(message, 'id');
    const handler = Object.prototype.hasOwnProperty.call(this.handlers, message.method)
      ? this.handlers[message.method] : null;
    if (!handler) {
      if (!isNotification) this.send({ jsonrpc: '2.0', error: METHOD_NOT_FOUND, id: message.id });
      return;
    }
    try {
      const result = await handler(message.params === undefined ? null : message.params, this);
      if (!isNotification) this.send({ jsonrpc: '2.0', result: result === undefined ? null : result, id: message.id });
    } catch (err) {
      if (!isNotification) this.send({ jsonrpc: '2.0', error: toJsonRpcError(err), id: message.id });
    }
  }

  /** Serve until the input ends and every queued request has been answered. */
  run() {
    return new Promise((resolve) => {
      const lines = readline.createInterface({ input: this.input, crlfDelay: Infinity });
      lines.on('line', (line) => this.handleLine(line));
      lines.on('close', () => {
        this.queue.then(resolve, resolve);
      });
    });
  }
}

module.exports = { JsonRpcServer };
