/**
 * The cluster's Redis keys and the Lua scripts that change them. A script runs
 * atomically in Redis, which is what makes a claim race-free: two instances that
 * claim one code at once get the same answer.
 *
 *   tw:instances        SET     ids of the instances that registered
 *   tw:inst:<id>        STRING  that instance's record (records.ts), PX CLUSTER_TTL_S:
 *                               it vanishes by itself when the heartbeats stop
 *   tw:rooms            HASH    room code → owning instance id (the directory)
 *   tw:claims:<id>      SET     the codes <id> owns, to clean up after it died
 *   tw:bus              channel messages between instances (bus.ts)
 *   tw:handover:<code>:<req>  STRING  a room on its way from a draining instance to its new
 *                               owner (roomstate.ts bytes), PX 30 s, taken (GETDEL) by the new owner
 *
 * A claim has no TTL of its own: it is valid while its owner's record lives, so the
 * heartbeat refreshes every claim of an instance with one command, whatever its number
 * of rooms. A claim whose owner's record has expired is free to take, and is swept
 * (PRUNE) by the first live instance that notices.
 */
export const KEYS = {
  instances: 'tw:instances',
  inst: 'tw:inst:',
  rooms: 'tw:rooms',
  claims: 'tw:claims:',
  bus: 'tw:bus',
  handover: 'tw:handover:',
} as const;

/** [name, number of KEYS, source]. ioredis sends EVALSHA and falls back to EVAL after a Redis restart. */
export type ScriptDef = readonly [name: string, keys: number, lua: string];

/**
 * REGISTER(inst, instances; record, ttlMs, boot, id) → nil, or the record of another live
 * process that holds this id (a second instance started with the same INSTANCE_ID).
 */
const REGISTER: ScriptDef = ['twRegister', 2, `
local cur = redis.call('GET', KEYS[1])
if cur then
  local ok, rec = pcall(cjson.decode, cur)
  if ok and type(rec) == 'table' and rec.boot ~= ARGV[3] then return cur end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('SADD', KEYS[2], ARGV[4])
return false
`];

/**
 * RESOLVE(rooms; code, candidate, instPrefix, claimsPrefix) → {owner, claimed}.
 * The live owner of `code`; when there is none (never claimed, or its owner's record
 * expired) and `candidate` is not empty, `candidate` becomes the owner (claimed = 1).
 * An empty candidate only looks: → nil when nobody live owns the code.
 */
const RESOLVE: ScriptDef = ['twResolve', 1, `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur and redis.call('EXISTS', ARGV[3] .. cur) == 1 then return {cur, 0} end
if ARGV[2] == '' then return false end
if cur then redis.call('SREM', ARGV[4] .. cur, ARGV[1]) end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SADD', ARGV[4] .. ARGV[2], ARGV[1])
return {ARGV[2], 1}
`];

/** RELEASE(rooms, claims:<me>; code, me) → 1 if the claim was ours and is gone. */
const RELEASE: ScriptDef = ['twRelease', 2, `
redis.call('SREM', KEYS[2], ARGV[1])
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  redis.call('HDEL', KEYS[1], ARGV[1])
  return 1
end
return 0
`];

/**
 * LIST(instances; instPrefix) → {id, record or '', id, record or '', …}: every registered
 * instance and its record in one round trip ('' once the record has expired).
 */
const LIST: ScriptDef = ['twList', 1, `
local ids = redis.call('SMEMBERS', KEYS[1])
if #ids == 0 then return {} end
local keys = {}
for i, id in ipairs(ids) do keys[i] = ARGV[1] .. id end
local recs = redis.call('MGET', unpack(keys))
local out = {}
for i, id in ipairs(ids) do
  out[#out + 1] = id
  out[#out + 1] = recs[i] or ''
end
return out
`];

/**
 * PRUNE(rooms, instances; dead, instPrefix, claimsPrefix) → rooms freed. Forgets an
 * instance whose record has expired: its claims (where it still holds them) and its
 * place in the instance set. A no-op if it came back meanwhile.
 */
const PRUNE: ScriptDef = ['twPrune', 2, `
if redis.call('EXISTS', ARGV[2] .. ARGV[1]) == 1 then return 0 end
local freed = 0
for _, code in ipairs(redis.call('SMEMBERS', ARGV[3] .. ARGV[1])) do
  if redis.call('HGET', KEYS[1], code) == ARGV[1] then
    redis.call('HDEL', KEYS[1], code)
    freed = freed + 1
  end
end
redis.call('DEL', ARGV[3] .. ARGV[1])
redis.call('SREM', KEYS[2], ARGV[1])
return freed
`];

/** DEREGISTER(rooms, instances, inst, claims:<me>; me, boot) → rooms released: a clean shutdown. */
const DEREGISTER: ScriptDef = ['twDeregister', 4, `
local cur = redis.call('GET', KEYS[3])
if cur then
  local ok, rec = pcall(cjson.decode, cur)
  if ok and type(rec) == 'table' and rec.boot ~= ARGV[2] then return 0 end
end
local freed = 0
for _, code in ipairs(redis.call('SMEMBERS', KEYS[4])) do
  if redis.call('HGET', KEYS[1], code) == ARGV[1] then
    redis.call('HDEL', KEYS[1], code)
    freed = freed + 1
  end
end
redis.call('DEL', KEYS[3], KEYS[4])
redis.call('SREM', KEYS[2], ARGV[1])
return freed
`];

/**
 * TRANSFER(rooms, claims:<from>, claims:<to>; code, from, to, instPrefix) → 1 when `to` owns
 * `code` now, or the id of the live instance that owns it instead: the new owner of a
 * handed-over room takes the claim of the draining one. Refused only when a third live
 * instance holds the code (it claimed it meanwhile, after a split): both keep their players.
 */
const TRANSFER: ScriptDef = ['twTransfer', 3, `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur and cur ~= ARGV[2] and cur ~= ARGV[3] and redis.call('EXISTS', ARGV[4] .. cur) == 1 then return cur end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('SREM', KEYS[2], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[1])
return 1
`];

export const SCRIPTS: readonly ScriptDef[] = [REGISTER, RESOLVE, RELEASE, LIST, PRUNE, DEREGISTER, TRANSFER];
