/**
 * What Redis presence keeps where, and the Lua scripts that change it
 * atomically: each transition (a user's join, a leave after the delay, a
 * member of a dead node expiring) is decided inside one script, so it is
 * decided once for the whole cluster and published once.
 *
 * Per channel, in one hash slot:
 * - `…:presence` hash: connection id → the member's JSON;
 * - `…:presence:expiry` sorted set: connection id → when it expires (ms),
 *   pushed forward by its node every 15 s (Centrifugo's scheme, tighter);
 * - `…:presence:users` hash: user → connections;
 * - `…:presence:leaving` sorted set: user → when its `leave` is due;
 * - `…:presence:peak`: most connections since the channel became occupied.
 *
 * Events go out on `broadcaster:presence:<channel>` as compact JSON:
 * `{"k":"join","u","i"?}`, `{"k":"leave","u"}`, `{"k":"counts","c","n","p"}`.
 * Each script also returns the transitions it decided, to its caller alone
 * (`o` occupied, `v` vacated, `j<user>` added, `l<user>` removed): what that
 * node tells the webhooks, once for the cluster.
 *
 * @module
 */

import { Script } from "../engine/redis_streams.ts";

/**
 * Shared by every script. KEYS: members, expiry, users, leaving, peak.
 * `expire()` drops members whose node stopped refreshing them (their users'
 * leaves are due at once: they have been gone for the TTL already);
 * `leaves()` publishes the leaves now due of users who did not come back;
 * `counted()` publishes the counts and keeps the peak; `keep()` sets the
 * keys' TTL, so a channel whose every node died is forgotten.
 */
const PRELUDE = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local M, E, U, L, P = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local out = {}
local function gone(user, due)
  if redis.call('HINCRBY', U, user, -1) <= 0 then
    redis.call('HDEL', U, user)
    redis.call('ZADD', L, due, user)
  end
end
local function expire()
  local stale = redis.call('ZRANGEBYSCORE', E, '-inf', now)
  for _, id in ipairs(stale) do
    local json = redis.call('HGET', M, id)
    redis.call('ZREM', E, id)
    if json then
      redis.call('HDEL', M, id)
      gone(cjson.decode(json).user, now)
    end
  end
  return #stale > 0
end
local function leaves(topic)
  for _, user in ipairs(redis.call('ZRANGEBYSCORE', L, '-inf', now)) do
    redis.call('ZREM', L, user)
    if redis.call('HEXISTS', U, user) == 0 then
      redis.call('PUBLISH', topic, '{"k":"leave","u":' .. cjson.encode(user) .. '}')
      out[#out + 1] = 'l' .. user
    end
  end
end
local function counted(topic)
  local connections = redis.call('HLEN', M)
  local was = tonumber(redis.call('GET', P) or '0')
  if was == 0 and connections > 0 then out[#out + 1] = 'o' end
  if was > 0 and connections == 0 then out[#out + 1] = 'v' end
  local peak = 0
  if connections > 0 then
    peak = math.max(was, connections)
  end
  redis.call('SET', P, peak)
  redis.call('PUBLISH', topic, '{"k":"counts","c":' .. connections .. ',"n":' ..
    redis.call('HLEN', U) .. ',"p":' .. peak .. '}')
end
local function keep(ttl, leaving)
  for _, key in ipairs({M, E, U, P}) do redis.call('PEXPIRE', key, ttl) end
  redis.call('PEXPIRE', L, leaving)
end
local function join(id, user, json, info, expiry, topic)
  redis.call('ZADD', E, expiry, id)
  if redis.call('HSET', M, id, json) == 0 then return false end
  if redis.call('HINCRBY', U, user, 1) == 1 and redis.call('ZREM', L, user) == 0 then
    local event = '{"k":"join","u":' .. cjson.encode(user)
    if info ~= '' then event = event .. ',"i":' .. info end
    redis.call('PUBLISH', topic, event .. '}')
    out[#out + 1] = 'j' .. user
  end
  return true
end`;

/**
 * ARGV: topic, ttl ms, leaving ttl ms, then per member: id, user, JSON,
 * info ('' for none). Adds members (a return within the leave delay is
 * silent), pushes their expiry forward, and publishes what changed. Serves
 * both a subscribe (one member) and a node's periodic refresh (all of its
 * members in the channel: any that expired meanwhile come back).
 */
const ADD = `${PRELUDE}
local topic, ttl = ARGV[1], tonumber(ARGV[2])
local changed = expire()
for i = 4, #ARGV, 4 do
  if join(ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], now + ttl, topic) then changed = true end
end
leaves(topic)
if changed then counted(topic) end
keep(ttl, ARGV[3])
return out`;

/**
 * ARGV: topic, ttl ms, leaving ttl ms, id, user, leave delay ms. Removes a
 * member; its user's `leave` is due after the delay, unless they return.
 */
const REMOVE = `${PRELUDE}
local topic = ARGV[1]
local changed = expire()
if redis.call('HDEL', M, ARGV[4]) == 1 then
  redis.call('ZREM', E, ARGV[4])
  gone(ARGV[5], now + tonumber(ARGV[6]))
  changed = true
end
leaves(topic)
if changed then counted(topic) end
keep(ARGV[2], ARGV[3])
return out`;

/**
 * ARGV: topic, max members. Publishes what is due (expired members, leaves)
 * and returns {connections, users, the members' JSON (at most max)}.
 */
const READ = `${PRELUDE}
local topic, max = ARGV[1], tonumber(ARGV[2])
if expire() then counted(topic) end
leaves(topic)
local members = {}
if max > 0 then
  local cursor = '0'
  repeat
    local page = redis.call('HSCAN', M, cursor, 'COUNT', math.max(max, 100))
    cursor = page[1]
    for i = 2, #page[2], 2 do
      if #members < max then members[#members + 1] = page[2][i] end
    end
  until cursor == '0' or #members >= max
end
return {redis.call('HLEN', M), redis.call('HLEN', U), members, out}`;

/** Adds (or refreshes) members. */
export const addScript = new Script(ADD);
/** Removes a member. */
export const removeScript = new Script(REMOVE);
/** Counts and members, after what is due. */
export const readScript = new Script(READ);
