-- Creates an operation's record and its items, unless a record with its id exists: a
-- retry that repairs an interrupted creation (a compensation named on its original but
-- never created) may race another retry, and only one may create it.
-- On a single server (no slots), it also lists the operation in its tenant's index, in the
-- same atomic step; on a Valkey Cluster the index is another slot, written after this.
-- A creation that reaches Valkey after its deadline writes nothing: its intake has
-- answered 503 by then, and an operation nobody was told of must not run.
-- KEYS[1] operation hash, KEYS[2] items list, KEYS[3] (single server only) tenant's index
-- ARGV[1] operation id, ARGV[2] the index's bound: members below it have expired
-- ARGV[3] the deadline (unix ms), ARGV[4] how many field and value arguments follow; then
-- those; then the items
-- Returns 1 when created, 0 when the record existed, -1 when past the deadline.
local now = redis.call('TIME')
if tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) > tonumber(ARGV[3]) then
  return -1
end
local created = 0
if redis.call('EXISTS', KEYS[1]) == 0 then
  local fields = tonumber(ARGV[4])
  redis.call('HSET', KEYS[1], unpack(ARGV, 5, fields + 4))
  local last = #ARGV
  for first = fields + 5, last, 1000 do
    redis.call('RPUSH', KEYS[2], unpack(ARGV, first, math.min(first + 999, last)))
  end
  created = 1
end
if KEYS[3] then
  redis.call('ZADD', KEYS[3], 0, ARGV[1])
  redis.call('ZREMRANGEBYLEX', KEYS[3], '-', ARGV[2])
end
return created
