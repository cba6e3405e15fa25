-- Deletes entities by id, with their name in the tenant's index when it still points at
-- them. Deleting what is gone already is a no-op, so a batch re-run after a crash is safe.
-- KEYS[1] tenant's name index (name -> id), KEYS[2] tenant's entities (id -> JSON)
-- ARGV: entity ids
-- Returns how many entities were deleted now.
local deleted = 0
for i = 1, #ARGV do
  local json = redis.call('HGET', KEYS[2], ARGV[i])
  if json then
    local name = cjson.decode(json)['name']
    if type(name) == 'string' and redis.call('HGET', KEYS[1], name) == ARGV[i] then
      redis.call('HDEL', KEYS[1], name)
    end
    redis.call('HDEL', KEYS[2], ARGV[i])
    deleted = deleted + 1
  end
end
return deleted
