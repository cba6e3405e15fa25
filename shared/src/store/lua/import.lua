-- Creates sample entities, each only if its name is free in the tenant.
-- An entity id is derived from (operation, item index), so an item re-run after a crash
-- finds its own entity under its name and counts as created, not as a duplicate.
-- KEYS[1] tenant's name index (name -> id), KEYS[2] tenant's entities (id -> JSON)
-- ARGV: triples of name, id, entity JSON
-- Returns one integer per triple: 1 created (now or by an earlier run), 0 name taken.
local out = {}
for i = 1, #ARGV, 3 do
  local owner = redis.call('HGET', KEYS[1], ARGV[i])
  if not owner then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
    redis.call('HSET', KEYS[2], ARGV[i + 1], ARGV[i + 2])
    out[#out + 1] = 1
  elseif owner == ARGV[i + 1] then
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
return out
