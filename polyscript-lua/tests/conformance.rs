//! The core conformance kit, with Lua scripts.

use polyscript_core::testkit::{self, Harness, Scenario};
use polyscript_core::{AnyEvaluator, Error, Evaluator, Limits, PoolConfig, Result, Source};
use polyscript_lua::LuaEngine;

struct Lua;

/// The script for `scenario`, if this harness has one.
fn script(scenario: Scenario) -> Option<&'static str> {
    Some(match scenario {
        Scenario::Greeting => {
            r#"
local greeting = "Hello, " .. ctx.name .. "!"
return { greeting = greeting, length = #greeting }
"#
        }
        Scenario::Nested => {
            r#"
local user = ctx.user
return { user = { name = user.name, city = user.address.city }, tag_count = #user.tags }
"#
        }
        Scenario::Echo => "return ctx.value",
        // The syntax error is on line 3.
        Scenario::CompileError => "local x = 1\nlocal y = 2\nlocal z = = 3\nreturn z\n",
        Scenario::RuntimeError => "local t = nil\nreturn t.field\n",
        Scenario::LeakGlobal => {
            r#"
local previous = leaked
leaked = ctx.n
return previous
"#
        }
        Scenario::TopLevelDeclaration => "local x = ctx.n + 1\nreturn x\n",
        Scenario::InfiniteLoop => "while true do end",
        Scenario::MemoryBomb => {
            r#"
local s = "x"
while true do s = s .. s end
"#
        }
        Scenario::DeepRecursion => {
            r#"
local function f(n) return f(n + 1) + 1 end
return f(0)
"#
        }
        Scenario::ReadFile => {
            r#"
local f = io.open("/etc/hostname")
return f:read("a")
"#
        }
        // Lua has no sockets; the closest reach out is a process (curl).
        Scenario::OpenSocket => {
            r#"
local p = io.popen("curl -s http://example.com")
return p:read("a")
"#
        }
        Scenario::ReadEnv => "return os.getenv(\"PATH\")",
        Scenario::DeepResult => {
            r#"
local v = 0
for _ = 1, ctx.depth do v = { v } end
return v
"#
        }
        Scenario::DagResult => {
            r#"
local x = array()
for _ = 1, ctx.levels do x = { x, x } end
return x
"#
        }
        Scenario::NonFiniteResult => "return { n = 0 / 0 }",
        Scenario::HostCall => "return { sum = host.add(ctx.a, ctx.b), user = host.user(ctx.id) }",
        Scenario::HostErrorCaught => {
            r#"
local ok, err = pcall(function() host.fail(ctx.message) end)
assert(not ok, "host.fail did not fail")
return err
"#
        }
        Scenario::HostErrorUncaught => {
            "host.fail(ctx.message)
return 'unreachable'"
        }
        Scenario::HostWrongArguments => "return host.add(ctx.a)",
        Scenario::HostSlowCall => {
            "host.slow(ctx.ms)
return 'done'"
        }
        Scenario::HostData => "return host.tenant()",
        Scenario::HostLoop => "while true do host.add(1, 1) end",
        // Scenarios this harness has no script for (yet) fail their checks
        // with this error instead of stopping the whole kit.
        _ => return None,
    })
}

impl Harness for Lua {
    fn evaluator(&self, s: Scenario, limits: Limits, pool: PoolConfig) -> Result<AnyEvaluator> {
        let Some(text) = script(s) else {
            return Err(Error::load(
                format!("{s:?}"),
                "the Lua harness has no script for this scenario",
            ));
        };
        let engine = LuaEngine::builder()
            .host_functions(testkit::host_functions())
            .build();
        Ok(Evaluator::builder(engine, Source::from_text(text))
            .limits(limits)
            .pool(pool)
            .build()?
            .into_any())
    }

    fn compile_error_line(&self) -> Option<u32> {
        Some(3)
    }
}

#[test]
fn conformance() {
    testkit::run_all(&Lua);
}
