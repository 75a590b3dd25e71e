//! A tiny in-test engine whose "scripts" name a behaviour. It can be told to
//! misbehave, to prove the testkit and the evaluator notice.

use std::sync::Mutex;
use std::time::Duration;

use polyscript_core::data::{self, Budget, DataError, Direction};
use polyscript_core::host::HostFunctions;
use polyscript_core::testkit;
use polyscript_core::testkit::{Harness, Scenario};
use polyscript_core::{
    AnyEvaluator, Engine, EngineKind, Error, EvalInput, Evaluator, Guard, LimitKind, Limits,
    Location, Map, PoolConfig, Result, Source, Value,
};
use serde_json::json;

/// Ways the toy engine can be wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flaw {
    None,
    /// Keeps globals between evals.
    Leaks,
    /// Miscounts the greeting length.
    WrongGreeting,
    /// Reports a cancellation as a timeout.
    CancelAsTimeout,
    /// Shares one input slot between all instances (a data race by design).
    SharedInput,
    /// Ignores the memory limit and reports a runtime error instead.
    NoMemoryLimit,
    /// Lets scripts read the environment.
    LeaksEnv,
    /// Converts data without the nesting bound.
    NoDepthBound,
    /// Expands shared results without a size budget (here: returns `null`
    /// instead of stopping).
    ExpandsDag,
    /// Turns a NaN result into `null`.
    NanAsNull,
    /// Carries integers as floats.
    RoundsIntegers,
    /// Turns an uncaught host function error into `null`.
    SwallowsHostErrors,
    /// Calls host functions without the eval's host data.
    DropsHostData,
}

/// The toy's "conversion" of a value into or out of its VM: the data bounds
/// and the number rule of a 64-bit-integer engine, as a real engine applies
/// them (unless told to misbehave).
fn convert(
    value: &Value,
    depth: u32,
    budget: &Budget,
    flaw: Flaw,
) -> std::result::Result<Value, DataError> {
    match value {
        Value::Array(items) => {
            if flaw != Flaw::NoDepthBound {
                budget.enter(depth + 1)?;
            }
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                out.push(convert(item, depth + 1, budget, flaw).map_err(|e| e.at_index(i))?);
            }
            Ok(Value::Array(out))
        }
        Value::Object(map) => {
            if flaw != Flaw::NoDepthBound {
                budget.enter(depth + 1)?;
            }
            let mut out = Map::new();
            for (k, v) in map {
                out.insert(
                    k.clone(),
                    convert(v, depth + 1, budget, flaw).map_err(|e| e.at_key(k.as_str()))?,
                );
            }
            Ok(Value::Object(out))
        }
        Value::Number(n) if flaw == Flaw::RoundsIntegers => {
            Ok(json!(n.as_f64().unwrap_or_default()))
        }
        Value::Number(n) => match data::i64_from_json(n)? {
            data::IntOrFloat::Int(i) => Ok(json!(i)),
            data::IntOrFloat::Float(f) => data::float_to_json(f),
        },
        other => Ok(other.clone()),
    }
}

/// How many times the `sleepy` script started.
pub static SLEEPY_CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

pub struct Toy {
    pub flaw: Flaw,
    shared_input: Mutex<Option<Map>>,
    host: HostFunctions,
}

impl Toy {
    pub fn new(flaw: Flaw) -> Self {
        Toy {
            flaw,
            shared_input: Mutex::new(None),
            host: testkit::host_functions(),
        }
    }

    /// A correct toy engine offering `host` to its scripts.
    pub fn with_host(host: HostFunctions) -> Self {
        Toy {
            host,
            ..Toy::new(Flaw::None)
        }
    }

    /// One host call as a script engine makes it: an interrupt ends the
    /// eval, any other failure is a script error (`Err(message)` here).
    fn host(
        &self,
        name: &str,
        args: Vec<Value>,
        guard: &Guard<'_>,
    ) -> Result<std::result::Result<Value, String>> {
        let plain;
        let guard = if self.flaw == Flaw::DropsHostData {
            plain = Guard::new(
                guard.engine(),
                guard.script_id(),
                *guard.limits(),
                None,
                guard.cancel_token(),
            );
            &plain
        } else {
            guard
        };
        match self.host.call(name, &args, guard) {
            Ok(value) => Ok(Ok(value)),
            Err(e) if e.is_interrupt() => Err(e.into_error(guard)),
            Err(e) => Ok(Err(e.message().to_owned())),
        }
    }
}

#[derive(Default)]
pub struct ToyInstance {
    pub globals: Map,
    pub evals: u64,
}

fn runtime(guard: &Guard<'_>, message: &str) -> Error {
    guard.runtime_error(message, Some(Location::line(1)))
}

impl Engine for Toy {
    type Program = String;
    type Instance = ToyInstance;

    fn kind(&self) -> EngineKind {
        EngineKind::Other("toy")
    }

    fn compile(&self, source: &Source, _limits: &Limits) -> Result<String> {
        let text = source.text()?;
        if let Some((i, _)) = text.lines().enumerate().find(|(_, l)| l.contains("!!")) {
            return Err(Error::Compile {
                engine: self.kind(),
                script_id: source.id(),
                message: "unexpected `!!`".into(),
                location: Some(Location::new(i as u32 + 1, 1)),
            });
        }
        Ok(text.trim().to_owned())
    }

    fn instantiate(&self, _program: &String, _limits: &Limits) -> Result<ToyInstance> {
        Ok(ToyInstance::default())
    }

    fn eval(
        &self,
        instance: &mut ToyInstance,
        program: &String,
        input: &EvalInput<'_>,
        guard: &Guard<'_>,
    ) -> Result<Value> {
        let input = input
            .to_map()
            .map_err(|e| e.into_error(Direction::Input, guard.engine(), guard.script_id()))?;
        if self.flaw != Flaw::Leaks {
            instance.globals.clear();
        }
        instance.evals += 1;
        let input = if self.flaw == Flaw::SharedInput {
            *self.shared_input.lock().unwrap() = Some(input.into_owned());
            std::thread::yield_now();
            self.shared_input
                .lock()
                .unwrap()
                .clone()
                .unwrap_or_default()
        } else {
            input.into_owned()
        };
        let budget = Budget::for_limits(guard.limits());
        let input = match convert(&Value::Object(input), 0, &budget, self.flaw) {
            Ok(Value::Object(map)) => map,
            Ok(_) => Map::new(),
            Err(e) => return Err(e.into_error(Direction::Input, self.kind(), guard.script_id())),
        };
        let result = |value: Value| {
            convert(&value, 0, &budget, self.flaw)
                .map_err(|e| e.into_error(Direction::Result, self.kind(), guard.script_id()))
        };
        if let Some(literal) = program.strip_prefix("const:") {
            return serde_json::from_str(literal)
                .map_err(|e| runtime(guard, &format!("bad constant: {e}")));
        }
        match program.as_str() {
            "greeting" => {
                let name = input.get("name").and_then(Value::as_str).unwrap_or("");
                let greeting = format!("Hello, {name}!");
                let mut length = greeting.len();
                if self.flaw == Flaw::WrongGreeting {
                    length += 1;
                }
                Ok(json!({"greeting": greeting, "length": length}))
            }
            "nested" => {
                let user = &input["user"];
                Ok(json!({
                    "user": {"name": user["name"], "city": user["address"]["city"]},
                    "tag_count": user["tags"].as_array().map_or(0, Vec::len),
                }))
            }
            "echo" => result(input.get("value").cloned().unwrap_or(Value::Null)),
            "deep" => {
                let depth = input["depth"].as_u64().unwrap_or(0) as usize;
                let mut value = json!(0);
                for _ in 0..depth.min(300) {
                    value = Value::Array(vec![value]);
                }
                let out = result(value.clone());
                // Deep values drop recursively; this one is at most 300 levels.
                drop(value);
                out
            }
            "dag" => {
                // The toy has no shared values: it charges what expanding a
                // DAG of `levels` levels would build, as a real converter does.
                let levels = input["levels"].as_u64().unwrap_or(0).min(62) as u32;
                if self.flaw == Flaw::ExpandsDag {
                    return Ok(Value::Null);
                }
                let nodes = (1u64 << (levels + 1)) - 1;
                let mut budget = budget;
                for _ in 0..nodes {
                    if let Err(e) = budget.charge_value() {
                        return Err(e.into_error(
                            Direction::Result,
                            self.kind(),
                            guard.script_id(),
                        ));
                    }
                }
                let mut x = json!([]);
                for _ in 0..levels {
                    x = json!([x.clone(), x]);
                }
                Ok(x)
            }
            "host_call" => {
                let sum = self.host("add", vec![input["a"].clone(), input["b"].clone()], guard)?;
                let user = self.host("user", vec![input["id"].clone()], guard)?;
                match (sum, user) {
                    (Ok(sum), Ok(user)) => Ok(json!({"sum": sum, "user": user})),
                    (Err(e), _) | (_, Err(e)) => Err(runtime(guard, &e)),
                }
            }
            "host_caught" => match self.host("fail", vec![input["message"].clone()], guard)? {
                Ok(_) => Ok(json!("no error")),
                Err(message) => Ok(json!(message)),
            },
            "host_uncaught" | "host_wrong" => {
                let outcome = if program == "host_wrong" {
                    self.host("add", vec![input["a"].clone()], guard)?
                } else {
                    self.host("fail", vec![input["message"].clone()], guard)?
                };
                match outcome {
                    Ok(value) => Ok(value),
                    Err(_) if self.flaw == Flaw::SwallowsHostErrors => Ok(Value::Null),
                    Err(message) => Err(runtime(guard, &format!("host function {message}"))),
                }
            }
            "host_slow" => match self.host("slow", vec![input["ms"].clone()], guard)? {
                Ok(_) => Ok(json!("done")),
                Err(message) => Err(runtime(guard, &message)),
            },
            "host_data" => match self.host("tenant", vec![], guard)? {
                Ok(value) => Ok(value),
                Err(message) => Err(runtime(guard, &message)),
            },
            "host_wait" => match self.host("wait", vec![input["ms"].clone()], guard)? {
                Ok(value) => Ok(value),
                Err(message) => Err(runtime(guard, &message)),
            },
            "host_loop" => loop {
                if let Err(message) = self.host("add", vec![json!(1), json!(1)], guard)? {
                    return Err(runtime(guard, &message));
                }
            },
            "nan" => {
                if self.flaw == Flaw::NanAsNull {
                    return Ok(json!({"n": null}));
                }
                data::float_to_json(f64::NAN).map_err(|e| {
                    e.at_key("n")
                        .into_error(Direction::Result, self.kind(), guard.script_id())
                })
            }
            "fail" => Err(runtime(guard, "boom")),
            "leak" => {
                let prev = instance.globals.get("leak").cloned().unwrap_or(Value::Null);
                instance
                    .globals
                    .insert("leak".into(), input.get("n").cloned().unwrap_or_default());
                Ok(prev)
            }
            "toplevel" => Ok(json!(input["n"].as_i64().unwrap_or(0) + 1)),
            "spin" => {
                let mut ops = 0u64;
                loop {
                    ops += 1;
                    if let Some(max) = guard.limits().operations
                        && ops > max
                    {
                        return Err(guard.limit_error(LimitKind::Operations, "too many ops"));
                    }
                    if let Err(e) = guard.check() {
                        if self.flaw == Flaw::CancelAsTimeout {
                            return Err(guard.timeout_error());
                        }
                        return Err(e);
                    }
                    if ops.is_multiple_of(1000) {
                        std::thread::sleep(Duration::from_micros(50));
                    }
                }
            }
            "bomb" => {
                let mut held: Vec<u8> = Vec::new();
                loop {
                    held.extend(std::iter::repeat_n(0, 1 << 16));
                    if let Some(max) = guard.limits().memory_bytes
                        && held.len() as u64 > max
                    {
                        if self.flaw == Flaw::NoMemoryLimit {
                            return Err(runtime(guard, "out of memory"));
                        }
                        return Err(guard.limit_error(LimitKind::Memory, "heap too big"));
                    }
                }
            }
            "recurse" => {
                fn down(depth: u32, guard: &Guard<'_>) -> Result<u32> {
                    if guard.limits().call_depth.is_some_and(|max| depth > max) {
                        return Err(guard.limit_error(LimitKind::CallDepth, "too deep"));
                    }
                    down(depth + 1, guard)
                }
                down(0, guard).map(Value::from)
            }
            "vowels" => {
                let count: usize = input["items"]
                    .as_array()
                    .map(|items| {
                        items
                            .iter()
                            .filter_map(Value::as_str)
                            .map(|s| s.chars().filter(|c| "aeiouAEIOU".contains(*c)).count())
                            .sum()
                    })
                    .unwrap_or(0);
                Ok(json!({ "count": count }))
            }
            "double" => Ok(json!({"n": input["n"].as_i64().unwrap_or(0) * 2})),
            "scalar" => Ok(json!(input["n"].as_i64().unwrap_or(0) + 1)),
            "sleepy" => {
                SLEEPY_CALLS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(20));
                guard.check()?;
                Ok(json!({"count": 1}))
            }
            "read_file" | "socket" => Ok(Value::Null),
            "env" => {
                if self.flaw == Flaw::LeaksEnv {
                    Ok(std::env::var("PATH").map(Value::from).unwrap_or_default())
                } else {
                    Ok(Value::Null)
                }
            }
            "panic" => panic!("toy engine panicked"),
            other => Err(runtime(guard, &format!("unknown toy script {other}"))),
        }
    }
}

pub struct ToyHarness(pub Flaw);

impl Harness for ToyHarness {
    fn evaluator(&self, s: Scenario, limits: Limits, pool: PoolConfig) -> Result<AnyEvaluator> {
        let script = match s {
            Scenario::Greeting => "greeting",
            Scenario::Nested => "nested",
            Scenario::Echo => "echo",
            Scenario::CompileError => "fine\nbroken !!\n",
            Scenario::RuntimeError => "fail",
            Scenario::LeakGlobal => "leak",
            Scenario::TopLevelDeclaration => "toplevel",
            Scenario::InfiniteLoop => "spin",
            Scenario::MemoryBomb => "bomb",
            Scenario::DeepRecursion => "recurse",
            Scenario::ReadFile => "read_file",
            Scenario::OpenSocket => "socket",
            Scenario::ReadEnv => "env",
            Scenario::DeepResult => "deep",
            Scenario::DagResult => "dag",
            Scenario::NonFiniteResult => "nan",
            Scenario::HostCall => "host_call",
            Scenario::HostErrorCaught => "host_caught",
            Scenario::HostErrorUncaught => "host_uncaught",
            Scenario::HostWrongArguments => "host_wrong",
            Scenario::HostSlowCall => "host_slow",
            Scenario::HostData => "host_data",
            Scenario::HostLoop => "host_loop",
            _ => "unknown",
        };
        Ok(
            Evaluator::builder(Toy::new(self.0), Source::from_text(script))
                .limits(limits)
                .pool(pool)
                .build()?
                .into_any(),
        )
    }

    fn compile_error_line(&self) -> Option<u32> {
        Some(2)
    }

    fn concurrent_evals_per_thread(&self) -> usize {
        200
    }
}
