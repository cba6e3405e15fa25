-- Stores a request's answer under its idempotency key, unless another request holds the
-- key now: the caller's reservation lapsed, another request reserved the key, and that
-- request's answer is the one to keep. A key that lapsed and is free takes the answer; one
-- that holds this answer already (a retry whose first reply was lost) keeps it.
-- KEYS[1] idempotency key; ARGV[1] the reservation value the caller set, ARGV[2] the
-- answer's entry, ARGV[3] retention (s)
-- Returns 1 when stored, 0 when the key is another request's.
local held = redis.call('GET', KEYS[1])
if held and held ~= ARGV[1] and held ~= ARGV[2] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1
