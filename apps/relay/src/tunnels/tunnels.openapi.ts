import type { OpenAPIObject } from '@nestjs/swagger';

type PathItem = OpenAPIObject['paths'][string];
type OperationObject = NonNullable<PathItem['post']>;

const errors = {
  '404': { description: 'TUNNEL_NOT_FOUND' },
  '413': { description: 'PAYLOAD_TOO_LARGE: the body is over TUNNEL_MAX_BODY_BYTES' },
  '429': {
    description:
      'RATE_LIMITED: over TUNNEL_REQUESTS_PER_MINUTE for this tunnel, or (live) TUNNEL_MAX_IN_FLIGHT requests ' +
      'waiting for the program; Retry-After',
  },
  '502': { description: 'TUNNEL_DISCONNECTED (live): the program went away before it answered' },
  '503': {
    description:
      'TUNNEL_OFFLINE (live): no program is connected, Retry-After; DATABASE_UNAVAILABLE: the database is away (durable: nothing stored)',
  },
  '504': { description: 'TUNNEL_TIMEOUT (live): no answer within TUNNEL_RESPONSE_TIMEOUT_MS' },
};

function ingress(method: string, suffix: boolean): OperationObject {
  return {
    operationId: `TunnelWebhook_${method}${suffix ? '_suffix' : ''}`,
    tags: ['tunnels'],
    summary: `A webhook through a tunnel (${method.toUpperCase()})`,
    description:
      'Anyone may call it. Hop-by-hop headers are dropped; every other header and the body bytes reach the ' +
      'program unchanged (so it can check GitHub’s or Stripe’s signature), with the suffix path and query. ' +
      'Live tunnel: the answer is exactly the program’s (status, headers, body). Durable tunnel: stored, then ' +
      '202 {"id","status":"queued"} at once; delivered in arrival order whenever the program is connected.',
    parameters: [
      { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } },
      ...(suffix
        ? [
            {
              name: 'suffix',
              in: 'path' as const,
              required: true,
              description: 'Any path, passed on (with the query) as the frame’s `path`',
              schema: { type: 'string' },
            },
          ]
        : []),
    ],
    ...(method === 'get' || method === 'delete'
      ? {}
      : {
          requestBody: {
            required: false,
            content: { '*/*': { schema: { type: 'string', format: 'binary' } } },
          },
        }),
    responses: {
      '200': {
        description: 'Live: the program’s answer, whatever its status',
        content: { '*/*': { schema: { type: 'string', format: 'binary' } } },
      },
      '202': {
        description: 'Durable: stored',
        content: {
          'application/json': {
            schema: {
              type: 'object',
              required: ['id', 'status'],
              properties: {
                id: { type: 'string', format: 'uuid' },
                status: { type: 'string', enum: ['queued'] },
              },
            },
          },
        },
      },
      ...errors,
    },
  };
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

function item(suffix: boolean): PathItem {
  const out: PathItem = {};
  for (const m of METHODS) out[m] = ingress(m, suffix);
  return out;
}

/**
 * The tunnels' routes no Nest controller serves: the ingress (`TunnelIngressHandler`, before Express) and the
 * program's socket (`TunnelGateway`; described as the GET of its upgrade).
 */
export const TUNNEL_PATH_DOCS: Record<string, PathItem> = {
  '/webhook/{id}': item(false),
  '/webhook/{id}/{suffix}': item(true),
  '/ws/{id}': {
    get: {
      operationId: 'TunnelSocket_connect',
      tags: ['tunnels'],
      summary: 'The program’s WebSocket of a tunnel (Upgrade: websocket)',
      description:
        'Authorization: Bearer <tunnel token>. Server → program: {"type":"hello","tunnelId","webhookUrl","mode"} ' +
        'once, then {"type":"request","id","method","path","headers","body":"<base64>"}. Program → server: ' +
        '{"type":"response","id","status","headers"?,"body"?:"<base64>"}. One connection per tunnel: a newer one ' +
        'closes the older with 4409; 4404 when the tunnel is deleted; 4408 after two missed pings; 1001 at shutdown.',
      security: [{ tunnelToken: [] }],
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
      responses: {
        '101': { description: 'Switching Protocols: the socket is open' },
        '401': { description: 'TOKEN_MISSING or INVALID_TUNNEL_TOKEN (no socket)' },
        '404': { description: 'NOT_FOUND: not a WebSocket path' },
      },
    },
  },
};
