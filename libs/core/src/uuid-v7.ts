import { randomFillSync } from 'node:crypto';

const POOL_SIZE = 16 * 256;
let pool = Buffer.alloc(0);
let offset = POOL_SIZE;

/**
 * A UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then 74 random bits. Ids made one after the other
 * sort by time, so a B-tree on them grows at its right edge: inserting one touches a page that is already in
 * memory and already in the WAL since the last checkpoint, where a random v4 id touches a random page and,
 * after every checkpoint, writes a full 8 KiB page image to the WAL. Within one millisecond the order is random.
 */
export function uuidV7(now: number = Date.now()): string {
  if (offset + 16 > POOL_SIZE) {
    pool = randomFillSync(Buffer.allocUnsafe(POOL_SIZE));
    offset = 0;
  }
  const b = Buffer.from(pool.subarray(offset, offset + 16));
  offset += 16;
  const high = Math.floor(now / 2 ** 16);
  b.writeUInt32BE(high >>> 0, 0);
  b.writeUInt16BE(now % 2 ** 16, 4);
  b[6] = (b[6] & 0x0f) | 0x70; // version 7
  b[8] = (b[8] & 0x3f) | 0x80; // variant 10
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
