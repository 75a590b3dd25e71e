//! The real `polyscript` binary, every subcommand, every engine.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::{Value, json};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn file(path: &str) -> String {
    root().join(path).display().to_string()
}

fn polyscript() -> Command {
    Command::cargo_bin("polyscript").expect("the polyscript binary")
}

fn stdout_json(output: &std::process::Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

const PLUGIN: &str = "polyscript-wasm/guests/plugin/build/plugin.wasm";
const WASI: &str = "polyscript-wasm/guests/wasi/build/scripts.wasm";

fn greeting(name: &str) -> Value {
    let g = format!("Hello, {name}!");
    json!({"greeting": g, "length": g.len()})
}

/// The JSON `polyscript run ARGS` prints, asserting that it succeeded.
fn run_ok(args: &[&str]) -> Value {
    let out = polyscript().arg("run").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout_json(&out)
}

#[test]
fn run_greets_in_every_engine() {
    for script in [
        "examples/rhai/greet.rhai",
        "examples/lua/greet.lua",
        "examples/js/greet.js",
    ] {
        let got = run_ok(&[&file(script), "--data", r#"{"name": "World"}"#]);
        assert_eq!(got, greeting("World"), "{script}");
    }
    let (plugin, wasi) = (file(PLUGIN), file(WASI));
    let plugin_args = [
        plugin.as_str(),
        "--entry",
        "greet",
        "--data",
        r#"{"name": "Wasm"}"#,
    ];
    let wasi_args = [
        wasi.as_str(),
        "--data",
        r#"{"op": "greet", "name": "Wasi"}"#,
    ];
    assert_eq!(run_ok(&plugin_args), greeting("Wasm"));
    assert_eq!(run_ok(&wasi_args), greeting("Wasi"));
}

#[test]
fn wasm_runs_on_either_compiler_and_auto_falls_back_from_the_baseline() {
    let (plugin, wasi) = (file(PLUGIN), file(WASI));
    for compiler in ["baseline", "optimizing", "auto"] {
        let got = run_ok(&[
            &plugin,
            "--entry",
            "greet",
            "--compiler",
            compiler,
            "--data",
            r#"{"name": "Wasm"}"#,
        ]);
        assert_eq!(got, greeting("Wasm"), "{compiler}");
        let got = run_ok(&[
            &wasi,
            "--compiler",
            compiler,
            "--data",
            r#"{"op": "greet", "name": "Wasi"}"#,
        ]);
        assert_eq!(got, greeting("Wasi"), "{compiler}");
    }
    // A tail call: Cranelift compiles it, the baseline compiler cannot.
    let module = std::env::temp_dir().join(format!("polyscript-tail-{}.wasm", std::process::id()));
    std::fs::write(
        &module,
        r#"(module (func $f (return_call $g)) (func $g) (func (export "_start") (call $f)))"#,
    )
    .unwrap();
    let module_path = module.display().to_string();
    let run = |compiler: &str| {
        polyscript()
            .args(["run", &module_path, "--compiler", compiler])
            .output()
            .unwrap()
    };
    let baseline = run("baseline");
    let auto = run("auto");
    std::fs::remove_file(&module).unwrap();
    assert_eq!(baseline.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&baseline.stderr).contains("tail calls"),
        "{}",
        String::from_utf8_lossy(&baseline.stderr)
    );
    assert!(
        auto.status.success(),
        "{}",
        String::from_utf8_lossy(&auto.stderr)
    );
    assert_eq!(stdout_json(&auto), Value::Null);
}

#[test]
fn data_comes_from_a_file_or_stdin_and_bad_json_is_a_usage_error() {
    let dir = std::env::temp_dir().join(format!("polyscript-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let data = dir.join("data.json");
    std::fs::write(&data, r#"{"name": "File"}"#).unwrap();
    let out = polyscript()
        .args(["run", &file("examples/lua/greet.lua"), "--data"])
        .arg(format!("@{}", data.display()))
        .output()
        .unwrap();
    assert_eq!(stdout_json(&out), greeting("File"));
    let out = polyscript()
        .args(["run", &file("examples/lua/greet.lua"), "--data", "-"])
        .write_stdin(r#"{"name": "Stdin"}"#)
        .output()
        .unwrap();
    assert_eq!(stdout_json(&out), greeting("Stdin"));
    polyscript()
        .args(["run", &file("examples/lua/greet.lua"), "--data", "-"])
        .write_stdin("{not json")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not valid JSON"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_missing_file_is_a_usage_error() {
    polyscript()
        .args(["run", "/no/such/script.lua"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("/no/such/script.lua"));
}

#[test]
fn check_reports_syntax_errors_with_the_line_and_a_caret() {
    let dir = std::env::temp_dir().join(format!("polyscript-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.lua");
    std::fs::write(&bad, "local x = 1\nlocal y = = 2\nreturn y\n").unwrap();
    let good = file("examples/js/greet.js");
    let out = polyscript()
        .arg("check")
        .arg(&good)
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stdout.contains("ok:") && stdout.contains("greet.js"),
        "{stdout}"
    );
    assert!(stderr.contains("bad.lua:2"), "{stderr}");
    assert!(stderr.contains("local y = = 2"), "{stderr}");
    assert!(stderr.contains('^'), "{stderr}");
    // Machine-readable, with --json-errors.
    let out = polyscript()
        .args(["--json-errors", "check"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let error: Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(error["error"]["kind"], json!("compile"));
    assert_eq!(error["error"]["line"], json!(2));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_runaway_script_times_out_with_exit_1() {
    let dir = std::env::temp_dir().join(format!("polyscript-spin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let spin = dir.join("spin.rhai");
    std::fs::write(&spin, "loop { }").unwrap();
    let started = Instant::now();
    let out = polyscript()
        .args(["--json-errors", "run"])
        .arg(&spin)
        .args(["--timeout", "200ms", "--operations", "1000000000000"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let error: Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(error["error"]["kind"], json!("timeout"));
    assert!(started.elapsed() < Duration::from_secs(20));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn lines_keeps_going_past_a_bad_line_and_keeps_the_order() {
    let input = "{\"name\": \"a\"}\n{broken\n\n{\"name\": \"c\"}\n{\"name\": \"d\"}\n";
    let out = polyscript()
        .args([
            "run",
            &file("examples/rhai/greet.rhai"),
            "--lines",
            "--jobs",
            "3",
        ])
        .write_stdin(input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "a line failed");
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[0], greeting("a"));
    assert_eq!(lines[1]["line"], json!(2));
    assert!(
        lines[1]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not valid JSON")
    );
    assert_eq!(lines[2], greeting("c"));
    assert_eq!(lines[3], greeting("d"));
}

#[test]
fn bench_prints_the_figures() {
    polyscript()
        .args([
            "bench",
            &file("examples/lua/greet.lua"),
            "--data",
            r#"{"name": "B"}"#,
        ])
        .args(["--threads", "2", "--time", "300ms"])
        .assert()
        .success()
        .stdout(predicate::str::contains("single execution"))
        .stdout(predicate::str::contains("per eval, median"))
        .stdout(predicate::str::contains("p99"))
        .stdout(predicate::str::contains("evals/s"));
}

#[test]
fn info_describes_scripts_and_modules() {
    let out = polyscript()
        .args(["info", &file("examples/lua/greet.lua")])
        .output()
        .unwrap();
    let info = stdout_json(&out);
    assert_eq!(info["engine"], json!("lua"));
    assert_eq!(info["script_id"].as_str().unwrap().len(), 12);
    let out = polyscript().args(["info", &file(PLUGIN)]).output().unwrap();
    let info = stdout_json(&out);
    assert_eq!(info["kind"], json!("extism plugin"));
    assert!(
        info["exports"]
            .as_array()
            .unwrap()
            .contains(&json!("greet"))
    );
    let out = polyscript().args(["info", &file(WASI)]).output().unwrap();
    let info = stdout_json(&out);
    assert_eq!(info["kind"], json!("wasi module"));
    assert!(
        info["imports"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i.as_str().unwrap().starts_with("wasi_snapshot_preview1::"))
    );
}

#[test]
fn usage_errors_exit_2() {
    polyscript().args(["run"]).assert().code(2);
    polyscript()
        .args(["run", &file("examples/lua/greet.lua"), "--timeout", "soon"])
        .assert()
        .code(2);
    polyscript()
        .args(["run", &file("examples/lua/greet.lua"), "--entry", "main"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--entry"));
}
