//! What scripts may and may not reach.

mod common;

use common::{eval, evaluator_with, run};
use polyscript_core::serde_json::json;
use polyscript_core::{Error, Limits};
use polyscript_lua::LuaEngine;

const PROBE: &str = r#"
local function has(path)
  local v = _ENV
  for part in string.gmatch(path, "[^.]+") do
    if type(v) ~= "table" then return false end
    v = v[part]
  end
  return v ~= nil
end
local out = {}
for _, name in ipairs(ctx.names) do out[name] = has(name) end
return out
"#;

fn probe(engine: LuaEngine, names: &[&str]) -> polyscript_core::Value {
    let ev = evaluator_with(engine, PROBE, Limits::default()).unwrap();
    eval(&ev, json!({ "names": names })).unwrap()
}

#[test]
fn dangerous_names_are_absent_by_default() {
    let denied = [
        "io",
        "debug",
        "package",
        "require",
        "dofile",
        "loadfile",
        "os.execute",
        "os.getenv",
        "os.remove",
        "os.rename",
        "os.exit",
        "os.tmpname",
        "string.dump.x",
    ];
    let got = probe(LuaEngine::new(), &denied);
    for name in denied {
        assert_eq!(got[name], json!(false), "{name} is reachable: {got}");
    }
}

#[test]
fn safe_libraries_are_present() {
    let allowed = [
        "string.format",
        "table.concat",
        "math.floor",
        "utf8.char",
        "coroutine.wrap",
        "os.time",
        "os.clock",
        "os.date",
        "print",
        "pcall",
        "load",
        "tostring",
        "null",
        "array",
    ];
    let got = probe(LuaEngine::new(), &allowed);
    for name in allowed {
        assert_eq!(got[name], json!(true), "{name} is missing: {got}");
    }
}

#[test]
fn grants_open_what_they_name() {
    let got = probe(
        LuaEngine::builder().allow_env().build(),
        &["os.getenv", "os.execute", "io"],
    );
    assert_eq!(
        got,
        json!({"os.getenv": true, "os.execute": false, "io": false})
    );

    let got = probe(
        LuaEngine::builder().allow_io().build(),
        &["io.open", "io.popen"],
    );
    assert_eq!(got, json!({"io.open": true, "io.popen": false}));

    let got = probe(
        LuaEngine::builder().allow_os().allow_io().build(),
        &["os.execute", "os.getenv", "os.exit", "io.popen"],
    );
    assert_eq!(
        got,
        json!({"os.execute": true, "os.getenv": true, "os.exit": false, "io.popen": true})
    );
}

#[test]
fn granted_env_reads_the_environment() {
    let ev = evaluator_with(
        LuaEngine::builder().allow_env().build(),
        "return os.getenv('PATH')",
        Limits::default(),
    )
    .unwrap();
    assert_eq!(
        eval(&ev, json!({})).unwrap(),
        json!(std::env::var("PATH").ok())
    );
}

#[test]
fn binary_chunks_cannot_be_loaded() {
    let got = run(
        r#"
local bin = string.dump(function() return 1 end)
local f, err = load(bin, "bin", "b")
return { loaded = f ~= nil, err = tostring(err) }
"#,
        json!({}),
    )
    .unwrap();
    assert_eq!(got["loaded"], json!(false));
    assert!(got["err"].as_str().unwrap().contains("binary"), "{got}");
}

#[test]
fn collectgarbage_cannot_stop_the_collector() {
    match run("collectgarbage('stop')", json!({})) {
        Err(Error::Runtime { message, .. }) => {
            assert!(message.contains("not allowed"), "{message}")
        }
        other => panic!("expected a runtime error, got {other:?}"),
    }
    assert_eq!(
        run("return type(collectgarbage('count'))", json!({})).unwrap(),
        json!("number")
    );
}

#[test]
fn print_works_and_returns_nothing() {
    assert_eq!(
        run("print('hello', 1, 2.5, nil, {})\nreturn 1", json!({})).unwrap(),
        json!(1)
    );
}

#[test]
fn coroutine_wrap_behaves_as_lua_s_own() {
    // The sandbox's wrap is Lua's auxwrap on top of guarded resume and close;
    // the same scripts in a plain Lua state must give the same answers.
    let cases = [
        "local f = coroutine.wrap(function(a) local b = coroutine.yield(a + 1) return b * 2 end)\n\
         return table.concat({f(1), f(10)}, ',')",
        "local f = coroutine.wrap(function() error('boom') end)\nlocal ok, e = pcall(f)\nreturn e",
        "local f = coroutine.wrap(function() error('boom') end)\n\
         local ok, e = pcall(function() f() end)\nreturn e",
        "local f = coroutine.wrap(function() end)\nf()\nlocal ok, e = pcall(function() f() end)\nreturn e",
        "local f = coroutine.wrap(function() error({}) end)\nlocal ok, e = pcall(f)\nreturn type(e)",
        "local closed = false\n\
         local f = coroutine.wrap(function() local x <close> = setmetatable({}, {__close = function() closed = true end}) error('x') end)\n\
         pcall(f)\nreturn tostring(closed)",
        "local f = coroutine.wrap(function() local x <close> = setmetatable({}, {__close = function() error('y', 0) end}) error('x', 0) end)\n\
         local ok, e = pcall(f)\nreturn e",
        "local ok, e = pcall(function() coroutine.wrap(1) end)\nreturn e",
        "local f\nf = coroutine.wrap(function() return pcall(f) end)\nreturn tostring(select(2, f()))",
        "local f = coroutine.wrap(function(...) return select('#', ...), select(2, ...) end)\n\
         return table.concat({f(nil, 2, nil)}, ',', 1, 2)",
    ];
    let plain = polyscript_lua::mlua::Lua::new();
    for case in cases {
        let want: String = plain.load(case).set_name("=script").eval().unwrap();
        assert_eq!(run(case, json!({})).unwrap(), json!(want), "{case}");
    }
}
