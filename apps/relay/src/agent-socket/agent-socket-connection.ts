import type { IncomingMessage } from 'node:http';
import type { RawData, WebSocket } from 'ws';
import { TooManyStreamsError } from '@app/core';
import type { AgentPrincipal } from '@app/pairing';
import type { ReplyOutcome } from '@app/reply';
import { parseLastEventId } from '@app/streams';
import { CLOSE, frameError, replyResult } from './agent-socket-format';
import { WsTransport } from './ws-transport';

/** What the upgrade gate found out about the client (see `AgentSocketGateway`). */
export interface AgentSocketUpgrade {
  principal: AgentPrincipal;
  /** The bearer token, kept to authenticate each `reply` as `POST /openclaw/reply` would. */
  token: string;
  clientAddress: string;
  /** The upgrade's `Last-Event-ID` header, when sent: the stream starts at once, no `resume` awaited. */
  lastEventId: number | null;
}

/** What a connection needs from the application. */
export interface AgentSocketDeps {
  /** `StreamHub.open`. */
  openStream(
    principal: AgentPrincipal,
    transport: WsTransport,
    clientAddress: string,
    lastEventId: number | null,
  ): Promise<void>;
  /** `ReplyCommand.run`. */
  reply(token: string, body: unknown): Promise<ReplyOutcome>;
  warn(message: string): void;
  /** How long the stream waits for a first `resume` frame before starting without one. */
  readonly resumeWaitMs: number;
}

/** Frames the client may get wrong before the socket is closed with 1008. */
export const BAD_FRAMES_MAX = 10;
const REQUEST_ID_MAX = 200;

type Frame = { type: string } & Record<string, unknown>;

/**
 * One agent socket: the client's frames (`resume`, `ack`, `reply`) and the stream's start. The stream itself is
 * the delivery core's (`StreamHub.open` with a `WsTransport`), the same as for SSE.
 *
 * `resume` means `Last-Event-ID` and must be the first frame; so, unless the upgrade carried a `Last-Event-ID`
 * header, the stream starts at the first frame or after `resumeWaitMs`, whichever comes first. A client that does
 * not resume can send `{"type":"resume"}` (no id) to start at once. A bad frame (not JSON text, unknown type,
 * malformed `resume` or `ack`) is answered with an `error` event without an id (`BAD_FRAME`); the
 * `BAD_FRAMES_MAX`-th closes the socket with 1008. A malformed `reply` is answered in its `reply_result` (400, as
 * over HTTP).
 */
export class AgentSocketConnection {
  readonly transport: WsTransport;
  private state: 'waiting' | 'streaming' | 'closed' = 'waiting';
  private waitTimer: NodeJS.Timeout | null = null;
  private badFrames = 0;

  constructor(
    private readonly socket: WebSocket,
    request: IncomingMessage,
    private readonly upgrade: AgentSocketUpgrade,
    private readonly deps: AgentSocketDeps,
  ) {
    this.transport = new WsTransport(socket, request.socket);
    socket.on('message', (data, isBinary) => this.onFrame(data, isBinary));
    socket.on('pong', () => this.transport.alive());
    socket.once('close', () => this.onClose());
    if (upgrade.lastEventId !== null) this.start(upgrade.lastEventId);
    else {
      this.waitTimer = setTimeout(() => this.start(null), deps.resumeWaitMs);
      this.waitTimer.unref();
    }
  }

  private start(lastEventId: number | null): void {
    if (this.state !== 'waiting') return;
    this.state = 'streaming';
    if (this.waitTimer) clearTimeout(this.waitTimer);
    this.waitTimer = null;
    const { principal, clientAddress } = this.upgrade;
    this.deps.openStream(principal, this.transport, clientAddress, lastEventId).catch((e: unknown) => {
      if (e instanceof TooManyStreamsError) {
        this.send(frameError(e.code, e.message));
        this.transport.close(CLOSE.tooManyStreams);
        return;
      }
      this.deps.warn(`agent socket stream failed: ${(e as Error).message}`);
      this.transport.close(CLOSE.internal);
    });
  }

  private onClose(): void {
    this.state = 'closed';
    if (this.waitTimer) clearTimeout(this.waitTimer);
    this.waitTimer = null;
  }

  private onFrame(data: RawData, isBinary: boolean): void {
    this.transport.alive();
    if (isBinary) return this.badFrame('Frames are JSON text.');
    let frame: unknown;
    try {
      frame = JSON.parse(rawText(data));
    } catch {
      return this.badFrame('The frame is not valid JSON.');
    }
    if (!isFrame(frame)) return this.badFrame('A frame is a JSON object with a string "type".');
    switch (frame.type) {
      case 'resume':
        return this.onResume(frame);
      case 'ack':
        return this.onAck(frame);
      case 'reply':
        return this.onReply(frame);
      default:
        return this.badFrame('Unknown frame type; expected "resume", "ack" or "reply".');
    }
  }

  private onResume(frame: Frame): void {
    if (this.state !== 'waiting') return this.badFrame('"resume" must be the first frame.');
    const given = frame.lastEventId;
    if (given === undefined || given === null || given === '') return this.start(null);
    const lastEventId = parseLastEventId(typeof given === 'number' ? String(given) : (given as string));
    if (lastEventId === null) {
      // As an unusable Last-Event-ID header over SSE: the stream starts as without one (and the client is told).
      this.badFrame('"lastEventId" must be a message id (a non-negative integer).');
    }
    this.start(lastEventId);
  }

  private onAck(frame: Frame): void {
    this.start(null);
    const id = parseLastEventId(typeof frame.id === 'number' ? String(frame.id) : (frame.id as string));
    if (id === null) return this.badFrame('"id" must be a message id (a non-negative integer).');
    this.transport.stream?.acknowledge(id);
  }

  private onReply(frame: Frame): void {
    this.start(null);
    const { type: _type, requestId, ...body } = frame;
    const id =
      typeof requestId === 'string' && requestId.length > 0 && requestId.length <= REQUEST_ID_MAX
        ? requestId
        : null;
    if (id === null) {
      const message = `requestId must be a string of 1 to ${REQUEST_ID_MAX} characters`;
      this.send(
        replyResult(null, 400, {
          statusCode: 400,
          code: 'VALIDATION_ERROR',
          message: `requestId: ${message}`,
          details: [{ field: 'requestId', message }],
        }),
      );
      return;
    }
    void this.deps
      .reply(this.upgrade.token, body)
      .then((outcome) => this.send(replyResult(id, outcome.status, outcome.body)));
  }

  private badFrame(message: string): void {
    this.send(frameError('BAD_FRAME', message));
    if (++this.badFrames >= BAD_FRAMES_MAX) this.transport.close(CLOSE.policy);
  }

  private send(frame: string): void {
    if (!this.transport.isGone) this.socket.send(frame);
  }
}

function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

function isFrame(value: unknown): value is Frame {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    typeof (value as { type?: unknown }).type === 'string'
  );
}
