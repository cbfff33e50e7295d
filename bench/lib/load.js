'use strict';
/*
 * Load generators: a closed-loop run with autocannon (N connections, as fast as the server answers) and an
 * open-loop fixed-rate sender (a request every 1/rate s whatever the server does, over keep-alive agents).
 */
const http = require('node:http');
const { performance } = require('node:perf_hooks');
const { Buffer } = require('node:buffer');
const { setTimeout } = require('node:timers');
const autocannon = require('autocannon');
const { summarize, round, withTimeout } = require('./util');

/**
 * autocannon against POST `path` with `body` (a string in which every `[<id>]` becomes a fresh unique id per
 * request). Latencies are collected from autocannon's per-response event at full resolution (its own
 * histogram rounds to whole milliseconds). `expectBody` (a substring) checks every answer.
 */
async function closedLoop({ port, path, body, connections, durationS, expectBody }) {
  const latencies = [];
  let unexpected = 0;
  let sampleUnexpected = null;
  const opts = {
    url: `http://127.0.0.1:${port}`,
    connections,
    pipelining: 1,
    duration: durationS,
    timeout: 10,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    idReplacement: true,
    requests: [
      {
        method: 'POST',
        path,
        onResponse: (status, resBody) => {
          if (status !== 200 || (expectBody && !String(resBody).includes(expectBody))) {
            unexpected++;
            if (!sampleUnexpected) sampleUnexpected = `${status} ${String(resBody).slice(0, 200)}`;
          }
        },
      },
    ],
  };
  const instance = autocannon(opts);
  instance.on('response', (_client, statusCode, _bytes, responseTime) => {
    if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
  });
  const result = await withTimeout(
    new Promise((resolve, reject) => instance.once('done', resolve).once('error', reject)),
    (durationS + 20) * 1000,
    'autocannon',
  );
  const ok = result['2xx'];
  return {
    connections,
    durationS: result.duration,
    requests: result.requests.total,
    ok2xx: ok,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    unexpectedAnswers: unexpected,
    sampleUnexpected,
    reqPerSec: round(ok / result.duration, 1),
    reqPerSecAutocannonMean: result.requests.average,
    latencyMs: summarize(latencies),
    autocannonLatencyMs: {
      p50: result.latency.p50,
      p99: result.latency.p99,
      max: result.latency.max,
    },
  };
}

/**
 * Open loop: message i is sent at start + i/rate (late timers send what is due at once). `send(i, agent)`
 * does the request and resolves when it is answered. Resolves with the scheduling lag and the answers.
 */
async function fixedRate({ rate, durationS, send, maxSockets = 256 }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets, keepAliveMsecs: 10_000 });
  // for the reason of a failed request: when its socket was last given back, and how many it carried
  agent.on('free', (socket) => {
    socket.benchFreedAt = performance.now();
    socket.benchRequests = (socket.benchRequests ?? 0) + 1;
  });
  const total = Math.round(rate * durationS);
  const inflight = [];
  const lag = [];
  const start = performance.now();
  let i = 0;
  await new Promise((resolve) => {
    const tick = () => {
      const now = performance.now();
      const due = Math.min(total, Math.floor(((now - start) * rate) / 1000) + 1);
      while (i < due) {
        lag.push(now - (start + (i * 1000) / rate));
        inflight.push(send(i, agent).catch((e) => ({ error: e.message })));
        i++;
      }
      if (i >= total) return resolve();
      const nextAt = start + (i * 1000) / rate;
      setTimeout(tick, Math.max(0, nextAt - performance.now()));
    };
    tick();
  });
  const sendSeconds = (performance.now() - start) / 1000;
  // a server slower than the rate answers late: wait for the backlog, within reason
  const answers = await withTimeout(Promise.all(inflight), 90_000, `fixed-rate ${rate}/s answers`);
  agent.destroy();
  return {
    rate,
    sent: total,
    sendSeconds: round(sendSeconds, 2),
    achievedRate: round(total / sendSeconds, 1),
    schedulingLagMs: summarize(lag),
    /** Each message's lag (ms after its due time that it was sent), by index: not for the JSON, too long. */
    lags: lag,
    answers,
  };
}

/**
 * A POST with a prepared body; resolves with {status, ok, t0, t1} (performance.now() before and after), and `text`
 * saying why when not ok: the answer's first 200 characters, or `error: <message>` (status 0) when no answer came
 * (the connection failed, was reset, or nothing within 60 s).
 */
function timedPost(port, path, body, agent, expectBody) {
  return new Promise((resolve) => {
    const buf = Buffer.from(body);
    const t0 = performance.now();
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path,
        agent,
        headers: { 'Content-Type': 'application/json', 'Content-Length': buf.length },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c));
        res.on('end', () => {
          const t1 = performance.now();
          const ok = res.statusCode === 200 && (!expectBody || text.includes(expectBody));
          resolve({ status: res.statusCode, ok, t0, t1, text: ok ? undefined : text.slice(0, 200) });
        });
      },
    );
    req.setTimeout(60_000, () => req.destroy(new Error('no answer within 60 s')));
    req.on('error', (e) => {
      const socket = req.socket;
      const reuse = req.reusedSocket
        ? `; on a kept-alive socket after ${socket?.benchRequests ?? '?'} requests, idle ${
            socket?.benchFreedAt === undefined ? '?' : Math.round(t0 - socket.benchFreedAt)
          } ms before this one`
        : '; on a new connection';
      const why = `error: ${e.code ?? ''} ${e.message}`.trim();
      resolve({ status: 0, ok: false, t0, t1: performance.now(), text: why + reuse });
    });
    req.end(buf);
  });
}

module.exports = { closedLoop, fixedRate, timedPost };
