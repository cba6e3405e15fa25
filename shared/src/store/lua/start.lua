-- Claims an operation for one delivery of its job message.
-- The owner is "<stream sequence>:<delivery count>": a later delivery of the same message
-- takes over from an earlier one (the earlier worker is presumed dead, and is fenced out
-- from now on); a different message for the same operation (a republished duplicate) never
-- takes over from a live one.
-- KEYS[1] operation hash, KEYS[2] items list, KEYS[3] errors list
-- ARGV[1] stream sequence, ARGV[2] delivery count, ARGV[3] now (unix ms),
-- ARGV[4] how many items to return
-- Returns {outcome, record, items-or-errors}:
--   'missing'   no record (expired or never written)
--   'terminal'  already ended; the record and its errors, so the terminal event can be re-sent
--   'stale'     a later delivery of this message owns the operation
--   'duplicate' another message owns the operation
--   'run'       now running under this delivery; the fields a claim reads back (status,
--               cur, succ, fail, updated, completed, rev, cancel, started: record.rs
--               CLAIMED, as this step leaves them; joined by commas, as record.rs unjoin
--               reads them) and the items from the checkpoint, as one JSON array
local h = redis.call('HMGET', KEYS[1], F.status, F.owner, F.attempt, F.current, F.succeeded,
  F.failed, F.cancel, F.started, F.revision)
local status = h[1]
if not status then
  return {'missing', {}, {}}
end
if status ~= 'accepted' and status ~= 'running' then
  return {'terminal', unpack(record(KEYS[1], KEYS[3]))}
end
local started = h[8]
if status == 'running' then
  local owner = ARGV[1] .. ':'
  if not h[2] or string.sub(h[2], 1, #owner) ~= owner then
    return {'duplicate', {}, {}}
  end
  if tonumber(h[3]) > tonumber(ARGV[2]) then
    return {'stale', {}, {}}
  end
else
  started = ARGV[3]
end
local revision = (tonumber(h[9]) or 0) + 1
redis.call('HSET', KEYS[1], F.status, 'running', F.attempt, ARGV[2],
  F.owner, ARGV[1] .. ':' .. ARGV[2], F.updated, ARGV[3], F.started, started,
  F.revision, revision)
local cur = tonumber(h[4])
local items = {}
if tonumber(ARGV[4]) > 0 then
  items = redis.call('LRANGE', KEYS[2], cur, cur + tonumber(ARGV[4]) - 1)
end
-- A running operation has no completion time.
return {'run', table.concat({'running', h[4], h[5], h[6], ARGV[3], '', revision, h[7], started}, ','),
  joined(items)}
