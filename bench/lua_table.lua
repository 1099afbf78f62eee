-- lua_table: builds a large table of mixed values, thins it and grows it
-- again, checking every value; a benchmark of the allocator under a real
-- interpreter (run as `lua5.4 bench/lua_table.lua [N]`, under LD_PRELOAD).
--
-- N entries (default 1,000,000) in the array part and N / 4 more under
-- string keys in the hash part: strings of 8 to 60 bytes, small tables
-- (a number, a string, a nested table) and numbers. Then every other entry
-- is removed and the garbage collected, and the holes are filled again
-- with slightly larger values. Prints one line `lua_table: ok ...` and exits
-- 0 if every value read back is the one stored, 1 (with a message) if not.

local n = tonumber(arg[1] or "1000000")
local t = {}

local function make(i, extra)
  local k = i % 3
  if k == 0 then
    return string.rep(string.char(97 + i % 26), 8 + (i * 7) % 53 + extra)
  elseif k == 1 then
    return { i, tostring(i) .. string.rep("x", extra), { i * 2 } }
  else
    return i * 1.5 + extra
  end
end

local function ok(v, i, extra)
  local k = i % 3
  if k == 0 then
    return type(v) == "string" and #v == 8 + (i * 7) % 53 + extra
      and string.byte(v, 1) == 97 + i % 26 and string.byte(v, #v) == 97 + i % 26
  elseif k == 1 then
    return type(v) == "table" and v[1] == i and v[2] == tostring(i) .. string.rep("x", extra)
      and v[3][1] == i * 2
  else
    return v == i * 1.5 + extra
  end
end

-- Build.
for i = 1, n do
  t[i] = make(i, 0)
end
for i = 1, n // 4 do
  t["key" .. i] = make(i, 0)
end

-- Thin: every other entry goes.
for i = 2, n, 2 do
  t[i] = nil
end
for i = 2, n // 4, 2 do
  t["key" .. i] = nil
end
collectgarbage()

-- Grow back, slightly larger.
for i = 2, n, 2 do
  t[i] = make(i, 8)
end
for i = 2, n // 4, 2 do
  t["key" .. i] = make(i, 8)
end

-- Check everything.
local bad, count = 0, 0
for i = 1, n do
  if not ok(t[i], i, i % 2 == 0 and 8 or 0) then
    bad = bad + 1
  end
  count = count + 1
end
for i = 1, n // 4 do
  if not ok(t["key" .. i], i, i % 2 == 0 and 8 or 0) then
    bad = bad + 1
  end
  count = count + 1
end
if bad ~= 0 then
  io.stderr:write(string.format("lua_table: %d of %d values wrong\n", bad, count))
  os.exit(1)
end
print(string.format("lua_table: ok entries=%d memory_kb=%.0f", count, collectgarbage("count")))
