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
