'use strict';
/*
 * Preloaded into the relay child by the benchmark (`node -r ./bench/relay-hook.js ...`); not part of the relay.
 * Answers requests from the benchmark over the IPC channel, so that the CPU profile covers exactly one
 * measured window (not the start-up and TypeScript transpilation) and memory is read after a full GC:
 *   {type: 'prof-start', intervalUs}  starts the V8 sampling profiler (in-process inspector session)
 *   {type: 'prof-stop', file}         stops it and writes the .cpuprofile (Chrome DevTools format)
 *   {type: 'gc'}                      runs global.gc() twice (needs --expose-gc) and reports memoryUsage()
 *   {type: 'memory'}                  reports process.memoryUsage() without collecting
 *   {type: 'heap-snapshot', file}     writes a V8 heap snapshot (for finding what a stream costs)
 *   {type: 'count-start'}             starts counting PostgreSQL queries (pg Client#query, by SQL text) and
 *                                     Redis commands (ioredis sendCommand, BullMQ scripts by name)
 *   {type: 'count-stop'}              stops counting and reports the counts
 *   {type: 'loop-start'}              starts measuring the main thread's event loop (utilization and delay)
 *   {type: 'loop-stop'}               stops it and reports utilization (0–1) and delay percentiles in ms
 * Without an IPC channel (a plain start) it does nothing.
 */
const fs = require('node:fs');
const crypto = require('node:crypto');
const inspector = require('node:inspector');
const { setImmediate } = require('node:timers');
const { monitorEventLoopDelay, performance: perf } = require('node:perf_hooks');

/*
 * Call counting. The query/command wrappers are installed on count-start and removed on count-stop, so that
 * measured and profiled runs execute the libraries untouched. BullMQ's Lua scripts are named by their SHA-1,
 * learnt when ioredis defines them (at start-up, hence that wrapper stays).
 */
let counting = null;
const restore = [];
const scriptNames = new Map();
const count = (kind, key) => {
  const map = counting[kind];
  map[key] = (map[key] || 0) + 1;
};

function learnScriptNames() {
  try {
    const Redis = require('ioredis');
    const defineCommand = Redis.prototype.defineCommand;
    Redis.prototype.defineCommand = function namedDefineCommand(name, definition) {
      if (definition && typeof definition.lua === 'string') {
        const sha = crypto.createHash('sha1').update(definition.lua).digest('hex');
        scriptNames.set(sha, String(name).split(':')[0]);
      }
      return defineCommand.call(this, name, definition);
    };
  } catch {
    // no ioredis here
  }
}

function wrap(proto, method, wrapper) {
  const original = proto[method];
  proto[method] = wrapper(original);
  restore.push(() => {
    proto[method] = original;
  });
}

function startCounting() {
  counting = { postgres: {}, redis: {} };
  if (restore.length) return;
  wrap(
    require('pg').Client.prototype,
    'query',
    (query) =>
      function countedQuery(config, ...rest) {
        const text = typeof config === 'string' ? config : config && config.text;
        if (counting && typeof text === 'string') {
          count('postgres', text.replace(/\s+/g, ' ').trim().slice(0, 120));
        }
        return query.call(this, config, ...rest);
      },
  );
  wrap(
    require('ioredis').prototype,
    'sendCommand',
    (sendCommand) =>
      function countedSendCommand(command, ...rest) {
        if (counting && command) {
          let key = command.name;
          if (key === 'evalsha' && command.args && scriptNames.has(String(command.args[0]))) {
            key = `evalsha ${scriptNames.get(String(command.args[0]))}`;
          } else if (key === 'eval') {
            key = 'eval (inline script)';
          }
          count('redis', key);
        }
        return sendCommand.call(this, command, ...rest);
      },
  );
}

function stopCounting() {
  const result = counting;
  counting = null;
  while (restore.length) restore.pop()();
  return result;
}

if (typeof process.send === 'function') {
  learnScriptNames();
  let session = null;
  let loop = null;

  const post = (method, params) =>
    new Promise((resolve, reject) =>
      session.post(method, params, (err, result) => (err ? reject(err) : resolve(result))),
    );

  const handlers = {
    async 'prof-start'(msg) {
      if (session) throw new Error('the profiler is already running');
      session = new inspector.Session();
      session.connect();
      await post('Profiler.enable');
      await post('Profiler.setSamplingInterval', { interval: msg.intervalUs || 1000 });
      await post('Profiler.start');
      return { started: Date.now() };
    },
    async 'prof-stop'(msg) {
      if (!session) throw new Error('the profiler is not running');
      const { profile } = await post('Profiler.stop');
      await post('Profiler.disable');
      session.disconnect();
      session = null;
      fs.writeFileSync(msg.file, JSON.stringify(profile));
      return { file: msg.file, samples: profile.samples.length };
    },
    async gc() {
      if (typeof globalThis.gc !== 'function') throw new Error('start the relay with --expose-gc');
      globalThis.gc();
      await new Promise((resolve) => setImmediate(resolve));
      globalThis.gc();
      return process.memoryUsage();
    },
    async memory() {
      return process.memoryUsage();
    },
    async 'heap-snapshot'(msg) {
      // (Not a signal: Nest's shutdown hooks treat SIGUSR2 as "stop".)
      return { file: require('node:v8').writeHeapSnapshot(msg.file) };
    },
    async 'count-start'() {
      startCounting();
      return { started: Date.now() };
    },
    async 'count-stop'() {
      return stopCounting();
    },
    async 'loop-start'() {
      loop = { delay: monitorEventLoopDelay({ resolution: 1 }), since: perf.eventLoopUtilization() };
      loop.delay.enable();
      return { started: Date.now() };
    },
    async 'loop-stop'() {
      if (!loop) throw new Error('the event loop is not being measured');
      const { delay, since } = loop;
      loop = null;
      delay.disable();
      const ms = (ns) => Math.round(ns / 1e4) / 100;
      return {
        utilization: Math.round(perf.eventLoopUtilization(since).utilization * 1000) / 1000,
        delayMs: { p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max) },
      };
    },
  };

  process.on('message', (msg) => {
    if (!msg || typeof msg.type !== 'string' || !(msg.type in handlers)) return;
    handlers[msg.type](msg).then(
      (result) => process.send({ id: msg.id, result }),
      (e) => process.send({ id: msg.id, error: e instanceof Error ? e.message : String(e) }),
    );
  });
  // The channel must not keep the relay alive (it stops on SIGTERM like any other start).
  process.channel.unref();
}
