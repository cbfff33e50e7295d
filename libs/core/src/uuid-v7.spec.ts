import { uuidV7 } from './uuid-v7';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('uuidV7', () => {
  it('is a version 7, variant 10 UUID', () => {
    for (let i = 0; i < 1000; i++) expect(uuidV7()).toMatch(UUID);
  });

  it('carries the Unix milliseconds in its first 48 bits', () => {
    const at = Date.UTC(2026, 10, 27, 9, 30, 0, 123);
    const id = uuidV7(at);
    expect(parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(at);
  });

  it('sorts by time across milliseconds and never repeats', () => {
    const ids = Array.from({ length: 5000 }, (_, i) => uuidV7(1_790_000_000_000 + Math.floor(i / 10)));
    expect(new Set(ids).size).toBe(ids.length);
    for (let i = 10; i < ids.length; i += 10) expect(ids[i] > ids[i - 1]).toBe(true);
  });
});
