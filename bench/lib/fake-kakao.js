'use strict';
/*
 * A fake Kakao callback endpoint: answers every POST with {"status":"SUCCESS"} and records, per path, the
 * performance.now() at which the request body was complete (the relay's callback POST "arrived").
 */
const http = require('node:http');
const { Buffer } = require('node:buffer');
const { performance } = require('node:perf_hooks');

async function startFakeKakao() {
  const received = new Map();
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const at = performance.now();
      const entry = received.get(req.url);
      if (entry) entry.count++;
      else received.set(req.url, { at, count: 1, body });
      const answer = JSON.stringify({ taskId: 'bench', status: 'SUCCESS', message: 'ok' });
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(answer) });
      res.end(answer);
    });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    port: server.address().port,
    received,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

module.exports = { startFakeKakao };
