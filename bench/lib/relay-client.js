'use strict';
/*
 * What the benchmark needs to talk to the relay as Kakao and as an agent: webhook payloads (the callback
 * fixture with the user key, utterance and callbackUrl swapped in), pairing, a strict-enough SSE client, and
 * plain JSON requests over keep-alive agents. Everything on 127.0.0.1.
 */
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { performance } = require('node:perf_hooks');
const { Buffer } = require('node:buffer');
const { setTimeout, clearTimeout } = require('node:timers');
const { WebSocket } = require('ws');

const FIXTURE = path.resolve(
  __dirname,
  '..',
  '..',
  'test',
  'fixtures',
  'kakao',
  'skill-payload-callback.json',
);

/**
 * Builds webhook bodies from the callback fixture by string substitution (cheap enough for 1,000+/s from the
 * load generator). `text` and `callbackUrl` must not need JSON escaping; callbackUrl null = inline mode.
 */
function payloadFactory() {
  const fixture = JSON.parse(fs.readFileSync(FIXTURE, 'utf8'));
  fixture.userRequest.utterance = '__TEXT__';
  fixture.userRequest.user.properties.plusfriendUserKey = '__USER__';
  fixture.userRequest.callbackUrl = '__CALLBACK__';
  const withCallback = JSON.stringify(fixture);
  delete fixture.userRequest.callbackUrl;
  const inline = JSON.stringify(fixture);
  return ({ userKey, text, callbackUrl }) =>
    (callbackUrl ? withCallback.replace('__CALLBACK__', callbackUrl) : inline)
      .replace('__USER__', userKey)
      .replace('__TEXT__', text);
}

/** One JSON request; resolves with status, parsed body (or text) and the time the answer was complete. */
function requestJson(port, method, urlPath, body, { agent, headers = {}, timeoutMs = 10_000 } = {}) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path: urlPath,
        agent: agent ?? false,
        headers: {
          ...(data !== undefined
            ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) }
            : {}),
          ...headers,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c));
        res.on('end', () => {
          clearTimeout(timer);
          let parsed = text;
          try {
            parsed = text ? JSON.parse(text) : null;
          } catch {
            // not JSON: keep the text
          }
          resolve({ status: res.statusCode, body: parsed, text, at: performance.now() });
        });
      },
    );
    const timer = setTimeout(
      () => req.destroy(new Error(`${method} ${urlPath}: no answer in ${timeoutMs} ms`)),
      timeoutMs,
    );
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    if (data !== undefined) req.write(data);
    req.end();
  });
}

/** Pairs a Kakao user as the plugin and the user would: session, `/pair CODE`, status check. */
async function pairUser(port, userKey, makePayload = payloadFactory()) {
  const created = await requestJson(port, 'POST', '/v1/sessions/create', {});
  if (created.status !== 200) throw new Error(`sessions/create answered ${created.status}: ${created.text}`);
  const { sessionToken, pairingCode } = created.body;
  const paired = await requestJson(
    port,
    'POST',
    '/kakao/webhook',
    makePayload({ userKey, text: `/pair ${pairingCode}`, callbackUrl: null }),
  );
  if (paired.status !== 200) throw new Error(`/pair answered ${paired.status}: ${paired.text}`);
  const status = await requestJson(port, 'GET', `/v1/sessions/${sessionToken}/status`);
  if (status.status !== 200 || status.body.status !== 'paired') {
    throw new Error(
      `pairing ${userKey} failed: ${status.status} ${status.text} (webhook said ${paired.text})`,
    );
  }
  return { token: sessionToken, accountId: status.body.accountId, userKey };
}

/**
 * What both stream clients do with an event, whatever the transport: counts per name, `message` ids that went
 * backwards, the `connected` hook that settles `open()`, and the caller's `onEvent({id, event, data}, t)`.
 */
class StreamEvents {
  constructor(noun, port, token, onEvent) {
    this.noun = noun;
    this.port = port;
    this.token = token;
    this.onEvent = onEvent;
    this.counts = Object.create(null);
    this.lastId = null;
    this.idWentBackwards = 0;
    this.closed = false;
  }

  /** Resolves with the client once `connected` arrived; `connect(settle)` is the transport's own part. */
  open(timeoutMs = 15_000) {
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (err) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve(this);
      };
      const timer = setTimeout(() => {
        settle(new Error(`${this.noun} not connected within ${timeoutMs} ms`));
        this.close();
      }, timeoutMs);
      this.connectedHook = () => settle();
      this.connect(settle);
    });
  }

  event(id, event, data, t) {
    this.counts[event] = (this.counts[event] || 0) + 1;
    if (event === 'message') {
      const n = Number(id);
      if (this.lastId !== null && n <= this.lastId) this.idWentBackwards++;
      this.lastId = n;
    }
    if (event === 'connected' && this.connectedHook) {
      this.connectedHook();
      this.connectedHook = null;
    }
    if (this.onEvent) this.onEvent({ id, event, data }, t);
  }

  count(event) {
    return this.counts[event] || 0;
  }
}

/**
 * An agent stream. Splits the body into events on blank lines and reads `id:`, `event:` and `data:` lines.
 * `onEvent(event, t)` gets {id, event, data (string)} and the performance.now() at which it was parsed.
 * `open()` resolves after the `connected` event (or rejects on a non-200 answer or a timeout).
 */
class SseClient extends StreamEvents {
  constructor(port, token, { agent = false, onEvent = null } = {}) {
    super('stream', port, token, onEvent);
    this.agent = agent;
    this.buffer = '';
    this.req = null;
    this.res = null;
  }

  connect(settle) {
    this.req = http.get(
      {
        host: '127.0.0.1',
        port: this.port,
        path: '/v1/events',
        agent: this.agent,
        headers: { Authorization: `Bearer ${this.token}`, Accept: 'text/event-stream' },
      },
      (res) => {
        this.res = res;
        if (res.statusCode !== 200) {
          let text = '';
          res.on('data', (c) => (text += c));
          res.on('end', () => settle(new Error(`stream answered ${res.statusCode}: ${text}`)));
          return;
        }
        res.setEncoding('utf8');
        res.on('data', (chunk) => this.feed(chunk));
        res.on('error', () => undefined);
        res.on('close', () => {
          this.closed = true;
          settle(new Error('stream closed before connected'));
        });
      },
    );
    this.req.on('error', (e) => settle(e));
  }

  feed(chunk) {
    this.buffer += chunk;
    let end;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      let id = null;
      let event = null;
      let data = null;
      for (const line of block.split('\n')) {
        if (line.startsWith('data: ')) data = line.slice(6);
        else if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('id: ')) id = line.slice(4);
      }
      if (event === null) continue; // a `: ping` comment
      this.event(id, event, data, performance.now());
    }
  }

  close() {
    this.closed = true;
    if (this.res) this.res.destroy();
    if (this.req) this.req.destroy();
  }
}

/**
 * The agent stream over a WebSocket (`GET /v1/ws`) with `SseClient`'s interface: `onEvent({id, event, data}, t)`
 * with `data` already parsed (the frame is one JSON object), counts, id order. Sends `{"type":"resume"}` at once so
 * the relay does not wait for a first frame.
 */
class WsStreamClient extends StreamEvents {
  constructor(port, token, { onEvent = null } = {}) {
    super('socket', port, token, onEvent);
    this.socket = null;
  }

  connect(settle) {
    const socket = new WebSocket(`ws://127.0.0.1:${this.port}/v1/ws`, {
      headers: { Authorization: `Bearer ${this.token}` },
      perMessageDeflate: false,
    });
    this.socket = socket;
    socket.on('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => settle(new Error(`socket answered ${res.statusCode}: ${text}`)));
    });
    socket.on('open', () => socket.send('{"type":"resume"}'));
    socket.on('message', (raw) => this.feed(raw));
    socket.on('error', (e) => settle(e));
    socket.on('close', () => {
      this.closed = true;
      settle(new Error('socket closed before connected'));
    });
  }

  feed(raw) {
    const frame = JSON.parse(raw.toString('utf8'));
    if (frame.type !== 'event') return;
    this.event(frame.id, frame.event, frame.data, performance.now());
  }

  close() {
    this.closed = true;
    if (this.socket) this.socket.terminate();
  }
}

module.exports = { payloadFactory, requestJson, pairUser, SseClient, WsStreamClient };
