-- Releases an idempotency reservation, only if it is still the caller's.
-- KEYS[1] idempotency key; ARGV[1] the reservation value the caller set
-- Returns 1 when released.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
