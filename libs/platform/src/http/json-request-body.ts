import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Readable, Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { PayloadTooLargeError, RelayError, UnsupportedMediaTypeError, ValidationError } from '@app/core';
import { inspectJson } from './json-inspect';

/**
 * The body of a request read by a handler that runs before Express (a channel webhook), decoded with the rules of
 * the JSON body middleware (`createJsonBodyMiddleware`, body-parser): any Content-Length or chunked framing,
 * `Content-Encoding` gzip, deflate or br undone (the limit counts the decompressed bytes), a UTF-8 or UTF-16
 * `charset`, byte order mark dropped, any JSON value (an empty body is `{}`), then `inspectJson` — which here
 * repairs what PostgreSQL cannot store instead of refusing it (a user's broken character must not cost them their
 * message).
 *
 * - `read`: the body. `error` is why it cannot be used (415 not JSON, 400 not valid JSON or not acceptable), for the
 *   handler to raise **after** authentication, which needs `raw`: so an unauthenticated caller learns nothing
 *   about how its body was judged. The JSON is parsed only when `value` or `error` is first read. A body the relay cannot decode (an unknown `Content-Encoding` or `charset`) is
 *   not read at all (`raw` empty), like body-parser.
 * - `too_large`: over the limit; answered at once (413), before authentication. The rest of the body has been
 *   read off, so the answer reaches a client still sending.
 * - `aborted`: the client went away before the end of the body; there is nobody to answer.
 */
export type JsonRequestBody =
  | {
      readonly kind: 'read';
      readonly raw: Buffer;
      readonly value: unknown;
      readonly error: RelayError | null;
    }
  | { readonly kind: 'too_large'; readonly error: PayloadTooLargeError }
  | { readonly kind: 'aborted' };

const EMPTY = Buffer.alloc(0);
const NO_BODY: JsonRequestBody = { kind: 'read', raw: EMPTY, value: undefined, error: null };
const notJson = () => new ValidationError('The request body is not valid JSON.');
const ignore = () => undefined;

/** `1048576` → `1mb` (body-parser's spelling of the limit, which the 413 message names). */
export function byteLimitLabel(bytes: number): string {
  if (bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)}mb`;
  if (bytes % 1024 === 0) return `${bytes / 1024}kb`;
  return `${bytes}b`;
}

/** Whether the request carries a body at all (GET-like requests and `Content-Length: 0` do not). */
function hasBody(headers: IncomingHttpHeaders): boolean {
  const length = headers['content-length'];
  return (length !== undefined && length !== '0') || headers['transfer-encoding'] !== undefined;
}

type Decode = (raw: Buffer) => string;

const utf8: Decode = (raw) => raw.toString('utf8');
const utf16le = new TextDecoder('utf-16le');
const utf16be = new TextDecoder('utf-16be');

/** UTF-32 (which `TextDecoder` does not know): code points that are not characters become U+FFFD. */
function utf32(raw: Buffer, bigEndian: boolean): string {
  const parts: string[] = [];
  let start = 0;
  if (raw.length >= 4 && raw.readUInt32BE(0) === (bigEndian ? 0xfeff : 0xfffe0000)) start = 4;
  for (let i = start; i + 4 <= raw.length; i += 4) {
    const code = bigEndian ? raw.readUInt32BE(i) : raw.readUInt32LE(i);
    parts.push(code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff) ? '\ufffd' : String.fromCodePoint(code));
  }
  if (raw.length % 4 !== 0) parts.push('\ufffd');
  return parts.join('');
}

/**
 * The charsets a JSON body may declare (RFC 8259 §8.1 and body-parser: a `utf-` one) and how each is decoded, as
 * iconv does for body-parser: a byte order mark decides the byte order of `utf-16` and `utf-32`, little-endian
 * without one. `utf-7` is known but not decoded: such a body is read (authentication covers its bytes) and refused
 * as not valid JSON. Any other charset: the body is not read and is refused (400).
 */
const DECODERS: ReadonlyMap<string, Decode | 'undecodable'> = new Map<string, Decode | 'undecodable'>([
  ['utf-8', utf8],
  ['utf-16le', (raw) => utf16le.decode(raw)],
  ['utf-16be', (raw) => utf16be.decode(raw)],
  ['utf-16', (raw) => (raw[0] === 0xfe && raw[1] === 0xff ? utf16be : utf16le).decode(raw)],
  ['utf-32le', (raw) => utf32(raw, false)],
  ['utf-32be', (raw) => utf32(raw, true)],
  ['utf-32', (raw) => utf32(raw, raw.length >= 4 && raw.readUInt32BE(0) === 0xfeff)],
  ['utf-7', 'undecodable'],
  ['utf-7-imap', 'undecodable'],
]);

interface MediaType {
  /** `application/json` or `application/*+json` (type-is's reading of the header, as the middleware's `req.is`). */
  readonly json: boolean;
  /** null: a charset the relay does not know (the body is not read); `undecodable`: one it reads but refuses. */
  readonly decode: Decode | 'undecodable' | null;
}

/** type-is (media-typer) accepts these as a media type. */
const MEDIA_TYPE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

function isOws(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

/** The `charset` parameter as content-type 2 (body-parser's parser) reads it: the first one wins, quotes undone. */
function charsetParameter(header: string, from: number): string | undefined {
  const len = header.length;
  let index = from;
  while (index < len) {
    index += 1; // past ';'
    while (index < len && isOws(header.charCodeAt(index))) index += 1;
    const keyStart = index;
    while (index < len && header[index] !== ';' && header[index] !== '=') index += 1;
    if (index >= len || header[index] === ';') continue;
    let keyEnd = index;
    while (keyEnd > keyStart && isOws(header.charCodeAt(keyEnd - 1))) keyEnd -= 1;
    const key = header.slice(keyStart, keyEnd).toLowerCase();
    index += 1; // past '='
    while (index < len && isOws(header.charCodeAt(index))) index += 1;
    let value = '';
    if (header[index] === '"') {
      index += 1;
      while (index < len && header[index] !== '"') {
        if (header[index] === '\\' && index + 1 < len) index += 1;
        value += header[index];
        index += 1;
      }
      while (index < len && header[index] !== ';') index += 1;
    } else {
      const valueStart = index;
      while (index < len && header[index] !== ';') index += 1;
      let valueEnd = index;
      while (valueEnd > valueStart && isOws(header.charCodeAt(valueEnd - 1))) valueEnd -= 1;
      value = header.slice(valueStart, valueEnd);
    }
    if (key === 'charset') return value.toLowerCase();
  }
  return undefined;
}

/** No Content-Type: not JSON (415), read as UTF-8. */
const UNTYPED: MediaType = { json: false, decode: utf8 };

function parseMediaType(header: string): MediaType {
  if (!header) return UNTYPED;
  const semicolon = header.indexOf(';');
  const type = (semicolon === -1 ? header : header.slice(0, semicolon)).trim().toLowerCase();
  const json =
    MEDIA_TYPE.test(type) &&
    (type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json')));
  const charset = semicolon === -1 ? undefined : charsetParameter(header, semicolon);
  return { json, decode: charset === undefined ? utf8 : (DECODERS.get(charset) ?? null) };
}

/** Content-Type headers seen so far (a handful in practice), so that the busy path parses none. */
const MEDIA_TYPES = new Map<string, MediaType>();
const MEDIA_TYPES_MAX = 64;

function mediaTypeOf(header: string | undefined): MediaType {
  if (header === undefined) return UNTYPED;
  let type = MEDIA_TYPES.get(header);
  if (type === undefined) {
    type = parseMediaType(header);
    if (MEDIA_TYPES.size < MEDIA_TYPES_MAX) MEDIA_TYPES.set(header, type);
  }
  return type;
}

/** body-parser's decompressors; null for an encoding it does not know (zstd needs Node 22). */
function decompressor(encoding: string): Transform | null {
  switch (encoding) {
    case 'gzip':
      return createGunzip();
    case 'deflate':
      return createInflate();
    case 'br':
      return createBrotliDecompress();
    default:
      return null;
  }
}

/** Bytes → JSON value, or why not (the middleware's rules in its deferred-error mode). */
function decodeJson(raw: Buffer, decode: Decode): { value: unknown; error: RelayError | null } {
  let text = decode(raw);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  // body-parser with `strict: false`: an empty body is an empty object.
  if (text.length === 0) return { value: {}, error: null };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { value: undefined, error: notJson() };
  }
  const problem = inspectJson(value, { sanitizeText: true });
  return problem ? { value: undefined, error: new ValidationError(problem) } : { value, error: null };
}

/**
 * A body read whole whose JSON is decoded when first asked for (`value`, `error`): the handler asks after
 * authentication, so an unauthenticated request costs no JSON parse (works-channel.md §2: the bot and the
 * signature are decided before the body is parsed).
 */
class DecodableBody {
  readonly kind = 'read';
  private decoded: { value: unknown; error: RelayError | null } | null = null;

  constructor(
    readonly raw: Buffer,
    private readonly decode: Decode,
  ) {}

  get value(): unknown {
    return (this.decoded ??= decodeJson(this.raw, this.decode)).value;
  }

  get error(): RelayError | null {
    return (this.decoded ??= decodeJson(this.raw, this.decode)).error;
  }
}

/** Reads and decodes a request's JSON body (see `JsonRequestBody`). */
export function readJsonRequestBody(req: IncomingMessage, limitBytes: number): Promise<JsonRequestBody> {
  const { headers } = req;
  if (!hasBody(headers)) return Promise.resolve(NO_BODY);
  const type = mediaTypeOf(headers['content-type']);
  // A body of another type is still read (the limit applies, and authentication needs its bytes) but refused.
  const typeError = type.json ? null : new UnsupportedMediaTypeError();
  if (type.decode === null) {
    return Promise.resolve({ kind: 'read', raw: EMPTY, value: undefined, error: typeError ?? notJson() });
  }
  const decode = type.decode;
  const encoding = headers['content-encoding']?.toLowerCase() ?? 'identity';
  let inflater: Transform | null = null;
  if (encoding !== 'identity') {
    inflater = decompressor(encoding);
    if (!inflater) {
      return Promise.resolve({ kind: 'read', raw: EMPTY, value: undefined, error: typeError ?? notJson() });
    }
  }
  return new Promise<JsonRequestBody>((resolve) => {
    let settled = false;
    /** Decoding stopped (too large, corrupt): only the end of the request still matters. */
    let stopped = false;
    const settle = (result: JsonRequestBody) => {
      if (settled) return;
      settled = true;
      resolve(result);
    };
    // The client went away before the end of its body.
    req.on('close', () => {
      if (!req.complete) settle({ kind: 'aborted' });
    });
    req.on('error', ignore);
    /** Stops decoding and reads off the rest of the request; `result` once it is all in. */
    const drainThen = (result: JsonRequestBody) => {
      if (stopped) return;
      stopped = true;
      if (inflater) {
        req.unpipe(inflater);
        inflater.removeAllListeners('data');
        inflater.on('error', ignore);
        inflater.destroy();
      } else {
        req.removeAllListeners('data');
      }
      if (req.complete) return settle(result);
      req.on('end', () => settle(result));
      req.resume();
    };

    // Identity-encoded with a Content-Length over the limit: refused before a byte is kept (raw-body does so too).
    const length = Number(headers['content-length']);
    if (!inflater && headers['transfer-encoding'] === undefined && length > limitBytes) {
      return drainThen({ kind: 'too_large', error: new PayloadTooLargeError(byteLimitLabel(limitBytes)) });
    }

    const source: Readable = inflater ?? req;
    const chunks: Buffer[] = [];
    let size = 0;
    source.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) {
        chunks.length = 0;
        return drainThen({ kind: 'too_large', error: new PayloadTooLargeError(byteLimitLabel(limitBytes)) });
      }
      chunks.push(chunk);
    });
    source.on('end', () => {
      if (settled || stopped) return;
      const raw = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size);
      // A decompressed stream may end before the request does (bytes after the compressed data): read them off.
      if (inflater && !req.complete) {
        req.unpipe(inflater);
        req.resume();
      }
      if (typeError || decode === 'undecodable') {
        return settle({ kind: 'read', raw, value: undefined, error: typeError ?? notJson() });
      }
      settle(new DecodableBody(raw, decode));
    });
    if (inflater) {
      // Corrupt compressed data: not valid JSON, and nothing of it counts as the body (body-parser: no `verify`).
      inflater.on('error', () =>
        drainThen({ kind: 'read', raw: EMPTY, value: undefined, error: typeError ?? notJson() }),
      );
      req.pipe(inflater);
    }
  });
}
