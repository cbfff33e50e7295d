import type { EventFormat, StreamCloseReason } from '@app/streams';

/** The agent stream over a WebSocket (websocket.md §1). */
export const AGENT_SOCKET_PATH = '/v1/ws';

/**
 * The largest frame a client may send: a reply's body limit over HTTP (256 KiB, the JSON body middleware's) plus
 * room for `type` and `requestId`. A larger frame closes the socket with 1009 (the `ws` library's `maxPayload`).
 */
export const MAX_CLIENT_FRAME_BYTES = 256 * 1024 + 1024;

/** Close codes (websocket.md §1) and the standard ones the socket uses. */
export const CLOSE = {
  normal: 1000,
  goingAway: 1001,
  policy: 1008,
  tooBig: 1009,
  internal: 1011,
  /** The token is no longer valid (the plugin's "401"): revoked, rotated, disconnected, expired. */
  tokenInvalid: 4401,
  /** Too slow: more than STREAM_MAX_BUFFER_BYTES unsent. */
  tooSlow: 4408,
  /** Too many streams: the address holds MAX_STREAMS_PER_IP, or a newer stream of the token replaced this one. */
  tooManyStreams: 4429,
} as const;

/** The close code for each reason the delivery core ends a stream. */
export function closeCodeFor(reason: StreamCloseReason): number {
  switch (reason) {
    case 'revoked':
    case 'expired':
      return CLOSE.tokenInvalid;
    case 'replaced':
      return CLOSE.tooManyStreams;
    case 'slow_consumer':
      return CLOSE.tooSlow;
    case 'shutdown':
      return CLOSE.goingAway;
    case 'failed':
      return CLOSE.internal;
    case 'client':
      return CLOSE.normal;
  }
}

/**
 * Server → client event frame: `{"type":"event","id":"<seq or empty>","event":…,"data":…}`. The data is the SSE
 * event's JSON as the hub serialised it once per process; the frame of a live `message` is made once per process
 * too (the hub caches each format's frame per event).
 */
export function formatSocketEvent(id: number | string, event: string, json: string): string {
  return `{"type":"event","id":"${id}","event":"${event}","data":${json}}`;
}

/**
 * The heartbeat is a protocol ping, not a frame: the delivery core writes `format.ping` and `WsTransport.write`
 * turns this marker (no frame is ever empty) into `ws.ping()`.
 */
export const SOCKET_PING = '';

export const SOCKET_FORMAT: EventFormat = { frame: formatSocketEvent, ping: SOCKET_PING };

/** An `error` event about a frame the client sent (no id: it is not part of the stream). */
export function frameError(code: string, message: string): string {
  return formatSocketEvent('', 'error', JSON.stringify({ code, message }));
}

/** The outcome of a `reply` frame: what `POST /openclaw/reply` would have answered. */
export function replyResult(requestId: string | null, status: number, body: unknown): string {
  return JSON.stringify({ type: 'reply_result', requestId, status, body });
}
