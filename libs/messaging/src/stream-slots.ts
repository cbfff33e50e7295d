import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { limitKeyDigest } from './rate-limiter';
import { RedisService } from './redis.service';

/*
 * Two sorted sets per claim, both scored by "last seen" (ms): the credential's streams and the client address's
 * streams. A member is the stream id, which starts with its opening time (base 36, fixed width), so sorting the
 * members sorts the streams by age. Entries that were not refreshed for `stale` ms belong to a replica that
 * died and are dropped before counting.
 *
 * KEYS: credential set, address set, replaced set. ARGV: now, staleBefore, streamId, credentialCap, addressCap,
 * keyTtlMs. Replaced ids are remembered (for the key TTL) so a refresh can tell "replaced" from "Redis lost it".
 * The oldest streams of the credential beyond its cap are replaced; they free their places at the address
 * first, so an agent reconnecting from a full address replaces its own stale stream instead of being refused.
 * Answers {0} when the address is full (nothing changed), else {1, replaced stream ids…}.
 */
const CLAIM = `
local now, stale, id = ARGV[1], ARGV[2], ARGV[3]
local tokenCap, ipCap, ttl = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', stale)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', stale)
local members = redis.call('ZRANGE', KEYS[1], 0, -1)
local victims = {}
if #members + 1 > tokenCap then
  table.sort(members)
  for i = 1, #members + 1 - tokenCap do victims[#victims + 1] = members[i] end
end
local freed = 0
for _, v in ipairs(victims) do
  if redis.call('ZSCORE', KEYS[2], v) then freed = freed + 1 end
end
if redis.call('ZCARD', KEYS[2]) - freed >= ipCap then return {0} end
local out = {1}
for _, v in ipairs(victims) do
  redis.call('ZREM', KEYS[1], v)
  redis.call('ZREM', KEYS[2], v)
  redis.call('ZADD', KEYS[3], now, v)
  out[#out + 1] = v
end
if #victims > 0 then redis.call('PEXPIRE', KEYS[3], ttl) end
redis.call('ZADD', KEYS[1], now, id)
redis.call('ZADD', KEYS[2], now, id)
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
return out`;

/**
 * KEYS: credential set, address set, replaced set. ARGV: now, streamId. 0 when the stream was replaced; an entry
 * that is simply missing (Redis restarted without its data, or the entry went stale) is put back.
 */
const REFRESH = `
if redis.call('ZSCORE', KEYS[3], ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[1], ARGV[2])
return 1`;

type SlotCommands = {
  relayStreamClaim(...args: Array<string | number>): Promise<Array<number | string>>;
};
type SlotPipeline = {
  relayStreamRefresh(k1: string, k2: string, k3: string, now: number, id: string): unknown;
};

/** Where one stream is counted: its credential (session or account relay token) and its client address. */
export interface StreamSlot {
  id: string;
  credentialKey: string;
  addressKey: string;
  /**
   * The credential's streams that newer ones replaced: tombstones, kept until the key expires (`keyTtlMs` after
   * the last replacement), so a replaced stream that missed its announcement still learns it on a refresh.
   */
  replacedKey: string;
}

export type ClaimResult = { allowed: false } | { allowed: true; replaced: string[] };

/** Key strings kept for reuse, per kind (a bounded cache: the oldest entry goes first). */
const KEY_CACHE_MAX = 10_000;

function cached<V>(map: Map<string, V>, key: string, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    if (map.size >= KEY_CACHE_MAX) map.delete(map.keys().next().value as string);
    value = make();
    map.set(key, value);
  }
  return value;
}

/** How many missed refreshes make an entry stale (its replica died without releasing it). */
const STALE_AFTER_REFRESHES = 3;

/** How long a key outlives its last claim or refresh: twice the time after which its entries go stale. */
function keyTtlMs(refreshMs: number): number {
  return refreshMs * STALE_AFTER_REFRESHES * 2;
}

/**
 * Cluster-wide counts of open agent streams, per credential and per client address, in Redis: the per-token cap
 * (one more stream replaces the oldest) and the per-address cap (one more is refused). Each replica refreshes
 * its streams' entries on every heartbeat; a refresh that finds the stream among its credential's replaced ones
 * tells it so (even when the Pub/Sub message that said so was lost), one that finds its entries missing (Redis
 * restarted empty) puts them back.
 */
@Injectable()
export class StreamSlots {
  private readonly instance = randomBytes(4).toString('hex');
  private counter = 0;

  constructor(private readonly redis: RedisService) {
    this.redis.command.defineCommand('relayStreamClaim', { numberOfKeys: 3, lua: CLAIM });
    this.redis.command.defineCommand('relayStreamRefresh', { numberOfKeys: 3, lua: REFRESH });
  }

  /** A stream id unique in the cluster whose sort order is its opening order. */
  newId(now = Date.now()): string {
    this.counter = (this.counter + 1) % 1_679_616;
    return `${now.toString(36).padStart(9, '0')}${this.counter.toString(36).padStart(4, '0')}${this.instance}`;
  }

  /** The slot of a stream: the credential is an id of ours, the address is hashed (never raw client input). */
  slot(id: string, credential: string, address: string): StreamSlot {
    const { credentialKey, replacedKey } = cached(this.credentialKeys, credential, () => ({
      credentialKey: this.redis.key('stream-slots', 'cred', credential),
      replacedKey: this.redis.key('stream-slots', 'replaced', credential),
    }));
    const addressKey = cached(this.addressKeys, address, () =>
      this.redis.key('stream-slots', 'addr', limitKeyDigest(address)),
    );
    return { id, credentialKey, replacedKey, addressKey };
  }

  /**
   * The key strings of recent credentials and addresses, shared by their streams (an idle stream holds its
   * slot for hours; one copy of each key per stream would be most of what its slot costs).
   */
  private readonly credentialKeys = new Map<string, { credentialKey: string; replacedKey: string }>();
  private readonly addressKeys = new Map<string, string>();

  async claim(
    slot: StreamSlot,
    caps: { perCredential: number; perAddress: number },
    refreshMs: number,
  ): Promise<ClaimResult> {
    const now = Date.now();
    const staleMs = refreshMs * STALE_AFTER_REFRESHES;
    const result = await (this.redis.command as unknown as SlotCommands).relayStreamClaim(
      slot.credentialKey,
      slot.addressKey,
      slot.replacedKey,
      now,
      now - staleMs,
      slot.id,
      caps.perCredential,
      caps.perAddress,
      keyTtlMs(refreshMs),
    );
    if (Number(result[0]) !== 1) return { allowed: false };
    return { allowed: true, replaced: result.slice(1).map(String) };
  }

  /**
   * Marks the slots as alive; answers the ids that a newer stream replaced. Entries Redis lost (a restart without
   * its data) are put back. One pipeline for all the streams of this process.
   */
  async refresh(slots: readonly StreamSlot[], refreshMs: number): Promise<Set<string>> {
    if (slots.length === 0) return new Set();
    const now = Date.now();
    const ttl = keyTtlMs(refreshMs);
    const pipeline = this.redis.command.pipeline();
    const keys = new Set<string>();
    for (const slot of slots) {
      (pipeline as unknown as SlotPipeline).relayStreamRefresh(
        slot.credentialKey,
        slot.addressKey,
        slot.replacedKey,
        now,
        slot.id,
      );
      keys.add(slot.credentialKey);
      keys.add(slot.addressKey);
    }
    for (const key of keys) pipeline.pexpire(key, ttl);
    const results = (await pipeline.exec()) ?? [];
    const gone = new Set<string>();
    slots.forEach((slot, i) => {
      const [err, present] = results[i] ?? [null, 1];
      if (!err && Number(present) === 0) gone.add(slot.id);
    });
    return gone;
  }

  async release(slot: StreamSlot): Promise<void> {
    await this.redis.command
      .pipeline()
      .zrem(slot.credentialKey, slot.id)
      .zrem(slot.addressKey, slot.id)
      .exec();
  }
}
