/**
 * SSE framing of the contract (§4): `id: <id>\nevent: <name>\ndata: <one-line JSON>\n\n`, LF only, exactly one
 * `data:` line. JSON.stringify escapes CR and LF inside strings, so the data is always one line.
 */
export function formatSseEvent(id: number | string, event: string, data: unknown): string {
  return formatSseEventJson(id, event, JSON.stringify(data));
}

/** The same framing for data serialised already (an event shared by several streams is serialised once). */
export function formatSseEventJson(id: number | string, event: string, json: string): string {
  return `id: ${id}\nevent: ${event}\ndata: ${json}\n\n`;
}

/**
 * The heartbeat (contract §7): an event a client can watch, without an `id:` (it must not move Last-Event-ID).
 * Both known plugins parse and ignore `ping`.
 */
export const SSE_PING = 'event: ping\ndata: {}\n\n';
