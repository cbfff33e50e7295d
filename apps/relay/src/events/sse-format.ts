/**
 * SSE framing of the contract (§4): `id: <id>\nevent: <name>\ndata: <one-line JSON>\n\n`, LF only, exactly one
 * `data:` line. JSON.stringify escapes CR and LF inside strings, so the data is always one line.
 */
export function formatSseEvent(id: number | string, event: string, data: unknown): string {
  return `id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export const SSE_PING = ': ping\n\n';

/** `Last-Event-ID` as a non-negative sequence number, or null when absent or not a number. */
export function parseLastEventId(value: string | string[] | undefined): number | null {
  const raw = Array.isArray(value) ? value[0] : value;
  if (typeof raw !== 'string' || !/^\d{1,15}$/.test(raw.trim())) return null;
  return Number(raw.trim());
}
