import { MAX_JSON_DEPTH } from '../events/json-limits.js';
import { INT_MAX } from '../events/validation.js';
import { ENVELOPE_FIELDS, VARIANTS, type FieldDefinition } from '../events/variants.js';

/** Name of the Redis Function library the gateway loads at start-up (`FUNCTION LOAD REPLACE`). */
export const LIBRARY_NAME = 'agent_progress_gateway';

/**
 * The function agents call to publish durably: `FCALL apg_publish 2 <streamKey> <sessionKey> <json> [<idempotencyKey>]`.
 * It validates the event, appends it to the session's stream and publishes it on the session's channel,
 * atomically, and answers `[seq, timestampMs]` — for a retried idempotency key, those of the original publish.
 */
export const PUBLISH_FUNCTION = 'apg_publish';

/**
 * Several events at once, atomically, with consecutive seqs:
 * `FCALL apg_publish_batch 2 <streamKey> <sessionKey> <idempotency key or ''> <json> <json> …`, answering
 * `[firstSeq, timestampMs]`.
 */
export const PUBLISH_BATCH_FUNCTION = 'apg_publish_batch';

/**
 * The same for the gateway's own `publishAgentEvent`. Its channel message is marked (`$gw`), as are those of the
 * session functions, so gateways can tell an agent's FCALL from another replica's mutation (metrics only).
 */
export const GATEWAY_PUBLISH_FUNCTION = 'apg_gateway_publish';

export interface LibraryOptions {
  historyMaxEvents: number;
  sessionTtlMs: number;
  maxEventBytes: number;
  maxPublishBatch: number;
  idempotencyWindowMs: number;
}

type LuaFieldSpec = { kind: string; max?: number; required?: boolean };

function luaField({ spec, required }: FieldDefinition): LuaFieldSpec {
  return { ...spec, ...(required ? { required } : {}) };
}

type LuaVariantSpec = { agent: boolean; fields: Record<string, LuaFieldSpec>; required: string[] };

/** The variant table, reduced to what the Lua validator needs; `required` lists the fields it must check are there. */
function validationSpec(): Record<string, LuaVariantSpec> {
  const spec: Record<string, LuaVariantSpec> = {};
  for (const variant of VARIANTS) {
    const entries = Object.entries({ ...ENVELOPE_FIELDS, ...variant.fields });
    spec[variant.type] = {
      agent: variant.inputField !== undefined,
      fields: Object.fromEntries(entries.map(([name, field]) => [name, luaField(field)])),
      required: entries.filter(([, field]) => field.required).map(([name]) => name),
    };
  }
  return spec;
}

/** Digits in a row that make the Lua validator look at each number of an event for one beyond a double. */
const LONG_DIGIT_RUN = 200;

/**
 * How long a publish may leave the session's TTL unrenewed: a session busy with many events a second renews its
 * keys' TTL once a second (or per hundredth of the TTL, when that is shorter) instead of on every event.
 */
function ttlRenewalMs(sessionTtlMs: number): number {
  return Math.min(1_000, Math.floor(sessionTtlMs / 100));
}

/**
 * The Lua source of the library. Limits are baked in at load time, so every replica should run with the same
 * history and size settings (the last one to start wins).
 *
 * Key layout the functions rely on: `stream:user_{u}:session_{s}` (KEYS[1]) and `session:{s}` (KEYS[2]); the
 * channel is the stream key with `stream:` replaced by `channel:`. The raw JSON is stored and republished as
 * sent (never re-encoded by cjson, which would turn `[]` into `{}` and round numbers).
 */
export function buildLibrarySource(options: LibraryOptions): string {
  const spec = JSON.stringify(validationSpec());
  return `#!lua name=${LIBRARY_NAME}
-- cjson is not reachable while a library loads, so the spec is decoded on first use.
local SPEC_JSON = [==[${spec}]==]
local SPEC
-- Redis arguments are strings, and Lua makes a number a string with sprintf, which shows in Redis's profile: the
-- constants are strings already, and a publish makes each of its numbers a string once.
local MAX_LEN = '${options.historyMaxEvents}'
local TTL_MS = '${options.sessionTtlMs}'
local RENEW_MS = ${ttlRenewalMs(options.sessionTtlMs)}
local MAX_BYTES = ${options.maxEventBytes}
local MAX_BATCH = ${options.maxPublishBatch}
local IDEMPOTENCY_MS = ${options.idempotencyWindowMs}
local INT_MAX = ${INT_MAX}
local MAX_DEPTH = ${MAX_JSON_DEPTH}

local function is_safe_id(v)
  return type(v) == 'string' and #v >= 1 and #v <= 128 and not string.find(v, '[^%w_%-]')
end

local function is_number(v)
  return type(v) == 'number' and v == v and v ~= math.huge and v ~= -math.huge
end

local function is_nonempty_array(v)
  if type(v) ~= 'table' or v[1] == nil then return false end
  local n = 0
  for _ in pairs(v) do n = n + 1 end
  return n == #v
end

local function check_field(name, f, v)
  local k = f.kind
  local ok
  if k == 'id' then ok = is_safe_id(v)
  elseif k == 'text' then ok = type(v) == 'string' and #v <= f.max and (not f.required or #v >= 1)
  elseif k == 'int' then ok = is_number(v) and math.floor(v) == v and v >= 0 and v <= INT_MAX
  elseif k == 'number' then ok = is_number(v) and v >= 0
  elseif k == 'percent' then ok = is_number(v) and v >= 0 and v <= 100
  elseif k == 'boolean' then ok = type(v) == 'boolean'
  elseif k == 'json' then ok = true
  elseif k == 'jsonArray' then ok = is_nonempty_array(v)
  end
  if ok then return nil end
  return name .. ': must be ' .. k .. (f.max and (' of at most ' .. f.max .. ' bytes') or '')
end

-- Returns nil when the event is valid, else the reason; the same rules as the gateway's zod schema.
local function invalid_reason(ev, agent_only)
  SPEC = SPEC or cjson.decode(SPEC_JSON)
  if type(ev) ~= 'table' then return 'an event must be a JSON object' end
  local variant = type(ev.type) == 'string' and SPEC[ev.type]
  if not variant or (agent_only and not variant.agent) then return 'type: unknown event type' end
  for name, v in pairs(ev) do
    if name ~= 'type' and v ~= cjson.null then
      local f = variant.fields[name]
      if not f then return tostring(name) .. ': unknown field' end
      local reason = check_field(name, f, v)
      if reason then return reason end
    end
  end
  for _, name in ipairs(variant.required) do
    if ev[name] == nil or ev[name] == cjson.null then return name .. ': required' end
  end
  return nil
end

-- cjson reads more than JSON.parse, which is how the gateway reads events back: raw control characters inside
-- strings, numbers such as \`1.\`, \`1.e5\` or \`-.5\` (its own checks refuse hex, leading zeros, inf and nan), and
-- numbers beyond a double (infinity, which no schema accepts, even nested in a JSON field). Such an event would be
-- stored but unreadable, its seq a hole in the history. Runs on text cjson has decoded: strings are well delimited.
-- Plain finds first: a pattern scan of 64 KB costs Redis a millisecond or more.
local RAW_CONTROL = 'event is not valid JSON (raw control character in a string)'
-- Made on first use (no string library at load): the control characters cjson refuses between tokens, and the
-- string functions as locals (looking them up in the globals cost a fifth of this check).
local STRAY_CONTROL, find, gsub, sub
local function lax_json_reason(json)
  if not STRAY_CONTROL then
    find, gsub, sub = string.find, string.gsub, string.sub
    STRAY_CONTROL = {}
    for byte = 0, 31 do
      if byte ~= 9 and byte ~= 10 and byte ~= 13 then STRAY_CONTROL[#STRAY_CONTROL + 1] = string.char(byte) end
    end
  end
  for i = 1, #STRAY_CONTROL do
    if find(json, STRAY_CONTROL[i], 1, true) then return RAW_CONTROL end
  end
  -- The strings emptied (an escape is a backslash and one character): what is left is structure and numbers.
  local outside = json
  if find(outside, '\\\\', 1, true) then outside = gsub(outside, '\\\\.', '') end
  outside = gsub(outside, '"[^"]*"', '""')
  -- Tab, newline and return are whitespace between tokens, and invalid inside a string.
  if find(json, '\\t', 1, true) or find(json, '\\n', 1, true) or find(json, '\\r', 1, true) then
    local _, all = gsub(json, '[\\t\\n\\r]', '')
    local _, between = gsub(outside, '[\\t\\n\\r]', '')
    if all ~= between then return RAW_CONTROL end
  end
  if find(outside, '.', 1, true) then
    if find(outside, '%.%D') or sub(outside, -1) == '.' or find(outside, '-.', 1, true) then
      return 'event is not valid JSON (a number needs digits before and after its point)'
    end
  end
  -- A number beyond a double (1.8e308) has an exponent of 100 or more, or else at least 210 digits before its point:
  -- only then look at each number. Most events leave too little outside their strings for the long run of digits.
  local exponent = (find(outside, 'e', 1, true) or find(outside, 'E', 1, true))
    and find(outside, '[eE]%+?0*[1-9]%d%d')
  if exponent or (#outside >= ${LONG_DIGIT_RUN} and find(outside, '${'%d'.repeat(LONG_DIGIT_RUN)}')) then
    for token in string.gmatch(outside, '[%-%d][%d%.eE%+%-]*') do
      if not is_number(tonumber(token)) then return 'numbers must be finite (' .. token .. ')' end
    end
  end
  return nil
end

local function channel_of(stream) return 'channel:' .. string.sub(stream, 8) end

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function last_seq(stream)
  local last = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)
  if #last == 0 then return 0 end
  return tonumber(string.match(last[1][1], '^(%d+)'))
end

-- A session's record, the hash at its key, holds userId, createdAt and updatedAt, and for the functions \`seq\`, the
-- last seq appended (so a publish need not read the stream's last entry; a session an older library started has
-- none), and \`renewedAt\`, when both keys' TTL was last renewed.
--
-- The record of a session whose stream key is the one of its owner (so no caller can write a foreign stream), as
-- HMGET answers { userId, seq, renewedAt }; nil for any other pair of keys.
local function owned_record(stream, session)
  -- Only keys of our own shape are touched, so swapped or foreign keys cannot meet a value of another type.
  if string.sub(stream, 1, 12) ~= 'stream:user_' or string.sub(session, 1, 8) ~= 'session:' then return nil end
  -- A key of another type answers with an error (pcall: a value, not a raised error), which has no owner.
  local record = redis.pcall('HMGET', session, 'userId', 'seq', 'renewedAt')
  local owner = record[1]
  if type(owner) ~= 'string' then return nil end
  if stream ~= 'stream:user_' .. owner .. ':session_' .. string.sub(session, 9) then return nil end
  return record
end

-- The same, for a session whose stream is there too.
local function existing_record(stream, session)
  local record = owned_record(stream, session)
  if record and redis.call('EXISTS', stream) == 1 then return record end
  return nil
end

-- The envelope goes after the event's own fields (JSON.parse keeps the last of duplicate keys). Its \`$\` names are
-- no event field's: a live-only message that merely copies a received event's \`seq\` is not taken for durable.
-- \`$gw\` marks a message the gateway itself logged, rather than an agent's FCALL.
local function channel_message(seq, ts, json, by_gateway)
  -- Most events end with their brace; the pattern, a scan of the whole event, is for those with whitespace after it.
  local fields = string.byte(json, -1) == 125 and string.sub(json, 1, -2) or string.match(json, '^(.*)}%s*$')
  return fields .. ',"$seq":' .. seq .. ',"$ts":' .. ts .. (by_gateway and ',"$gw":true}' or '}')
end

-- One event into the history under its seq, through \`call\` (redis.call, or redis.pcall for an error as a value).
-- With must_exist, only into a stream that is there (NOMKSTREAM: false otherwise).
local function xadd(call, stream, seq, ts, json, must_exist)
  if must_exist then
    return call('XADD', stream, 'NOMKSTREAM', 'MAXLEN', '~', MAX_LEN, seq .. '-0', 'ts', ts, 'e', json)
  end
  return call('XADD', stream, 'MAXLEN', '~', MAX_LEN, seq .. '-0', 'ts', ts, 'e', json)
end

-- Appends the events with consecutive seqs and one timestamp, and publishes each; answers the first seq and the time.
-- With the session's \`record\` (see owned_record), the stream must exist already: nil when it has gone. Without it,
-- the session is new and its stream empty.
local function append_all(stream, session, jsons, by_gateway, record, at)
  local first = (record and (tonumber(record[2]) or last_seq(stream)) or 0) + 1
  local ts = at or now_ms()
  local ts_text, seq_text = tostring(ts), tostring(first)
  local added = xadd(redis.pcall, stream, seq_text, ts_text, jsons[1], record ~= nil)
  if not added then return nil end
  if type(added) == 'table' then
    -- The record's seq is behind the stream, which only an older library's append leaves: the stream tells.
    first = last_seq(stream) + 1
    seq_text = tostring(first)
    xadd(redis.call, stream, seq_text, ts_text, jsons[1], false)
  end
  local channel = channel_of(stream)
  for i, json in ipairs(jsons) do
    if i > 1 then
      seq_text = tostring(first + i - 1)
      xadd(redis.call, stream, seq_text, ts_text, json, false)
    end
    redis.call('PUBLISH', channel, channel_message(seq_text, ts_text, json, by_gateway))
  end
  -- seq_text is now the last seq's.
  local since_renewal = record and ts - (tonumber(record[3]) or 0)
  if since_renewal and since_renewal >= 0 and since_renewal < RENEW_MS then
    redis.call('HSET', session, 'updatedAt', ts_text, 'seq', seq_text)
  else
    redis.call('HSET', session, 'updatedAt', ts_text, 'seq', seq_text, 'renewedAt', ts_text)
    redis.call('PEXPIRE', stream, TTL_MS)
    redis.call('PEXPIRE', session, TTL_MS)
  end
  return first, ts
end

local function append(stream, session, json, by_gateway, record, at)
  local seq, ts = append_all(stream, session, { json }, by_gateway, record, at)
  return { seq, ts }
end

local function not_found()
  return redis.error_reply('SESSION_NOT_FOUND no such session')
end

-- nil when the JSON is a valid agent event, else the error reply (its message prefixed by \`label\`).
local function invalid_event_reply(json, label)
  if #json > MAX_BYTES then return redis.error_reply('PAYLOAD_TOO_LARGE ' .. label .. 'event exceeds ' .. MAX_BYTES .. ' bytes') end
  -- Strict JSON: cjson otherwise accepts NaN, Infinity and hex numbers, which no JSON parser reads back.
  cjson.decode_invalid_numbers(false)
  cjson.decode_max_depth(MAX_DEPTH)
  local decoded, ev = pcall(cjson.decode, json)
  if not decoded then return redis.error_reply('BAD_USER_INPUT ' .. label .. 'event is not valid JSON') end
  local reason = lax_json_reason(json) or invalid_reason(ev, true)
  if reason then return redis.error_reply('BAD_USER_INPUT ' .. label .. reason) end
  return nil
end

-- The record a publish leaves under its idempotency key: '<first seq>:<timestamp>:<sha1 of the events>'. The key
-- names the session's creation time too, so a session ended and started again under the same id starts afresh.
local function idempotency_record_key(session, key)
  return 'idem:' .. string.sub(session, 9) .. ':' .. redis.call('HGET', session, 'createdAt') .. ':' .. key
end

-- KEYS: stream, session. Validates every event and the caller's keys, then either answers the publish an
-- idempotency key already made (same events: its first seq and time, marked replayed) or appends and publishes
-- them all, atomically. Answers { first seq, timestamp, replayed (0 or 1) }.
local function publish_events(keys, jsons, key, by_gateway)
  if #keys ~= 2 then return redis.error_reply('BAD_USER_INPUT usage: 2 keys, <stream key> <session key>') end
  if #jsons == 0 then return redis.error_reply('BAD_USER_INPUT a publish needs at least one event') end
  if #jsons > MAX_BATCH then
    return redis.error_reply('BATCH_TOO_LARGE a batch holds at most ' .. MAX_BATCH .. ' events, got ' .. #jsons)
  end
  for i, json in ipairs(jsons) do
    local invalid = invalid_event_reply(json, #jsons > 1 and ('events[' .. (i - 1) .. ']: ') or '')
    if invalid then return invalid end
  end
  if key ~= '' and (#key > 128 or string.find(key, '[^%w_%.:%-]')) then
    return redis.error_reply('BAD_USER_INPUT idempotencyKey: 1 to 128 characters of A-Z a-z 0-9 _ . : -')
  end
  -- Ownership first: a key never answers for a session the caller's keys do not name.
  local record = owned_record(keys[1], keys[2])
  if not record then return not_found() end
  local idempotency_record, fingerprint
  if key ~= '' then
    idempotency_record = idempotency_record_key(keys[2], key)
    fingerprint = redis.sha1hex(table.concat(jsons, '\\n'))
    local seen = redis.call('GET', idempotency_record)
    if seen then
      local first, ts, seen_fingerprint = string.match(seen, '^(%d+):(%d+):(%x+)$')
      if seen_fingerprint ~= fingerprint then
        return redis.error_reply('IDEMPOTENCY_KEY_REUSED this idempotency key was used for other events')
      end
      return { tonumber(first), tonumber(ts), 1 }
    end
  end
  local first, ts = append_all(keys[1], keys[2], jsons, by_gateway, record)
  if not first then return not_found() end
  if idempotency_record then redis.call('SET', idempotency_record, first .. ':' .. ts .. ':' .. fingerprint, 'PX', IDEMPOTENCY_MS) end
  return { first, ts, 0 }
end

-- Agents get [seq, timestamp], as before idempotency keys existed: a replay answers the original pair.
local function agent_reply(reply)
  if type(reply) == 'table' and reply[3] ~= nil then return { reply[1], reply[2] } end
  return reply
end

-- Agents: ARGV event JSON [, idempotency key].
local function publish(keys, args)
  if #args < 1 or #args > 2 then
    return redis.error_reply('BAD_USER_INPUT usage: FCALL ${PUBLISH_FUNCTION} 2 <stream key> <session key> <event JSON> [<idempotency key>]')
  end
  return agent_reply(publish_events(keys, { args[1] }, args[2] or '', false))
end

-- Agents and (marked) the gateway: ARGV idempotency key ('' for none), event JSON, event JSON, …
local function batch_args(args)
  local jsons = {}
  for i = 2, #args do jsons[i - 1] = args[i] end
  return jsons
end
local function publish_batch(keys, args) return agent_reply(publish_events(keys, batch_args(args), args[1] or '', false)) end
local function gateway_publish(keys, args) return publish_events(keys, batch_args(args), args[1] or '', true) end

-- KEYS: stream, session. ARGV: user id, SESSION_STARTED JSON.
-- Answers { 'CREATED' | 'EXISTING' | 'TAKEN', createdAt, updatedAt }.
local function start_session(keys, args)
  local owner = redis.call('HGET', keys[2], 'userId')
  if owner and owner ~= args[1] then return { 'TAKEN', 0, 0 } end
  if owner and redis.call('EXISTS', keys[1]) == 1 then
    redis.call('PEXPIRE', keys[1], TTL_MS)
    redis.call('PEXPIRE', keys[2], TTL_MS)
    local times = redis.call('HMGET', keys[2], 'createdAt', 'updatedAt')
    return { 'EXISTING', tonumber(times[1]), tonumber(times[2]) }
  end
  local ts = now_ms()
  redis.call('DEL', keys[1])
  redis.call('HSET', keys[2], 'userId', args[1], 'createdAt', ts)
  -- One clock reading: TIME moves on within a function, and a new session's updatedAt is its createdAt.
  append(keys[1], keys[2], args[2], true, nil, ts)
  return { 'CREATED', ts, ts }
end

-- KEYS: stream, session, queue. ARGV: REQUEST_QUEUED JSON, job JSON.
local function submit_request(keys, args)
  local record = existing_record(keys[1], keys[2])
  if not record then return not_found() end
  redis.call('RPUSH', keys[3], args[2])
  return append(keys[1], keys[2], args[1], true, record)
end

-- KEYS: stream, session. ARGV: SESSION_ENDED JSON. Publishes it with the next seq, then deletes everything.
local function end_session(keys, args)
  if not existing_record(keys[1], keys[2]) then return not_found() end
  local seq = last_seq(keys[1]) + 1
  local ts = now_ms()
  redis.call('PUBLISH', channel_of(keys[1]), channel_message(seq, ts, args[1], true))
  redis.call('DEL', keys[1], keys[2])
  return { seq, ts }
end

redis.register_function('${PUBLISH_FUNCTION}', publish)
redis.register_function('${PUBLISH_BATCH_FUNCTION}', publish_batch)
redis.register_function('${GATEWAY_PUBLISH_FUNCTION}', gateway_publish)
redis.register_function('apg_start_session', start_session)
redis.register_function('apg_submit_request', submit_request)
redis.register_function('apg_end_session', end_session)
`;
}
