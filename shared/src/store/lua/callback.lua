-- Records how an operation's webhook stands, unless it is already settled.
-- KEYS[1] operation hash
-- ARGV[1] status ('retrying', 'delivered', 'failed'), ARGV[2] attempts, ARGV[3] last error
-- Returns 1 when recorded, 0 when the operation is gone or its webhook already settled.
local current = redis.call('HGET', KEYS[1], F.callback_status)
if redis.call('EXISTS', KEYS[1]) == 0 or current == 'delivered' or current == 'failed' then
  return 0
end
redis.call('HSET', KEYS[1], F.callback_status, ARGV[1], F.callback_attempts, ARGV[2])
if ARGV[3] ~= '' then
  redis.call('HSET', KEYS[1], F.callback_error, ARGV[3])
else
  redis.call('HDEL', KEYS[1], F.callback_error)
end
redis.call('HINCRBY', KEYS[1], F.revision, 1)
return 1
