-- Names the compensation of a completed operation, once: a repeated request gets the same.
-- KEYS[1] the original operation's hash
-- ARGV[1] tenant, ARGV[2] the new compensation's id
-- Returns {outcome, value}: {'new', id}, {'existing', id}, {'conflict', status}, {'missing', ''}.
local h = redis.call('HMGET', KEYS[1], F.status, F.tenant, F.compensation)
if not h[1] or h[2] ~= ARGV[1] then
  return {'missing', ''}
end
if h[3] then
  return {'existing', h[3]}
end
if h[1] ~= 'completed' then
  return {'conflict', h[1]}
end
redis.call('HSET', KEYS[1], F.compensation, ARGV[2])
redis.call('HINCRBY', KEYS[1], F.revision, 1)
return {'new', ARGV[2]}
