-- Creates an operation's record and its items, unless a record with its id exists: a
-- retry that repairs an interrupted creation (a compensation named on its original but
-- never created) may race another retry, and only one may create it.
-- KEYS[1] operation hash, KEYS[2] items list
-- ARGV[1] how many field and value arguments follow; then those; then the items
-- Returns 1 when created, 0 when the record existed.
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
local fields = tonumber(ARGV[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 2, fields + 1))
local last = #ARGV
for first = fields + 2, last, 1000 do
  redis.call('RPUSH', KEYS[2], unpack(ARGV, first, math.min(first + 999, last)))
end
return 1
