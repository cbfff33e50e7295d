/*
 * The push sender's thread (`PushSender`): signs and POSTs push attempts off the relay's event loop. Loaded by a
 * worker thread only; it loads nothing of Nest, just the signing and the pinned POST (`@app/reply/pinned-post`).
 */
import http from 'node:http';
import https from 'node:https';
import { parentPort } from 'node:worker_threads';
import { type PinnedAnswer, pinnedPost } from '@app/reply/pinned-post';
import { signPush } from './push-signing';
// Types only: push-send.ts itself (Nest's decorators) is not loaded here.
import type { PushAnswer, PushSendRequest, PushSendResult } from './push-send';

/** Keep-alive agents per pinned address and origin (the connection goes to the address that passed). */
const agents = new Map<string, http.Agent>();

function agentFor(url: URL, address: string): http.Agent {
  const key = `${url.protocol}//${url.host}@${address}`;
  let agent = agents.get(key);
  if (!agent) {
    if (agents.size > 1000) {
      for (const a of agents.values()) a.destroy();
      agents.clear();
    }
    // Idle sockets kept for a whole burst (up to 128 attempts at once from the live path, more from the queue):
    // with 32, every burst closed its extra sockets after use and connected anew for the next.
    const options = { keepAlive: true, maxSockets: 256, maxFreeSockets: 256, timeout: 30_000 };
    agent = url.protocol === 'https:' ? new https.Agent(options) : new http.Agent(options);
    agents.set(key, agent);
  }
  return agent;
}

/** A pinned POST's answer reduced to what crosses the thread boundary. */
function pushAnswerOf(answer: PinnedAnswer): PushAnswer {
  if (answer.kind === 'no-answer') return answer;
  const retryAfter = answer.headers['retry-after'];
  return {
    kind: 'answer',
    status: answer.status,
    retryAfter: typeof retryAfter === 'string' ? retryAfter : null,
    text: answer.text,
  };
}

async function send(request: PushSendRequest): Promise<PushSendResult> {
  const url = new URL(request.url);
  const headers = signPush(request.secrets, request.webhookId, new Date(request.signedAt), request.body);
  const started = performance.now();
  const answer = await pinnedPost(
    url,
    request.address,
    request.body,
    { ...headers, 'user-agent': 'kakao-relay-push' },
    request.timeoutMs,
    agentFor(url, request.address.address),
  );
  return { id: request.id, answer: pushAnswerOf(answer), latencyMs: performance.now() - started };
}

/** Answers that ended in this turn of the thread's loop, sent back together once its I/O is handled. */
let answers: PushSendResult[] = [];

function answer(result: PushSendResult): void {
  if (answers.length === 0) {
    setImmediate(() => {
      const batch = answers;
      answers = [];
      parentPort?.postMessage(batch);
    });
  }
  answers.push(result);
}

parentPort?.on('message', (requests: PushSendRequest[]) => {
  for (const request of requests) {
    send(request).then(answer, (e: Error) =>
      answer({
        id: request.id,
        answer: { kind: 'no-answer', error: `push sender: ${e.message}` },
        latencyMs: 0,
      }),
    );
  }
});
