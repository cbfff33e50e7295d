import http from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { byteLimitLabel, JsonRequestBody, readJsonRequestBody } from './json-request-body';

const LIMIT = 1024;

/** What the reader made of a request, as plain data. */
interface Seen {
  kind: JsonRequestBody['kind'];
  raw?: string;
  value?: unknown;
  error?: string | null;
}

function describeBody(body: JsonRequestBody): Seen {
  if (body.kind === 'aborted') return { kind: 'aborted' };
  if (body.kind === 'too_large')
    return { kind: 'too_large', error: `${body.error.statusCode} ${body.error.message}` };
  return {
    kind: 'read',
    raw: body.raw.toString('hex'),
    value: body.value,
    error: body.error ? `${body.error.statusCode} ${body.error.message}` : null,
  };
}

describe('readJsonRequestBody', () => {
  let server: http.Server;
  let port: number;
  let onRead: (s: Seen) => void = () => undefined;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      void readJsonRequestBody(req, LIMIT).then((body) => {
        onRead(describeBody(body));
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  /** What the reader will make of the next request. */
  const next = () => new Promise<Seen>((resolve) => (onRead = resolve));

  /** Sends `body` (Content-Length, or chunked in two writes) and returns what the reader saw. */
  async function send(
    body: Buffer | string | null,
    headers: Record<string, string> = { 'Content-Type': 'application/json' },
    chunked = false,
  ): Promise<Seen> {
    const read = next();
    await new Promise<void>((resolve, reject) => {
      const req = http.request({ port, host: '127.0.0.1', method: 'POST', path: '/', headers }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      const bytes = body === null ? null : Buffer.from(body);
      if (bytes === null) req.end();
      else if (chunked) {
        req.setHeader('Transfer-Encoding', 'chunked');
        req.write(bytes.subarray(0, bytes.length >> 1));
        req.end(bytes.subarray(bytes.length >> 1));
      } else {
        req.setHeader('Content-Length', bytes.length);
        req.end(bytes);
      }
    });
    return read;
  }

  const json = '{"a":"가","b":[1,2]}';
  const value = { a: '가', b: [1, 2] };
  const hex = (b: Buffer | string) => Buffer.from(b).toString('hex');

  it.each<[string, Buffer, Record<string, string>, boolean]>([
    ['Content-Length', Buffer.from(json), {}, false],
    ['chunked', Buffer.from(json), {}, true],
    ['gzip', gzipSync(json), { 'Content-Encoding': 'gzip' }, false],
    ['GZIP, chunked', gzipSync(json), { 'Content-Encoding': 'GZIP' }, true],
    ['deflate', deflateSync(json), { 'Content-Encoding': 'deflate' }, false],
    ['br', brotliCompressSync(json), { 'Content-Encoding': 'br' }, false],
    ['identity', Buffer.from(json), { 'Content-Encoding': 'Identity' }, false],
  ])('reads %s: the value, and the decompressed bytes as raw', async (_name, bytes, headers, chunked) => {
    expect(await send(bytes, { 'Content-Type': 'application/json', ...headers }, chunked)).toEqual({
      kind: 'read',
      raw: hex(json),
      value,
      error: null,
    });
  });

  it.each<[string, string, Buffer]>([
    ['charset=utf-8', 'application/json; charset=utf-8', Buffer.from(json)],
    ['charset="UTF-8", quoted', 'application/json; foo=bar; charset="UTF-8"', Buffer.from(json)],
    ['application/*+json', 'application/vnd.kakao+json', Buffer.from(json)],
    ['utf-16le', 'application/json; charset=utf-16le', Buffer.from(json, 'utf16le')],
    ['utf-16be', 'application/json; charset=utf-16be', Buffer.from(json, 'utf16le').swap16()],
    [
      'utf-16 with a big-endian BOM',
      'application/json; charset=utf-16',
      Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(json, 'utf16le').swap16()]),
    ],
    ['utf-16 without BOM (little-endian)', 'application/json; charset=utf-16', Buffer.from(json, 'utf16le')],
    ['utf-32le', 'application/json; charset=utf-32le', utf32(json, false)],
    ['utf-32be', 'application/json; charset=UTF-32BE', utf32(json, true)],
    [
      'utf-32 with a big-endian BOM',
      'application/json; charset=utf-32',
      Buffer.concat([Buffer.from([0, 0, 0xfe, 0xff]), utf32(json, true)]),
    ],
    [
      'a UTF-8 byte order mark',
      'application/json',
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(json)]),
    ],
  ])('decodes %s', async (_name, type, bytes) => {
    expect(await send(bytes, { 'Content-Type': type })).toEqual({
      kind: 'read',
      raw: hex(bytes),
      value,
      error: null,
    });
  });

  it('reads an empty chunked body as {} and no body at all as nothing', async () => {
    expect(await send('', { 'Content-Type': 'application/json' }, true)).toEqual({
      kind: 'read',
      raw: '',
      value: {},
      error: null,
    });
    expect(await send(null, { 'Content-Type': 'application/json' })).toEqual({
      kind: 'read',
      raw: '',
      value: undefined,
      error: null,
    });
    expect(await send('', { 'Content-Type': 'text/plain' })).toEqual({
      kind: 'read',
      raw: '',
      value: undefined,
      error: null,
    });
  });

  it('defers "not JSON" (415) and "not valid JSON" (400) with the bytes read', async () => {
    expect(await send(json, { 'Content-Type': 'text/plain' })).toEqual({
      kind: 'read',
      raw: hex(json),
      value: undefined,
      error: expect.stringMatching(/^415 /),
    });
    expect(await send(json, {})).toMatchObject({ raw: hex(json), error: expect.stringMatching(/^415 /) });
    expect(await send('{"a":', { 'Content-Type': 'application/json' })).toEqual({
      kind: 'read',
      raw: hex('{"a":'),
      value: undefined,
      error: '400 The request body is not valid JSON.',
    });
    expect(await send('utf-7 body', { 'Content-Type': 'application/json; charset=utf-7' })).toEqual({
      kind: 'read',
      raw: hex('utf-7 body'),
      value: undefined,
      error: '400 The request body is not valid JSON.',
    });
  });

  it.each<[string, Record<string, string>]>([
    ['an unknown charset', { 'Content-Type': 'application/json; charset=latin1' }],
    ['charset=utf8 (body-parser wants "utf-")', { 'Content-Type': 'application/json; charset=utf8' }],
    ['an unknown Content-Encoding', { 'Content-Type': 'application/json', 'Content-Encoding': 'compress' }],
    ['two Content-Encodings', { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip, br' }],
  ])('does not read a body in %s: 400, nothing as raw', async (_name, headers) => {
    expect(await send(json, headers)).toEqual({
      kind: 'read',
      raw: '',
      value: undefined,
      error: '400 The request body is not valid JSON.',
    });
  });

  it('treats corrupt compressed data as not valid JSON with nothing as raw', async () => {
    expect(
      await send('not gzip', { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' }),
    ).toEqual({
      kind: 'read',
      raw: '',
      value: undefined,
      error: '400 The request body is not valid JSON.',
    });
  });

  it.each<[string, Buffer, Record<string, string>, boolean]>([
    ['a Content-Length over the limit', Buffer.alloc(LIMIT + 1, 0x20), {}, false],
    ['a chunked body over the limit', Buffer.alloc(LIMIT + 1, 0x20), {}, true],
    [
      'a small gzip that inflates over the limit',
      gzipSync(Buffer.alloc(100 * LIMIT, 0x20)),
      { 'Content-Encoding': 'gzip' },
      false,
    ],
  ])('refuses %s as too large, once the request is read off', async (_name, bytes, headers, chunked) => {
    expect(await send(bytes, { 'Content-Type': 'application/json', ...headers }, chunked)).toEqual({
      kind: 'too_large',
      error: '413 The request body is larger than 1kb.',
    });
  });

  it('accepts a body of exactly the limit', async () => {
    const body = `"${'x'.repeat(LIMIT - 2)}"`;
    expect(await send(body)).toMatchObject({ kind: 'read', value: 'x'.repeat(LIMIT - 2), error: null });
  });

  it('repairs text PostgreSQL cannot store instead of refusing it, and refuses JSON nested too deep', async () => {
    expect(await send('{"t":"a\\u0000b\\ud800"}')).toMatchObject({
      value: { t: 'a\ufffdb\ufffd' },
      error: null,
    });
    expect(await send('['.repeat(70) + ']'.repeat(70))).toMatchObject({
      value: undefined,
      error: expect.stringMatching(/^400 The body is nested deeper/),
    });
  });

  it('answers "aborted" when the client goes away mid-body', async () => {
    const read = next();
    const socket = connect(port, '127.0.0.1');
    const taken = new Promise((resolve) => server.once('request', resolve));
    socket.write(
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":',
    );
    await taken;
    socket.destroy();
    expect(await read).toEqual({ kind: 'aborted' });
  });
});

function utf32(text: string, bigEndian: boolean): Buffer {
  const points = [...text].map((c) => c.codePointAt(0) as number);
  const buffer = Buffer.alloc(points.length * 4);
  points.forEach((p, i) => (bigEndian ? buffer.writeUInt32BE(p, i * 4) : buffer.writeUInt32LE(p, i * 4)));
  return buffer;
}

describe('byteLimitLabel', () => {
  it.each([
    [1024 * 1024, '1mb'],
    [256 * 1024, '256kb'],
    [1000, '1000b'],
  ])('%i → %s', (bytes, label) => expect(byteLimitLabel(bytes)).toBe(label));
});
