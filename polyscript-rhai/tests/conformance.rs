//! The polyscript conformance suite, with Rhai scripts.

use polyscript_core::testkit::{self, Harness, Scenario};
use polyscript_core::{AnyEvaluator, Error, Evaluator, Limits, PoolConfig, Result, Source};
use polyscript_rhai::RhaiEngine;

struct Rhai;

/// The script for each scenario.
fn script(scenario: Scenario) -> Result<&'static str> {
    Ok(match scenario {
        Scenario::Greeting => {
            r#"
            let greeting = "Hello, " + ctx.name + "!";
            #{ greeting: greeting, length: greeting.len() }
            "#
        }
        Scenario::Nested => {
            r#"
            let user = ctx.user;
            #{
                user: #{ name: user.name, city: user["address"].city },
                tag_count: user.tags.len()
            }
            "#
        }
        Scenario::Echo => "ctx.value",
        // The syntax error is on line 3.
        Scenario::CompileError => "let a = 1;\nlet b = 2;\nlet c = ;\n",
        Scenario::RuntimeError => r#"throw "always fails: " + ctx.n"#,
        // Rhai has no mutable state that outlives one eval: every eval runs in
        // a fresh Scope, there is no global table, no statics, and script
        // functions cannot write outside themselves. The closest a script can
        // get is to look for a variable a previous eval declared, then declare
        // it; the fresh Scope means the look-up never finds it, so this
        // returns `()` (null) every time.
        Scenario::LeakGlobal => {
            r#"
            let previous = if is_def_var("leaked") { leaked } else { () };
            let leaked = ctx.n;
            previous
            "#
        }
        Scenario::TopLevelDeclaration => "let x = ctx.n + 1;\nx",
        Scenario::InfiniteLoop => "let i = 0;\nloop { i += 1; }",
        Scenario::MemoryBomb => r#"let s = "x"; loop { s += s; }"#,
        Scenario::DeepRecursion => "fn down(n) { down(n + 1) }\ndown(0)",
        // What a script author would try; none of these functions exists.
        Scenario::ReadFile => r#"open_file("/etc/hostname").read_string()"#,
        Scenario::OpenSocket => r#"let s = connect("example.com", 80); s != ()"#,
        Scenario::ReadEnv => r#"env("PATH")"#,
        // `take` moves the list into the new one (`[a]` would copy it every
        // time: quadratic in the depth).
        Scenario::DeepResult => "let a = 0;\nfor i in 0..ctx.depth { a = [take(a)]; }\na",
        // rhai copies a value wherever it is put (a captured variable is
        // shared, but reading it into a list copies it), so this builds the
        // full tree: the memory limit stops it inside the script instead of
        // in the result conversion.
        Scenario::DagResult => "let x = [];\nfor i in 0..ctx.levels { x = [x, x]; }\nx",
        Scenario::NonFiniteResult => "#{ n: 0.0 / 0.0 }",
        Scenario::HostCall => "#{ sum: host.add(ctx.a, ctx.b), user: host.user(ctx.id) }",
        // `try` is a statement in rhai: the caught value is kept in a
        // variable.
        Scenario::HostErrorCaught => {
            r#"
            let caught = "not raised";
            try {
                host.fail(ctx.message);
            } catch (e) {
                caught = e;
            }
            caught
            "#
        }
        Scenario::HostErrorUncaught => r#"host.fail(ctx.message); "not raised""#,
        Scenario::HostWrongArguments => "host.add(ctx.a)",
        Scenario::HostSlowCall => r#"host.slow(ctx.ms); "done""#,
        Scenario::HostData => "host.tenant()",
        Scenario::HostLoop => "loop { host.add(1, 1); }",
        other => {
            return Err(Error::Unsupported {
                message: format!("no Rhai script for {other:?}"),
            });
        }
    })
}

impl Harness for Rhai {
    fn evaluator(
        &self,
        scenario: Scenario,
        limits: Limits,
        pool: PoolConfig,
    ) -> Result<AnyEvaluator> {
        let source = Source::from_text(script(scenario)?);
        let engine = RhaiEngine::builder()
            .host_functions(testkit::host_functions())
            .build();
        Ok(Evaluator::builder(engine, source)
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
    testkit::run_all(&Rhai);
}
