'use strict';
/*
 * Child processes of the benchmark (relay instances, the baseline server): started with an IPC channel, logs
 * to a file, readiness polled over HTTP, and always killed when the benchmark ends, however it ends.
 */
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { setTimeout, clearTimeout } = require('node:timers');
const { sleep } = require('./util');

const ROOT = path.resolve(__dirname, '..', '..');
const children = new Set();

/** SIGKILL whatever is still running. Synchronous, so it also works from process.on('exit'). */
function killAllChildren() {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  children.clear();
}

let guardsInstalled = false;
function installExitGuards() {
  if (guardsInstalled) return;
  guardsInstalled = true;
  process.on('exit', killAllChildren);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      console.error(`\nbench: ${signal}, stopping children`);
      killAllChildren();
      process.exit(130);
    });
  }
}

function httpGetStatus(port, urlPath, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const req = http.get(
      { host: '127.0.0.1', port, path: urlPath, agent: false, timeout: timeoutMs },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

function tail(file, lines = 15) {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/**
 * Spawns `node <args>` with `env`, stdout+stderr appended to `logFile`, and an IPC channel (the relay hook
 * answers requests on it). Resolves once `readyPath` answers 200, rejects if the process dies first.
 */
async function startNodeChild({ name, args, env, port, readyPath, logFile, readyTimeoutMs = 60_000 }) {
  installExitGuards();
  const log = fs.openSync(logFile, 'a');
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env,
    stdio: ['ignore', log, log, 'ipc'],
  });
  fs.closeSync(log);
  children.add(child);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  child.on('exit', () => children.delete(child));

  const pending = new Map();
  let seq = 0;
  child.on('message', (msg) => {
    const entry = msg && pending.get(msg.id);
    if (!entry) return;
    pending.delete(msg.id);
    if (msg.error) entry.reject(new Error(`${name}: ${msg.error}`));
    else entry.resolve(msg.result);
  });

  const handle = {
    name,
    child,
    pid: child.pid,
    port,
    logFile,
    exited,
    /** Asks the preloaded relay hook to do something (start/stop the profiler, collect garbage, report memory). */
    request(type, payload = {}, timeoutMs = 30_000) {
      const id = ++seq;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${name}: no answer to ${type} within ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, {
          resolve: (v) => {
            clearTimeout(timer);
            resolve(v);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        });
        child.send({ id, type, ...payload }, (err) => {
          if (err) {
            clearTimeout(timer);
            pending.delete(id);
            reject(err);
          }
        });
      });
    },
    /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill('SIGTERM');
      const outcome = await Promise.race([exited, sleep(graceMs).then(() => null)]);
      if (outcome) return outcome;
      child.kill('SIGKILL');
      return exited;
    },
  };

  const started = Date.now();
  let died = null;
  exited.then((r) => (died = r));
  while (Date.now() - started < readyTimeoutMs) {
    if (died) {
      throw new Error(
        `${name} exited during start-up (code ${died.code}, signal ${died.signal}); last log lines:\n${tail(logFile)}`,
      );
    }
    if ((await httpGetStatus(port, readyPath)) === 200) {
      handle.startupMs = Date.now() - started;
      return handle;
    }
    await sleep(100);
  }
  await handle.stop(2000);
  throw new Error(`${name} not ready within ${readyTimeoutMs} ms; last log lines:\n${tail(logFile)}`);
}

module.exports = { startNodeChild, killAllChildren, installExitGuards, ROOT };
