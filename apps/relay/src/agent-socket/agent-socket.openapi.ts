import type { OpenAPIObject } from '@nestjs/swagger';
import { AGENT_SOCKET_PATH } from './agent-socket-format';

type OperationObject = NonNullable<OpenAPIObject['paths'][string]['get']>;

const ERROR = { 'application/json': { schema: { $ref: '#/components/schemas/ErrorBodyDto' } } };

/**
 * `GET /v1/ws` in the OpenAPI document: a WebSocket upgrade, which no controller serves (the gateway does), so it
 * is written here: the upgrade's answers (101, or the uniform error body) and the frames in the description.
 */
export const AGENT_SOCKET_DOCS: { path: string; operation: OperationObject } = {
  path: AGENT_SOCKET_PATH,
  operation: {
    tags: ['agent'],
    operationId: 'agentSocket',
    summary: 'The agent stream over a WebSocket',
    description: [
      'A WebSocket upgrade (`Connection: Upgrade`, `Upgrade: websocket`) with the token in `Authorization: Bearer` ' +
        '(session token, account relay token, or a token of POST /v1/auth/token; not `?token=`). The same stream as ' +
        'GET /v1/events — same events, ids, replay, exactly-once delivery, caps and re-checks — as JSON text frames.',
      '',
      'Server → client: `{"type":"event","id":"<seq>","event":"connected|message|pairing_complete|pairing_expired|error",' +
        '"data":{…}}` with exactly the data of the SSE event (an `error` about a bad client frame has `id` ""); ' +
        '`{"type":"reply_result","requestId","status","body"}` answering a `reply` frame with the status and body ' +
        'POST /openclaw/reply would have answered.',
      '',
      'Client → server: `{"type":"resume","lastEventId":"N"}` as the first frame (optional; means Last-Event-ID; ' +
        '`{"type":"resume"}` starts at once without one — without any first frame the stream starts after 1 s; a ' +
        '`Last-Event-ID` header on the upgrade is honoured too and starts at once); `{"type":"ack","id":"N"}` ' +
        '(optional: confirms every message up to N, never beyond the last one written); ' +
        '`{"type":"reply","requestId","messageId","response"}` handled exactly like POST /openclaw/reply (same ' +
        'validation, rate limit, codes). A frame that is not JSON text, has an unknown type, or a malformed resume ' +
        'or ack is answered with an `error` event `BAD_FRAME`; the tenth closes the socket with 1008; a frame over ' +
        '257 KiB closes it with 1009.',
      '',
      'Protocol pings every SSE_HEARTBEAT_SECONDS; a client that leaves two unanswered is dropped. Close codes: ' +
        '4401 token no longer valid (after a `pairing_expired` event: session disconnected or expired, relay token ' +
        'rotated, API key revoked, token expired), 4408 too slow (more than STREAM_MAX_BUFFER_BYTES unsent; resume ' +
        'with the last id seen), 4429 too many streams (after an `error` event: TOO_MANY_STREAMS, the address holds ' +
        'MAX_STREAMS_PER_IP; or STREAM_REPLACED, a newer stream of the token took its place), 1001 relay shutting ' +
        'down, 1011 the stream failed.',
    ].join('\n'),
    security: [{ agent: [] }],
    parameters: [
      {
        name: 'Last-Event-ID',
        in: 'header',
        required: false,
        description: 'Resume after this message sequence number (as the `resume` frame)',
        schema: { type: 'string' },
      },
    ],
    responses: {
      '101': { description: 'Switching Protocols: the socket is open; the first event is `connected`' },
      '401': {
        description:
          'TOKEN_MISSING, INVALID_TOKEN, SESSION_EXPIRED or SESSION_DISCONNECTED; for a token of POST /v1/auth/token ' +
          'also TOKEN_EXPIRED or TOKEN_REVOKED. No socket is opened.',
        content: ERROR,
      },
      '404': { description: 'NOT_FOUND: not a WebSocket upgrade', content: ERROR },
      '429': {
        description:
          'RATE_LIMITED: RATE_LIMIT_STREAM_CONNECTS_PER_MINUTE connects per token (shared with GET /v1/events), with ' +
          'Retry-After. (An address at MAX_STREAMS_PER_IP is told after the upgrade: close 4429.)',
        content: ERROR,
      },
    },
  },
};
