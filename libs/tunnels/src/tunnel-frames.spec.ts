import { endToEndHeaders, parseResponseFrame, requestFrame } from './tunnel-frames';

describe('tunnel frames', () => {
  it('keeps end-to-end headers as sent (repeated ones as arrays), drops hop-by-hop and Connection-named ones', () => {
    const headers = endToEndHeaders([
      'Host',
      'relay.example',
      'X-Hub-Signature-256',
      'sha256=ab',
      'Connection',
      'keep-alive, X-Private',
      'X-Private',
      'secret',
      'Transfer-Encoding',
      'chunked',
      'Set-Cookie',
      'a=1',
      'set-cookie',
      'b=2',
      'Keep-Alive',
      'timeout=5',
      'Proxy-Authorization',
      'Basic x',
      'TE',
      'trailers',
      'Upgrade',
      'h2c',
    ]);
    expect(headers).toEqual({
      host: 'relay.example',
      'x-hub-signature-256': 'sha256=ab',
      'set-cookie': ['a=1', 'b=2'],
    });
  });

  it('carries the body as base64', () => {
    const body = Buffer.from([0, 1, 2, 255]);
    const frame = JSON.parse(requestFrame({ id: 'r', method: 'POST', path: '/x?y', headers: {}, body }));
    expect(frame).toEqual({
      type: 'request',
      id: 'r',
      method: 'POST',
      path: '/x?y',
      headers: {},
      body: 'AAEC/w==',
    });
  });

  it('parses a response frame, dropping hop-by-hop headers and content-length', () => {
    const parsed = parseResponseFrame({
      type: 'response',
      id: 'r',
      status: 201,
      headers: {
        'Content-Type': 'text/plain',
        'content-length': '99',
        connection: 'close',
        'x-many': ['a', 'b'],
      },
      body: Buffer.from('hi').toString('base64'),
    });
    expect(parsed).toEqual({
      id: 'r',
      response: {
        status: 201,
        headers: { 'content-type': 'text/plain', 'x-many': ['a', 'b'] },
        body: Buffer.from('hi'),
      },
    });
    expect(parseResponseFrame({ type: 'response', id: 'r', status: 204 })?.response.body.length).toBe(0);
  });

  it.each([
    ['not an object', 'x'],
    ['no id', { type: 'response', status: 200 }],
    ['status not an integer', { type: 'response', id: 'r', status: 200.5 }],
    ['status out of range', { type: 'response', id: 'r', status: 101 }],
    ['header value not a string', { type: 'response', id: 'r', status: 200, headers: { a: 1 } }],
    ['header name not a token', { type: 'response', id: 'r', status: 200, headers: { 'a b': 'x' } }],
    ['body not a string', { type: 'response', id: 'r', status: 200, body: 5 }],
    ['another type', { type: 'request', id: 'r', status: 200 }],
  ])('refuses a frame with %s', (_label, frame) => {
    expect(parseResponseFrame(frame)).toBeNull();
  });
});
