-- Builds the table every script's globals fall back to, once per Lua state.
--
-- Arguments: the state's real globals, the per-instance environment table the
-- script runs in, the Rust `print`, the Rust "was this eval interrupted?"
-- check, mlua's array metatable, mlua's null, and the grants (a table of
-- booleans).
-- Result: nothing; `env` gets a protected metatable whose `__index` is the
-- sandbox table.
local real, env, print_fn, tripped, array_mt, null, grants = ...

local rawerror, rawpcall, rawxpcall, rawload = real.error, real.pcall, real.xpcall, real.load
local select, setmetatable, next, pairs = real.select, real.setmetatable, real.next, real.pairs

-- A read-only view of a library table: scripts can read and iterate it but
-- not change it, so nothing a script does to `string` or `math` outlives its
-- eval.
local function readonly(lib, name)
  return setmetatable({}, {
    __index = lib,
    __newindex = function()
      rawerror("the library '" .. name .. "' is read-only", 2)
    end,
    __pairs = function()
      return next, lib, nil
    end,
    __len = function()
      return #lib
    end,
    __metatable = false,
  })
end

local function copy(lib, keys)
  local out = {}
  if keys then
    for _, k in real.ipairs(keys) do
      out[k] = lib[k]
    end
  else
    for k, v in pairs(lib) do
      out[k] = v
    end
  end
  return out
end

-- An interrupted eval (deadline, cancellation, operation or call-depth limit)
-- must not be swallowed by the script: protected calls rethrow while the eval
-- is interrupted.
local function pass(ok, ...)
  if not ok and tripped() then
    rawerror((...), 0)
  end
  return ok, ...
end

local G = copy(real, {
  "assert", "error", "getmetatable", "ipairs", "next", "pairs", "rawequal",
  "rawget", "rawlen", "rawset", "select", "setmetatable", "tonumber",
  "tostring", "type", "_VERSION",
})

G.print = print_fn
G.pcall = function(...)
  return pass(rawpcall(...))
end
G.xpcall = function(...)
  return pass(rawxpcall(...))
end

-- Text chunks only; by default they run in the script's own environment.
G.load = function(chunk, name, _mode, ...)
  if select("#", ...) == 0 then
    return rawload(chunk, name, "t", env)
  end
  return rawload(chunk, name, "t", (...))
end

local gc_allowed = { collect = true, count = true, step = true, isrunning = true }
G.collectgarbage = function(opt, ...)
  if opt == nil or gc_allowed[opt] then
    return real.collectgarbage(opt, ...)
  end
  rawerror("collectgarbage('" .. real.tostring(opt) .. "') is not allowed", 2)
end

-- JSON null (mlua's null light userdata) and a way to mark a table as a list
-- (so an empty one comes back as `[]`, not `{}`).
G.null = null
G.array = function(t)
  return setmetatable(t or {}, array_mt)
end

G.string = readonly(real.string, "string")
G.table = readonly(real.table, "table")
G.math = readonly(real.math, "math")
G.utf8 = readonly(real.utf8, "utf8")

local co = copy(real.coroutine)
co.resume = function(...)
  return pass(real.coroutine.resume(...))
end
co.close = function(...)
  return pass(real.coroutine.close(...))
end
G.coroutine = readonly(co, "coroutine")

local os = copy(real.os, { "time", "clock", "date", "difftime" })
if grants.os then
  -- Everything but os.exit: a script never ends the host process.
  os = copy(real.os)
  os.exit = nil
end
if grants.env or grants.os then
  os.getenv = real.os.getenv
end
G.os = readonly(os, "os")

if grants.io and real.io then
  local io = copy(real.io)
  if not grants.os then
    io.popen = nil -- starts a process
  end
  G.io = readonly(io, "io")
end

-- The string metatable would otherwise hand out the real `string` table.
local string_mt = real.getmetatable("")
if string_mt then
  string_mt.__metatable = false
end

G._G = env
setmetatable(env, { __index = G, __metatable = false })
