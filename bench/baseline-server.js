'use strict';
/*
 * The benchmark's baseline: the least a Node service can do for a Kakao webhook and still "store before it
 * answers". A bare `node:http` server that reads the body, JSON.parses it, does one PostgreSQL INSERT (pg Pool
 * of the relay's default size, its own table `baseline_messages` in the bench database; the callback URL is
 * unique like the relay's idempotency key) and answers {"version":"2.0","useCallback":true}.
 * No framework, no validation, no queue, no fan-out. Env: PORT, DATABASE_URL, DATABASE_POOL_SIZE.
 * GET /health/ready answers 200 once the table exists.
 */
const http = require('node:http');
const { Buffer } = require('node:buffer');
const { URL } = require('node:url');
const { Client, Pool } = require('pg');

const port = Number(process.env.PORT || 8090);
const databaseUrl =
  process.env.DATABASE_URL || 'postgres://postgres:postgres@127.0.0.1:5432/kakao_relay_bench';
const poolSize = Number(process.env.DATABASE_POOL_SIZE || 20);

const ANSWER = Buffer.from(JSON.stringify({ version: '2.0', useCallback: true }));
const INSERT = `INSERT INTO baseline_messages (user_key, text, callback_url, payload) VALUES ($1, $2, $3, $4::jsonb)`;

async function ensureDatabase() {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.slice(1));
  url.pathname = '/postgres';
  const admin = new Client({ connectionString: url.toString() });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount === 0) {
      await admin.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`).catch((e) => {
        if (e.code !== '42P04') throw e; // created meanwhile by the relay
      });
    }
  } finally {
    await admin.end();
  }
}

async function main() {
  await ensureDatabase();
  const pool = new Pool({ connectionString: databaseUrl, max: poolSize });
  await pool.query(`CREATE TABLE IF NOT EXISTS baseline_messages (
    id bigserial PRIMARY KEY,
    user_key text NOT NULL,
    text text NOT NULL,
    callback_url text UNIQUE,
    payload jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
  )`);

  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && (req.url === '/health' || req.url === '/health/ready')) {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"status":"ok"}');
      return;
    }
    if (req.method !== 'POST') {
      res.writeHead(404).end();
      return;
    }
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      let payload;
      try {
        payload = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        res.writeHead(400).end();
        return;
      }
      const user = payload.userRequest && payload.userRequest.user;
      const userKey = (user && user.properties && user.properties.plusfriendUserKey) || (user && user.id);
      pool
        .query(INSERT, [
          userKey,
          payload.userRequest.utterance,
          payload.userRequest.callbackUrl || null,
          JSON.stringify(payload),
        ])
        .then(
          () => {
            res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': ANSWER.length });
            res.end(ANSWER);
          },
          (e) => {
            res.writeHead(500, { 'Content-Type': 'text/plain' });
            res.end(e.message);
          },
        );
    });
  });
  server.keepAliveTimeout = 65_000;
  server.listen(port, '127.0.0.1');

  const stop = () => {
    server.close();
    server.closeAllConnections();
    pool.end().finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((e) => {
  console.error(`baseline-server: ${e.message}`);
  process.exit(1);
});
