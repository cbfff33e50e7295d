/**
 * `Last-Event-ID` (an SSE header, a WebSocket upgrade header or the `resume` frame's `lastEventId`) as a
 * non-negative sequence number, or null when absent or not a number.
 */
export function parseLastEventId(value: string | string[] | undefined): number | null {
  const raw = Array.isArray(value) ? value[0] : value;
  if (typeof raw !== 'string' || !/^\d{1,15}$/.test(raw.trim())) return null;
  return Number(raw.trim());
}
