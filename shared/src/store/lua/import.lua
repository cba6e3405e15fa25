-- Creates sample entities, each only if its name is free in the tenant.
-- An entity id is derived from (operation, item index), so an item re-run after a crash
-- finds its own entity under its name and counts as created, not as a duplicate.
-- The names are looked up with one HMGET and the new entities written with one HSET per
-- hash, since Valkey's cost per item is mostly per command; a name taken earlier in the
-- same batch counts as taken. A batch is at most a few thousand items (Lua's unpack limit).
-- KEYS[1] tenant's name index (name -> id), KEYS[2] tenant's entities (id -> JSON)
-- ARGV: triples of name, id, entity JSON
-- Returns one character per triple, as one string (one reply value, not one per entity):
-- '1' created (now or by an earlier run), '0' name taken.
local names = {}
for i = 1, #ARGV, 3 do
  names[#names + 1] = ARGV[i]
end
local owners = redis.call('HMGET', KEYS[1], unpack(names))
local out, claimed, new_names, new_entities = {}, {}, {}, {}
for n = 1, #names do
  local name, id = ARGV[3 * n - 2], ARGV[3 * n - 1]
  local owner = owners[n] or claimed[name]
  if not owner then
    claimed[name] = id
    new_names[#new_names + 1] = name
    new_names[#new_names + 1] = id
    new_entities[#new_entities + 1] = id
    new_entities[#new_entities + 1] = ARGV[3 * n]
    out[n] = '1'
  elseif owner == id then
    out[n] = '1'
  else
    out[n] = '0'
  end
end
if #new_names > 0 then
  redis.call('HSET', KEYS[1], unpack(new_names))
  redis.call('HSET', KEYS[2], unpack(new_entities))
end
return table.concat(out)
