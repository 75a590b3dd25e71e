//! A corpus of hostile scripts beyond the issues' repros. Each must end with
//! one of the outcomes listed for it (a typed error, or a harmless result)
//! within bounds, and the same state must then run a clean eval.

mod common;

use std::time::{Duration, Instant};

use common::eval;
use polyscript_core::serde_json::json;
use polyscript_core::{Error, Evaluator, LimitKind, Limits, PoolConfig, Source};
use polyscript_lua::LuaEngine;

/// What a hostile eval may end with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Timeout,
    Memory,
    Operations,
    CallDepth,
    Runtime,
    InvalidData,
    Ok,
}

use Outcome::*;

const TIMEOUT: Duration = Duration::from_secs(1);
/// Generous: this checks that nothing hangs, not how fast the engine is.
const MARGIN: Duration = Duration::from_secs(3);

const CORPUS: &[(&str, &[Outcome])] = &[
    // Pattern bombs, in every pattern function and through methods.
    (
        "string.find(string.rep('a', 3000), string.rep('a*', 25) .. 'b')",
        &[Timeout, Operations],
    ),
    (
        "(string.rep('a', 3000)):match(string.rep('a*', 25) .. 'b')",
        &[Timeout, Operations],
    ),
    (
        "for _ in string.rep('a', 3000):gmatch(string.rep('a*', 25) .. 'b') do end",
        &[Timeout, Operations],
    ),
    (
        "string.gsub(string.rep('a', 3000), string.rep('a*', 25) .. 'b', '%0')",
        &[Timeout, Operations],
    ),
    (
        "string.rep('a', 1e5):find('.-.-.-.-.-.-b')",
        &[Timeout, Operations],
    ),
    (
        "string.rep('a', 2e5):find('(.-)%1$')",
        &[Timeout, Operations],
    ),
    (
        "string.rep('ab', 1e5):find('%f[%w](%w*)%f[%W]x')",
        &[Timeout, Operations, Ok],
    ),
    (
        "string.rep('(', 1e5):gsub('%b()', 'x')",
        &[Timeout, Operations],
    ),
    ("string.rep('a', 2e7):gsub('', 'xy')", &[Memory]),
    (
        "for _ in string.rep('a', 1e8):gmatch('') do end",
        &[Memory, Timeout, Operations],
    ),
    (
        "string.gsub('abc', '%w', function() while true do end end)",
        &[Timeout, Operations],
    ),
    (
        "string.gsub('abc', '%w', setmetatable({}, {__index = function() while true do end end}))",
        &[Timeout, Operations],
    ),
    (
        "local function f(s) return (s:gsub('.', f)) end return f('ab')",
        &[CallDepth, Runtime],
    ),
    (
        "return string.find(string.rep('a', 300), string.rep('a?', 300))",
        &[Runtime],
    ),
    (
        "string.match('x', string.rep('(', 40) .. 'x' .. string.rep(')', 40))",
        &[Runtime],
    ),
    (
        "string.find(string.rep('x', 1e6), string.rep('x', 5e5) .. 'y', 1, true)",
        &[Ok],
    ),
    // string.rep bombs.
    ("return #string.rep('x', 2^40)", &[Runtime, Memory]),
    ("return #string.rep('x', 1e8)", &[Memory]),
    ("return #string.rep('', math.maxinteger)", &[Ok]),
    ("return #string.rep('', math.maxinteger, '')", &[Ok]),
    (
        "return #string.rep('ab', 1e7, string.rep('c', 100))",
        &[Memory, Runtime],
    ),
    ("local s = 'x' while true do s = s:rep(2) end", &[Memory]),
    // table.* bombs.
    (
        "local t = {} for i = 1, 1e6 do t[i] = string.rep('x', 100) end return #table.concat(t)",
        &[Memory],
    ),
    (
        "table.concat(setmetatable({}, {__index = table.concat}), '', 1, math.maxinteger)",
        &[Timeout, Operations],
    ),
    ("table.concat({}, string.rep('x', 1e6), 1, 10)", &[Runtime]),
    (
        "table.move({}, 1, math.maxinteger - 1, 1, {})",
        &[Timeout, Operations],
    ),
    (
        "table.sort(setmetatable({}, {__len = function() return 2^31 - 2 end, __index = rawlen, __newindex = rawequal}))",
        &[Timeout, Operations],
    ),
    (
        "table.insert(setmetatable({}, {__len = function() return math.maxinteger - 1 end, __index = rawlen, __newindex = rawequal}), 1, 1)",
        &[Timeout, Operations],
    ),
    ("return select('#', table.unpack({}, 1, 1e7))", &[Runtime]),
    (
        "local t = {} for i = 1, 1e9 do t[#t + 1] = i end",
        &[Memory],
    ),
    (
        "local t = {} for i = 1, 3e5 do t[i] = -i end table.sort(t, function(a, b) while true do end end)",
        &[Timeout, Operations],
    ),
    // Deep, cyclic, shared, huge and lossy results.
    (
        "local t = {} for i = 1, 1e6 do t = {t} end return t",
        &[InvalidData, Memory],
    ),
    (
        "local t = 0 for i = 1, 200 do t = {t} end return t",
        &[InvalidData],
    ),
    ("local t = {} t.self = t return t", &[InvalidData]),
    ("local t = {} t[1] = {t} return t", &[InvalidData]),
    (
        "local x = array() for i = 1, 40 do x = {x, x} end return x",
        &[Memory],
    ),
    (
        "local t = {} for i = 1, 1e6 do t[i] = i end return t",
        &[Memory],
    ),
    ("return { f = print }", &[InvalidData]),
    ("return { co = coroutine.create(print) }", &[InvalidData]),
    ("return string.char(0xff)", &[InvalidData]),
    ("return { [string.char(0xfe)] = 1 }", &[InvalidData]),
    ("return string.dump(function() end)", &[InvalidData]),
    ("return { n = 0/0 }", &[InvalidData]),
    ("return 1/0", &[InvalidData]),
    ("return { -math.huge }", &[InvalidData]),
    ("return { 1, 2, x = 3 }", &[InvalidData]),
    ("return { [1] = 'a', [3] = 'c' }", &[InvalidData]),
    ("return { [0] = 'z' }", &[InvalidData]),
    ("return { [-1] = 'z', 'a' }", &[InvalidData]),
    ("return { [1.5] = 1 }", &[InvalidData]),
    ("return { [true] = 1 }", &[InvalidData]),
    ("return { [{}] = 1 }", &[InvalidData]),
    ("local l = ctx.list l.x = 1 return l", &[InvalidData]),
    (
        "return setmetatable({}, {__pairs = function() error('x') end, __index = function() return 1 end})",
        &[Ok],
    ),
    ("return string", &[Ok]),
    ("return _G", &[Ok]),
    // Coroutine bombs.
    (
        "while true do coroutine.create(function() end) end",
        &[Timeout, Operations],
    ),
    (
        "local function f() return coroutine.wrap(f)() end return f()",
        &[CallDepth, Runtime],
    ),
    (
        "coroutine.resume(coroutine.create(function() while true do end end))",
        &[Timeout, Operations],
    ),
    (
        "local co = coroutine.wrap(function() while true do coroutine.yield() end end) while true do co() end",
        &[Timeout, Operations],
    ),
    (
        "local t = {} while true do t[#t + 1] = coroutine.create(function() end) end",
        &[Memory],
    ),
    (
        "local co = coroutine.wrap(function() local s = 'x' while true do s = s .. s; coroutine.yield() end end) while true do pcall(co) end",
        &[Memory, Runtime],
    ),
    // Metatable loops.
    (
        "local t = setmetatable({}, {}) getmetatable(t).__index = t return t.x",
        &[Runtime],
    ),
    (
        "local t = setmetatable({}, {__index = function(t, k) return t[k] end}) return t.x",
        &[CallDepth, Runtime],
    ),
    (
        "local t = setmetatable({}, {__newindex = function(t, k, v) t[k] = v end}) t.x = 1",
        &[CallDepth, Runtime],
    ),
    (
        "local mt = {} mt.__eq = function(a, b) return a == b end local a, b = setmetatable({}, mt), setmetatable({}, mt) return a == b",
        &[CallDepth, Runtime],
    ),
    (
        "return tostring(setmetatable({}, {__tostring = function() while true do end end}))",
        &[Timeout, Operations],
    ),
    (
        "return tostring(setmetatable({}, {__tostring = tostring}))",
        &[CallDepth, Runtime],
    ),
    (
        "error(setmetatable({}, {__tostring = function() while true do end end}))",
        &[Timeout, Operations, CallDepth, Runtime],
    ),
    (
        "local t = setmetatable({}, {__len = function(t) return #t end}) return #t",
        &[CallDepth, Runtime],
    ),
    (
        "local t = setmetatable({}, {__call = function(t) return t() end}) return t()",
        &[Timeout, Operations],
    ),
    (
        "local t = setmetatable({}, {__call = function(t) return (t()) end}) return t()",
        &[CallDepth, Runtime],
    ),
    (
        "local t = setmetatable({}, {__concat = function(a, b) return a .. b end}) return t .. 'x'",
        &[CallDepth, Runtime],
    ),
    (
        "setmetatable({}, {__gc = function() while true do end end})",
        &[Runtime],
    ),
    (
        "local mt = {} setmetatable({}, mt) mt.__gc = function() while true do end end collectgarbage()",
        &[Ok],
    ),
    (
        "do local x <close> = setmetatable({}, {__close = function() while true do end end}) end",
        &[Timeout, Operations],
    ),
    (
        "local x <close> = setmetatable({}, {__close = function() while true do end end}) while true do end",
        &[Timeout, Operations],
    ),
    (
        "xpcall(function() while true do end end, function() while true do end end)",
        &[Timeout, Operations],
    ),
    (
        "local x <close> = setmetatable({}, {__close = function() while true do end end}) while true do end",
        &[Timeout, Operations],
    ),
    (
        "coroutine.wrap(function() local x <close> = setmetatable({}, {__close = function() while true do end end}) while true do end end)()",
        &[Timeout, Operations],
    ),
    (
        "local c = coroutine.create(function() local x <close> = setmetatable({}, {__close = function() while true do end end}) while true do end end) pcall(coroutine.resume, c) coroutine.close(c)",
        &[Timeout, Operations],
    ),
    (
        "pcall(coroutine.wrap(function() local x <close> = setmetatable({}, {__close = function() while true do end end}) while true do end end)) while true do end",
        &[Timeout, Operations],
    ),
    (
        "while true do pcall(function() local x <close> = setmetatable({}, {__close = function() error('x') end}) local s = 'x' while true do s = s .. s end end) end",
        &[Memory, Timeout],
    ),
    // load() tricks.
    (
        "return #tostring(load(string.rep('x = 1 ', 2e6)))",
        &[Ok, Memory],
    ),
    (
        "load(function() return 'x = 1 ' end)",
        &[Memory, Timeout, Operations],
    ),
    ("return select(2, load(string.rep('(', 1e5)))", &[Ok]),
    (
        "return select(2, load(string.rep('function f() ', 300) .. string.rep('end ', 300)))",
        &[Ok],
    ),
    ("return select(2, load(string.dump(function() end)))", &[Ok]),
    ("load('while true do end')()", &[Timeout, Operations]),
    ("load('x = 1', 'n', 't', string)()", &[Runtime]),
    ("load('rawset(string, \"upper\", print)')()", &[Runtime]),
    ("local f = load('return _ENV') return f() == _ENV", &[Ok]),
    // string.format, utf8 and the other C functions.
    ("return string.format('%99999d', 1)", &[Runtime]),
    ("return string.format(string.rep('%s', 1e5))", &[Runtime]),
    ("return #string.format('%s', string.rep('x', 1e7))", &[Ok]),
    (
        "return #string.format(string.rep('%5.2s', 1e6), table.unpack({}, 1, 0))",
        &[Runtime, Memory],
    ),
    ("return utf8.len(string.rep('\\xff', 1e7))", &[Ok]),
    (
        "return utf8.codepoint(string.rep('a', 1e7), 1, -1)",
        &[Runtime],
    ),
    (
        "for p, c in utf8.codes(string.rep('a', 1e8)) do end",
        &[Memory, Timeout, Operations],
    ),
    (
        "return utf8.char(table.unpack((function() local t = {} for i = 1, 1e5 do t[i] = 0x10FFFF end return t end)())):len()",
        &[Ok],
    ),
    ("return utf8.offset(string.rep('a', 1e6), 1e9)", &[Ok]),
    (
        "return string.byte(string.rep('a', 1e7), 1, -1)",
        &[Runtime],
    ),
    (
        "return string.pack('i' .. string.rep('1', 100), 1)",
        &[Runtime],
    ),
    (
        "return #string.unpack('z', string.rep('a', 1e7))",
        &[Runtime],
    ),
    (
        "return #string.unpack('z', string.rep('a', 1e7) .. '\\0')",
        &[Ok],
    ),
    (
        "return os.time({year = 1e18, month = 1, day = 1})",
        &[Runtime],
    ),
    ("return #os.date(string.rep('%c', 1e6))", &[Ok, Memory]),
    ("print(string.rep('x', 1e7)) return 1", &[Ok]),
    // Plain loops, recursion and allocation.
    ("::a:: goto a", &[Timeout, Operations]),
    ("for i = 1, math.huge do end", &[Timeout, Operations]),
    ("while true do local t = {} end", &[Timeout, Operations]),
    (
        "local s = '' for i = 1, 1e7 do s = s .. 'x' end",
        &[Timeout, Operations, Memory],
    ),
    ("while true do collectgarbage() end", &[Timeout, Operations]),
    (
        "local function f() return f() + 1 end return f()",
        &[CallDepth],
    ),
    (
        "local function f() pcall(f) end f()",
        &[Ok, CallDepth, Runtime],
    ),
    (
        "local function f() xpcall(f, f) end f()",
        &[Ok, CallDepth, Runtime],
    ),
    ("collectgarbage('stop')", &[Runtime]),
    ("collectgarbage('generational')", &[Runtime]),
    ("setmetatable(_ENV, nil)", &[Runtime]),
    ("rawset(string, 'x', 1)", &[Runtime]),
    ("string.x = 1", &[Runtime]),
    ("getmetatable('').__index.upper = print", &[Runtime]),
    ("error()", &[Runtime]),
    ("error(nil, 0)", &[Runtime]),
    (
        "while true do pcall(error, 'not enough memory', 0) end",
        &[Memory],
    ),
];

fn outcome_of(result: &polyscript_core::Result<polyscript_core::Value>) -> Outcome {
    match result {
        Result::Ok(_) => Ok,
        Err(Error::Timeout { .. }) => Timeout,
        Err(Error::LimitExceeded { limit, .. }) => match limit {
            LimitKind::Memory => Memory,
            LimitKind::Operations => Operations,
            LimitKind::CallDepth => CallDepth,
            _ => panic!("an unknown limit: {result:?}"),
        },
        Err(Error::Runtime { .. }) => Runtime,
        Err(Error::InvalidData { .. }) => InvalidData,
        Err(other) => panic!("an unexpected error: {other:?}"),
    }
}

#[test]
fn every_hostile_script_ends_typed_and_in_time() {
    let limits = Limits::default()
        .with_timeout(TIMEOUT)
        .with_memory_bytes(32 * 1024 * 1024);
    let mut failures = Vec::new();
    for (i, (hostile, allowed)) in CORPUS.iter().enumerate() {
        let script = format!(
            "local function hostile()\n{hostile}\nend\nif ctx.hostile then return hostile() end\nreturn 'clean'"
        );
        let ev = match Evaluator::builder(LuaEngine::new(), Source::from_text(&script))
            .limits(limits)
            .pool(PoolConfig::default().with_max_size(1).with_min_idle(1))
            .build()
        {
            Result::Ok(ev) => ev,
            Err(e) => {
                failures.push(format!("{i}: {hostile}: does not compile: {e}"));
                continue;
            }
        };
        let start = Instant::now();
        let result = eval(&ev, json!({"hostile": true, "list": [1, 2]}));
        let took = start.elapsed();
        let got = outcome_of(&result);
        if !allowed.contains(&got) {
            failures.push(format!(
                "{i}: {hostile}: expected one of {allowed:?}, got {result:?}"
            ));
        }
        if took > TIMEOUT + MARGIN {
            failures.push(format!("{i}: {hostile}: took {took:?}"));
        }
        match eval(&ev, json!({"hostile": false})) {
            Result::Ok(v) if v == json!("clean") => {}
            other => failures.push(format!("{i}: {hostile}: the next eval got {other:?}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
