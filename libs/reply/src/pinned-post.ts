/*
 * The pinned POST, shared by the callback proxy and push delivery. Nothing of Nest here: the push sender's worker
 * thread loads this file, and Nest with rxjs would add ~370 modules, ~200 ms and ~10 MB to that thread's start.
 */
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { ResolvedAddress } from '@app/core';

const MAX_ANSWER_BYTES = 64 * 1024;

/** What came back from one pinned POST: the answer (status, headers, at most 64 KiB of body) or why none came. */
export type PinnedAnswer =
  | { kind: 'answer'; status: number; headers: http.IncomingHttpHeaders; text: string }
  | { kind: 'no-answer'; error: string };

/**
 * One POST to the address a URL policy approved (pinned through the socket's lookup, so a second DNS answer
 * cannot redirect it), never following redirects, within a time limit, reading at most 64 KiB of the answer.
 * Shared by the callback proxy and push delivery (`@app/push`).
 */
export function pinnedPost(
  url: URL,
  address: ResolvedAddress,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
  /** A keep-alive agent whose sockets all go to `address` (push); none: one connection per request. */
  agent: http.Agent | false = false,
): Promise<PinnedAnswer> {
  const lookup: LookupFunction = (_host, options, callback) => {
    if ((options as { all?: boolean }).all) {
      (callback as unknown as (e: null, a: ResolvedAddress[]) => void)(null, [address]);
    } else {
      callback(null, address.address, address.family);
    }
  };
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise<PinnedAnswer>((resolve) => {
    let settled = false;
    const done = (result: PinnedAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const req = transport.request(
      url,
      {
        method: 'POST',
        lookup,
        agent,
        headers: { ...headers, 'Content-Length': Buffer.byteLength(body) },
      },
      (res) => {
        const status = res.statusCode ?? 0;
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size <= MAX_ANSWER_BYTES) chunks.push(chunk);
          else res.destroy();
        });
        const finish = () =>
          done({
            kind: 'answer',
            status,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          });
        res.on('end', finish);
        res.on('close', finish);
        res.on('error', finish);
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      done({ kind: 'no-answer', error: `no answer within ${timeoutMs} ms` });
    }, timeoutMs);
    req.on('error', (e) => done({ kind: 'no-answer', error: `network error: ${e.message}` }));
    req.end(body);
  });
}
