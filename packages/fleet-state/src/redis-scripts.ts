/**
 * The Lua scripts behind every operation that must be atomic in Redis. Each script touches keys
 * of one hash tag only (Redis Cluster). Times come from Redis `TIME`, so expiry, visibility
 * timeouts and token refill do not depend on any client's clock. Numbers written back go through
 * `string.format`, because Lua's default number-to-string keeps only 14 digits.
 */
import { createHash } from "node:crypto";
import type { Redis } from "ioredis";

/** A script and its SHA-1, for EVALSHA. */
export interface RedisScript {
  readonly name: string;
  readonly source: string;
  readonly sha: string;
}

function defineScript(name: string, source: string): RedisScript {
  return { name, source, sha: createHash("sha1").update(source).digest("hex") };
}

const NOW_MS = `
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
`;

/**
 * KEYS: snapshot. ARGV: hash, data ('' = only compare), watcher, observedAt, traceparent.
 * Returns { outcome, stored bytes }: outcome 0 = differs, nothing written (send the data);
 * 1 = unchanged; 2 = unchanged but the stored change was never marked dirty; 3 = written.
 */
export const PUBLISH_SNAPSHOT = defineScript(
  "publishSnapshot",
  `
if redis.call('HGET', KEYS[1], 'h') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'w', ARGV[3], 'o', ARGV[4])
  local size = redis.call('HSTRLEN', KEYS[1], 'd')
  if redis.call('HEXISTS', KEYS[1], 'u') == 1 then return { 2, size } end
  return { 1, size }
end
if ARGV[2] == '' then return { 0, 0 } end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'd', ARGV[2], 'h', ARGV[1], 'w', ARGV[3], 'o', ARGV[4], 'u', '1')
if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 't', ARGV[5]) end
return { 3, string.len(ARGV[2]) }
`,
);

/** KEYS: snapshot. ARGV: hash. Clears the "not yet marked dirty" flag if the content is still `hash`. */
export const CONFIRM_SNAPSHOT_MARKED = defineScript(
  "confirmSnapshotMarked",
  `
if redis.call('HGET', KEYS[1], 'h') == ARGV[1] then return redis.call('HDEL', KEYS[1], 'u') end
return 0
`,
);

/**
 * KEYS: due, marks, sequence. ARGV: cluster, reason, traceparent ('' = none).
 * Coalesces into the cluster's entry; a new entry is due now, a pending or taken one keeps its
 * due time (the ack of a taken one sees the new generation). Returns the new generation.
 */
export const MARK_DIRTY = defineScript(
  "markDirty",
  `${NOW_MS}
local generation = redis.call('INCR', KEYS[3])
local raw = redis.call('HGET', KEYS[2], ARGV[1])
local entry
if raw then
  entry = cjson.decode(raw)
  entry.marks = entry.marks + 1
else
  entry = { marks = 1, first = now, deliveries = 0 }
end
entry.last = now
entry.gen = generation
entry.reason = ARGV[2]
if ARGV[3] ~= '' then entry.tp = ARGV[3] end
redis.call('HSET', KEYS[2], ARGV[1], cjson.encode(entry))
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  redis.call('ZADD', KEYS[1], string.format('%d', now), ARGV[1])
end
return generation
`,
);

/**
 * KEYS: due, marks. ARGV: max, visibilityMs. Takes up to `max` due entries (oldest first) and
 * hides them for `visibilityMs`. Returns { {cluster, entryJson, …}, msUntilNextDue or -1 }.
 */
export const TAKE_DIRTY = defineScript(
  "takeDirty",
  `${NOW_MS}
local clusters = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', string.format('%d', now), 'LIMIT', 0, tonumber(ARGV[1]))
local taken = {}
for _, cluster in ipairs(clusters) do
  local raw = redis.call('HGET', KEYS[2], cluster)
  if raw then
    local entry = cjson.decode(raw)
    entry.deliveries = entry.deliveries + 1
    raw = cjson.encode(entry)
    redis.call('HSET', KEYS[2], cluster, raw)
    redis.call('ZADD', KEYS[1], string.format('%d', now + tonumber(ARGV[2])), cluster)
    taken[#taken + 1] = cluster
    taken[#taken + 1] = raw
  else
    redis.call('ZREM', KEYS[1], cluster)
  end
end
local nextDue = -1
local later = redis.call('ZRANGEBYSCORE', KEYS[1], string.format('(%d', now), '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
if later[2] then nextDue = tonumber(later[2]) - now end
return { taken, nextDue }
`,
);

/**
 * KEYS: due. Makes every taken (not yet due) entry due now; returns how many. Only a new leader
 * calls it, at takeover: the entries its dead predecessor had taken would otherwise stay hidden
 * for the rest of their visibility timeout.
 */
export const REQUEUE_TAKEN = defineScript(
  "requeueTaken",
  `${NOW_MS}
local taken = redis.call('ZRANGEBYSCORE', KEYS[1], string.format('(%d', now), '+inf')
for _, cluster in ipairs(taken) do
  redis.call('ZADD', KEYS[1], string.format('%d', now), cluster)
end
return #taken
`,
);

/**
 * KEYS: due, marks. ARGV: cluster, generation. Returns 1 = removed; 2 = marked since it was
 * taken, due again now; 0 = not queued.
 */
export const ACK_DIRTY = defineScript(
  "ackDirty",
  `
local raw = redis.call('HGET', KEYS[2], ARGV[1])
if not raw then return 0 end
if cjson.decode(raw).gen == tonumber(ARGV[2]) then
  redis.call('HDEL', KEYS[2], ARGV[1])
  redis.call('ZREM', KEYS[1], ARGV[1])
  return 1
end
${NOW_MS}
redis.call('ZADD', KEYS[1], string.format('%d', now), ARGV[1])
return 2
`,
);

/**
 * KEYS: expiry, info. ARGV: watcherId, expiresAt, infoJson, ttlMs, now. Drops members expired
 * at `now`, lists this one, and keeps both keys alive as long as the longest heartbeat.
 */
export const HEARTBEAT = defineScript(
  "heartbeat",
  `
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[5])
for _, id in ipairs(dead) do redis.call('HDEL', KEYS[2], id) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[5])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
for i = 1, 2 do
  if redis.call('PTTL', KEYS[i]) < tonumber(ARGV[4]) then redis.call('PEXPIRE', KEYS[i], ARGV[4]) end
end
return 1
`,
);

/** KEYS: expiry, info. ARGV: now. Returns {id, expiresAt, infoJson, …} of members alive after `now`. */
export const LIST_MEMBERS = defineScript(
  "listMembers",
  `
local live = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf', 'WITHSCORES')
local out = {}
for i = 1, #live, 2 do
  out[#out + 1] = live[i]
  out[#out + 1] = live[i + 1]
  out[#out + 1] = redis.call('HGET', KEYS[2], live[i]) or '{}'
end
return out
`,
);

/**
 * KEYS: lease, epoch. ARGV: candidate, ttlMs, minEpoch. Renews (epoch kept) if the candidate
 * holds the lease; takes it if free with epoch max(counter, minEpoch) + 1; else reports the
 * holder. Returns {holder, epoch, pttl}.
 */
export const ACQUIRE_LEASE = defineScript(
  "acquireOrRenew",
  `
local holder = redis.call('HGET', KEYS[1], 'holder')
local epoch
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  epoch = redis.call('HGET', KEYS[1], 'epoch')
elseif not holder then
  local counter = tonumber(redis.call('GET', KEYS[2]) or '0')
  local floor = tonumber(ARGV[3])
  if counter < floor then counter = floor end
  epoch = string.format('%d', counter + 1)
  redis.call('SET', KEYS[2], epoch)
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'holder', ARGV[1], 'epoch', epoch)
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  holder = ARGV[1]
else
  epoch = redis.call('HGET', KEYS[1], 'epoch')
end
return { holder, epoch, redis.call('PTTL', KEYS[1]) }
`,
);

/** KEYS: lease. ARGV: candidate, epoch. Deletes the lease if held by candidate at epoch; returns 1 if it did. */
export const RELEASE_LEASE = defineScript(
  "release",
  `
if redis.call('HGET', KEYS[1], 'holder') == ARGV[1] and redis.call('HGET', KEYS[1], 'epoch') == ARGV[2] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`,
);

/** KEYS: lease, shardMap. ARGV: holder, epoch, mapJson. Writes the map only under that lease; returns 1 if it did. */
export const PUBLISH_SHARD_MAP = defineScript(
  "publishShardMap",
  `
if redis.call('HGET', KEYS[1], 'holder') ~= ARGV[1] or redis.call('HGET', KEYS[1], 'epoch') ~= ARGV[2] then
  return 0
end
redis.call('SET', KEYS[2], ARGV[3])
return 1
`,
);

/**
 * KEYS: bucket. ARGV: ratePerSecond, burst, n. Refills by elapsed Redis time (never backwards),
 * takes n (the balance may go negative: a reservation), and returns the milliseconds to wait.
 * The key expires once the bucket would be full again, since a missing bucket reads as full.
 */
export const TAKE_TOKENS = defineScript(
  "takeTokens",
  `
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + tonumber(clock[2]) / 1000
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens = burst
  at = now
end
if now > at then
  tokens = tokens + (now - at) / 1000 * rate
  at = now
end
tokens = math.min(burst, tokens) - tonumber(ARGV[3])
redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', tokens), 'at', string.format('%.3f', at))
redis.call('PEXPIRE', KEYS[1], string.format('%d', math.ceil((burst - tokens) / rate * 1000) + 1000))
if tokens >= 0 then return 0 end
return math.ceil(-tokens / rate * 1000)
`,
);

/**
 * Runs `script` by SHA, loading it on NOSCRIPT (a restarted or flushed Redis forgets scripts).
 * Errors are the client's; callers translate them.
 */
export async function runScript(
  redis: Redis,
  script: RedisScript,
  keys: readonly string[],
  args: readonly (string | Buffer | number)[],
): Promise<unknown> {
  try {
    return await redis.evalsha(script.sha, keys.length, ...keys, ...args);
  } catch (err: unknown) {
    if (!(err instanceof Error && err.message.startsWith("NOSCRIPT"))) throw err;
    return await redis.eval(script.source, keys.length, ...keys, ...args);
  }
}
