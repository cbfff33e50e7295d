#!/usr/bin/env node
'use strict';
/*
 * kakao-relay-tunnel: the program's end of a kakao-relay webhook tunnel (websocket.md §3).
 * Connects to GET /ws/{id} of the relay with the tunnel token, prints the webhook URL, forwards every request to
 * the target (method, suffix path + query, headers, body bytes) and sends the target's answer back. Plain CommonJS,
 * `ws` and Node's http/https only, so it runs without a build.
 */
const { Buffer } = require('node:buffer');
const http = require('node:http');
const https = require('node:https');
const { setTimeout } = require('node:timers');
const { URL } = require('node:url');
const WebSocket = require('ws');

const HELP = `Usage: kakao-relay-tunnel --server-url <url> --token <tunnel token> --target-url <url> [options]

Forwards the webhooks of a kakao-relay tunnel to a local program.

Options:
  --server-url <url>     The relay, e.g. https://relay.example.com (env KAKAO_RELAY_SERVER_URL)
  --token <token>        The tunnel token of POST /v1/tunnels or GET /new; it names its tunnel
                         (env KAKAO_RELAY_TUNNEL_TOKEN)
  --target-url <url>     Where requests go, e.g. http://localhost:3000; the webhook's suffix path and
                         query are appended to it (env KAKAO_RELAY_TARGET_URL)
  --tunnel-id <uuid>     The tunnel's id, only for a token that does not name it
  --timeout-ms <n>       How long the target may take before the caller gets 502 (default 20000)
  --max-backoff-ms <n>   Longest wait between reconnects (default 30000; doubling from 500)
  --quiet                Print only the webhook URL and errors, not one line per request
  -h, --help             This text

Exit codes: 0 after SIGINT/SIGTERM, 1 on bad arguments, 2 when the relay refuses the token (or the tunnel
is gone), 3 when the tunnel was deleted while connected.`;

function fail(message, code) {
  process.stderr.write(`kakao-relay-tunnel: ${message}\n`);
  process.exit(code);
}

function parseArgs(argv) {
  const options = {
    serverUrl: process.env.KAKAO_RELAY_SERVER_URL,
    token: process.env.KAKAO_RELAY_TUNNEL_TOKEN,
    targetUrl: process.env.KAKAO_RELAY_TARGET_URL,
    tunnelId: undefined,
    timeoutMs: 20000,
    maxBackoffMs: 30000,
    quiet: false,
  };
  const names = {
    '--server-url': 'serverUrl',
    '--token': 'token',
    '--target-url': 'targetUrl',
    '--tunnel-id': 'tunnelId',
    '--timeout-ms': 'timeoutMs',
    '--max-backoff-ms': 'maxBackoffMs',
  };
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    if (arg === '-h' || arg === '--help') {
      process.stdout.write(`${HELP}\n`);
      process.exit(0);
    }
    if (arg === '--quiet') {
      options.quiet = true;
      continue;
    }
    let value;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    const key = names[arg];
    if (!key) fail(`unknown option ${arg} (see --help)`, 1);
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) fail(`${arg} needs a value`, 1);
    }
    options[key] = key === 'timeoutMs' || key === 'maxBackoffMs' ? Number(value) : value;
  }
  for (const [flag, key] of [
    ['--server-url', 'serverUrl'],
    ['--token', 'token'],
    ['--target-url', 'targetUrl'],
  ]) {
    if (!options[key]) fail(`${flag} is required (see --help)`, 1);
  }
  for (const key of ['serverUrl', 'targetUrl']) {
    try {
      const url = new URL(options[key]);
      if (!/^(http|https|ws|wss):$/.test(url.protocol)) throw new Error();
    } catch {
      fail(`${key === 'serverUrl' ? '--server-url' : '--target-url'} must be an http(s) URL`, 1);
    }
  }
  for (const key of ['timeoutMs', 'maxBackoffMs']) {
    if (!Number.isInteger(options[key]) || options[key] < 1)
      fail(`--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} must be a positive integer`, 1);
  }
  const named = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\./i.exec(options.token);
  options.tunnelId = options.tunnelId || (named && named[1]);
  if (!options.tunnelId) fail('the token does not name its tunnel: give --tunnel-id', 1);
  return options;
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Sends one forwarded request to the target; resolves to the response frame. */
function forward(options, frame) {
  return new Promise((resolve) => {
    const base = new URL(options.targetUrl);
    const basePath = base.pathname.replace(/\/+$/, '');
    const target = new URL(`${base.protocol}//${base.host}${basePath}${frame.path}`);
    const body = Buffer.from(frame.body || '', 'base64');
    const headers = {};
    for (const [name, value] of Object.entries(frame.headers || {})) {
      if (HOP_BY_HOP.has(name) || name === 'host' || name === 'content-length') continue;
      headers[name] = value;
    }
    headers.host = target.host;
    if (body.length > 0 || !['GET', 'HEAD', 'DELETE'].includes(frame.method))
      headers['content-length'] = String(body.length);
    const client = target.protocol === 'https:' ? https : http;
    const started = Date.now();
    const req = client.request(
      target,
      { method: frame.method, headers, timeout: options.timeoutMs },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const out = {};
          for (const [name, value] of Object.entries(res.headers)) {
            if (HOP_BY_HOP.has(name) || name === 'content-length' || value === undefined) continue;
            out[name] = value;
          }
          log(options, `${frame.method} ${frame.path} → ${res.statusCode} (${Date.now() - started} ms)`);
          resolve({
            type: 'response',
            id: frame.id,
            status: res.statusCode,
            headers: out,
            body: Buffer.concat(chunks).toString('base64'),
          });
        });
        res.on('error', () => resolve(badGateway(options, frame, 'the target broke off its answer')));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve(badGateway(options, frame, `the target is unreachable: ${e.message}`)));
    req.end(body);
  });
}

function badGateway(options, frame, message) {
  process.stderr.write(`kakao-relay-tunnel: ${frame.method} ${frame.path}: ${message}\n`);
  const body = JSON.stringify({ statusCode: 502, code: 'TUNNEL_TARGET_UNREACHABLE', message });
  return {
    type: 'response',
    id: frame.id,
    status: 502,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: Buffer.from(body).toString('base64'),
  };
}

function log(options, line) {
  if (!options.quiet) process.stdout.write(`${line}\n`);
}

function run(options) {
  const wsUrl = new URL(options.serverUrl);
  wsUrl.protocol = wsUrl.protocol === 'https:' || wsUrl.protocol === 'wss:' ? 'wss:' : 'ws:';
  wsUrl.pathname = `${wsUrl.pathname.replace(/\/+$/, '')}/ws/${options.tunnelId}`;
  let backoff = 500;
  let stopping = false;
  let socket = null;
  let printedUrl = null;

  const stop = () => {
    stopping = true;
    if (socket) socket.close(1000);
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  const connect = () => {
    socket = new WebSocket(wsUrl, { headers: { Authorization: `Bearer ${options.token}` } });
    socket.on('unexpected-response', (req, res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => {
        req.destroy();
        let detail = text;
        try {
          detail = JSON.parse(text).message || text;
        } catch {
          // not JSON
        }
        if (res.statusCode === 401 || res.statusCode === 403 || res.statusCode === 404) {
          fail(`the relay refused the tunnel token (${res.statusCode}): ${detail}`, 2);
        }
        process.stderr.write(
          `kakao-relay-tunnel: the relay answered ${res.statusCode}: ${detail}; retrying\n`,
        );
        retry();
      });
    });
    socket.on('open', () => {
      backoff = 500;
    });
    socket.on('message', (data) => {
      let frame;
      try {
        frame = JSON.parse(data.toString());
      } catch {
        return;
      }
      if (frame.type === 'hello') {
        if (printedUrl !== frame.webhookUrl) {
          printedUrl = frame.webhookUrl;
          process.stdout.write(`Webhook URL: ${frame.webhookUrl}\n`);
          log(options, `Forwarding to ${options.targetUrl} (${frame.mode} tunnel)`);
        } else {
          log(options, 'Reconnected');
        }
        return;
      }
      if (frame.type !== 'request' || typeof frame.id !== 'string') return;
      const current = socket;
      void forward(options, frame).then((answer) => {
        if (current.readyState === WebSocket.OPEN) current.send(JSON.stringify(answer));
      });
    });
    socket.on('close', (code, reason) => {
      if (stopping) return;
      if (code === 4404) fail('the tunnel was deleted', 3);
      const why =
        code === 4409
          ? 'another connection took the tunnel'
          : `closed (${code}${reason.length ? ` ${reason}` : ''})`;
      process.stderr.write(`kakao-relay-tunnel: ${why}; reconnecting in ${backoff} ms\n`);
      retry();
    });
    socket.on('error', (e) => {
      if (socket.readyState === WebSocket.CONNECTING) {
        process.stderr.write(`kakao-relay-tunnel: cannot reach the relay: ${e.message}\n`);
      }
    });
  };

  let timer = null;
  const retry = () => {
    if (stopping || timer) return;
    const wait = backoff;
    backoff = Math.min(backoff * 2, options.maxBackoffMs);
    timer = setTimeout(() => {
      timer = null;
      connect();
    }, wait);
  };
  connect();
}

if (require.main === module) run(parseArgs(process.argv.slice(2)));

module.exports = { parseArgs, forward };
