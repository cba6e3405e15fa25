-- Extends an idempotency reservation by another lease, only if it is still the caller's.
-- KEYS[1] idempotency key; ARGV[1] the reservation value the caller set, ARGV[2] lease (ms)
-- Returns 1 when extended, 0 when the reservation is no longer the caller's.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
