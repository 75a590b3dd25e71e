-- Builds the table every script's globals fall back to, once per Lua state.
--
-- Arguments: the state's real globals (whose `string` table already holds the
-- bounded pattern functions), the per-instance environment table the script
-- runs in, the Rust `print`, the Rust "does this error end the eval?" check,
-- the Rust "a script seeded the random generator" note, the array metatable,
-- the JSON null, the grants (a table of booleans), the host functions
-- (a table of C closures by name; empty without a registry), and for a large
-- input's lazy `ctx` (convert/lazy.rs) its metatable (filled in here) and the
-- Rust functions that convert one entry and all of them.
-- Result: nothing; `env` gets a protected metatable whose `__index` is the
-- sandbox table.
--
-- What an eval can change must not outlive it. The script's own globals live
-- in `env`, which Rust empties after every eval. Everything else a script can
-- reach is either immutable (functions, strings), or a read-only view whose
-- real table no script can get hold of (the libraries), or protected by
-- `__metatable` (the views, `env`, the string metatable, the array
-- metatable). `rawset` refuses the views, and `setmetatable` refuses
-- finalizers (`__gc` would run at some later garbage collection, in another
-- eval or with the hook off, since Lua runs finalizers without hooks).
local real, env, print_fn, stops_on, note_seeded, array_mt, null, grants, host, lazy_mt, fetch, fill = ...

local rawerror, rawpcall, rawxpcall, rawload = real.error, real.pcall, real.xpcall, real.load
local select, setmetatable, next, pairs, type = real.select, real.setmetatable, real.next, real.pairs, real.type
local rawget, rawset = real.rawget, real.rawset
local string_sub = real.string.sub

-- Read-only views, by view: the library name (for `rawset`'s refusal).
local frozen = {}

-- A read-only view of a library table: scripts can read and iterate it but
-- not change it, and nothing hands out the table behind it (its iterator is
-- a closure, its metatable hidden).
local function readonly(lib, name)
  local view = {}
  setmetatable(view, {
    __index = lib,
    __newindex = function()
      rawerror("the library '" .. name .. "' is read-only", 2)
    end,
    __pairs = function()
      return function(_, k)
        return next(lib, k)
      end, view, nil
    end,
    __len = function()
      return #lib
    end,
    __metatable = false,
  })
  frozen[view] = name
  return view
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

-- An eval that was stopped (deadline, cancellation, operation, call-depth or
-- memory limit) must not be swallowed by the script: protected calls rethrow
-- while the eval is stopped, and a caught memory error stops it.
local function pass(ok, ...)
  if not ok and stops_on((...)) then
    rawerror((...), 0)
  end
  return ok, ...
end

local G = copy(real, {
  "assert", "error", "getmetatable", "ipairs", "next", "pairs", "rawequal",
  "rawget", "rawlen", "select", "tonumber", "tostring", "type", "_VERSION",
})

-- A large input's `ctx` converts each entry when it is first read
-- (`__index`). Whatever would see its raw contents fills it first, which
-- leaves a plain table: a write (so a key set to nil stays deleted),
-- `pairs`, and the raw and metatable functions below.
local LAZY = "polyscript: lazy ctx"
lazy_mt.__index = fetch
lazy_mt.__newindex = function(t, k, v)
  fill(t)
  rawset(t, k, v)
end
lazy_mt.__pairs = function(t)
  fill(t)
  return next, t, nil
end
lazy_mt.__metatable = LAZY
local rawgetmetatable = real.getmetatable
local function plain(t)
  if rawgetmetatable(t) == LAZY then
    fill(t)
  end
  return t
end
-- Through `...`, so a missing argument is still Lua's own error.
G.next = function(...)
  plain((...))
  return next(...)
end
G.rawget = function(...)
  plain((...))
  return rawget(...)
end
G.getmetatable = function(...)
  plain((...))
  return rawgetmetatable(...)
end

G.print = print_fn
G.pcall = function(...)
  return pass(rawpcall(...))
end
-- A message handler runs where the error was raised; for an error the
-- instruction hook raised (the eval was stopped), that is inside the hook,
-- where Lua runs no hooks: the script's handler could then loop for ever.
-- So once the eval is stopped, handlers are skipped.
G.xpcall = function(f, handler, ...)
  if type(handler) ~= "function" then
    return pass(rawxpcall(f, handler, ...)) -- Lua's own argument error
  end
  return pass(rawxpcall(f, function(e)
    if stops_on(e) then
      return e
    end
    return handler(e)
  end, ...))
end

G.rawset = function(t, k, v)
  plain(t)
  local name = frozen[t]
  if name then
    rawerror("the library '" .. name .. "' is read-only", 2)
  end
  return rawset(t, k, v)
end

G.setmetatable = function(t, mt)
  plain(t)
  plain(mt)
  if type(mt) == "table" and rawget(mt, "__gc") ~= nil then
    rawerror("__gc metamethods are not allowed (a finalizer would run after the eval)", 2)
  end
  return setmetatable(t, mt)
end

-- The parser runs without instructions, so without the hook: long chunks are
-- fed to it in pieces through a Lua reader, between which the hook runs.
local PIECE = 4096
local function in_pieces(read)
  local held, pos = nil, 1
  return function()
    if held then
      local part = string_sub(held, pos, pos + PIECE - 1)
      pos = pos + PIECE
      if pos > #held then
        held = nil
      end
      return part
    end
    local got = read()
    if type(got) == "string" and #got > PIECE then
      held, pos = got, PIECE + 1
      return string_sub(got, 1, PIECE)
    end
    return got
  end
end

-- Text chunks only; by default they run in the script's own environment.
G.load = function(chunk, name, _mode, ...)
  local chunk_env = env
  if select("#", ...) > 0 then
    chunk_env = (...)
  end
  if type(chunk) == "function" then
    return rawload(in_pieces(chunk), name, "t", chunk_env)
  end
  if type(chunk) == "string" and #chunk > PIECE then
    local text = chunk
    return rawload(in_pieces(function()
      local piece = text
      text = nil
      return piece
    end), name or chunk, "t", chunk_env)
  end
  return rawload(chunk, name, "t", chunk_env)
end

local gc_allowed = { collect = true, count = true, step = true, isrunning = true }
G.collectgarbage = function(opt, ...)
  if opt == nil or gc_allowed[opt] then
    return real.collectgarbage(opt, ...)
  end
  rawerror("collectgarbage('" .. real.tostring(opt) .. "') is not allowed", 2)
end

-- JSON null and a way to mark a table as a list (so an empty one comes back
-- as `[]`, not `{}`).
G.null = null
G.array = function(t)
  return setmetatable(plain(t) or {}, array_mt)
end

-- Host functions: `host.NAME(...)`. A name that is not registered reads as
-- nil (so scripts can test for one), and calling it is Lua's "attempt to
-- call a nil value (field 'NAME')".
G.host = readonly(host, "host")

G.string = readonly(real.string, "string")
G.table = readonly(real.table, "table")
G.utf8 = readonly(real.utf8, "utf8")

-- The generator's state is the one thing in `math` that changes: a script
-- that seeds it gets the generator reseeded at random after its eval.
local math = copy(real.math)
local rawrandomseed = real.math.randomseed
math.randomseed = function(...)
  note_seeded()
  return rawrandomseed(...)
end
G.math = readonly(math, "math")

local INTERRUPTED = "polyscript: eval interrupted"
local rawcreate, rawresume, rawclose, rawstatus =
  real.coroutine.create, real.coroutine.resume, real.coroutine.close, real.coroutine.status

local co = copy(real.coroutine)
co.resume = function(...)
  return pass(rawresume(...))
end
-- Closing runs the coroutine's to-be-closed variables. A coroutine that the
-- stopped eval's hook killed keeps Lua's "no hooks" flag (the error left the
-- hook by longjmp), so its `__close` would run unstoppable: refuse.
co.close = function(...)
  if stops_on(nil) then
    rawerror(INTERRUPTED, 0)
  end
  return pass(rawclose(...))
end
-- Lua's `coroutine.wrap` closes a coroutine that failed at once, which for
-- one the hook stopped is the same trap; this one is Lua's `auxwrap` on top
-- of the guarded resume and close.
local function wrapped(c, ok, ...)
  if ok then
    return ...
  end
  local err = ...
  if stops_on(err) then
    rawerror(err, 0)
  end
  if rawstatus(c) == "dead" then
    local closed, close_err = rawclose(c)
    if not closed then
      err = close_err
    end
  end
  if type(err) == "string" then
    rawerror(err, 2) -- with the caller's position, as Lua's wrap does
  end
  rawerror(err, 0)
end
co.wrap = function(...)
  local f = ...
  if type(f) ~= "function" then
    local got = select("#", ...) == 0 and "no value" or type(f)
    rawerror("bad argument #1 to 'wrap' (function expected, got " .. got .. ")", 2)
  end
  local c = rawcreate(f)
  return function(...)
    return wrapped(c, rawresume(c, ...))
  end
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
  -- File handles share one metatable (their methods): hide it.
  local file_mt = real.io.stdout and real.getmetatable(real.io.stdout)
  if file_mt then
    file_mt.__metatable = false
  end
end

-- The string metatable would otherwise hand out the real `string` table.
local string_mt = real.getmetatable("")
if string_mt then
  string_mt.__metatable = false
end

G._G = env
setmetatable(env, { __index = G, __metatable = false })
