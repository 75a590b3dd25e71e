//! Live evaluators over the toy engine (whose script `const:V` returns the
//! JSON value `V`, and any script with `!!` fails to compile).
#![cfg(all(feature = "testkit", feature = "live"))]

#[allow(dead_code)]
mod toy;

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use polyscript_core::live::{LiveEvaluator, LiveEvent};
use polyscript_core::{AnyEvaluator, Error, EvalContext, Evaluator, Result, Source, Value};
use serde_json::json;
use toy::{Flaw, Toy};

fn build(source: Source) -> Result<AnyEvaluator> {
    Ok(Evaluator::new(Toy::new(Flaw::None), source)?.into_any())
}

fn value(live: &LiveEvaluator) -> Value {
    live.eval(&EvalContext::new())
        .expect("the eval works")
        .into_value()
}

#[test]
fn replace_swaps_good_versions_and_keeps_serving_through_bad_ones() {
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&events);
    let live = LiveEvaluator::builder(build)
        .source(Source::from_text("const:1"))
        .on_event(move |e| seen.lock().unwrap().push(format!("{e:?}")))
        .build()
        .unwrap();
    assert_eq!(value(&live), json!(1));
    let first = live.script_id();
    assert!(live.replace(Source::from_text("const:2")).unwrap());
    assert_eq!(value(&live), json!(2));
    assert_ne!(live.script_id(), first);
    assert_eq!(
        live.eval(&EvalContext::new()).unwrap().script_id(),
        live.script_id()
    );
    // The same version again changes nothing.
    assert!(!live.replace(Source::from_text("const:2")).unwrap());
    let err = live.replace(Source::from_text("broken !!")).unwrap_err();
    assert!(matches!(err, Error::Compile { .. }));
    assert_eq!(value(&live), json!(2), "the old version keeps serving");
    let status = live.status();
    assert_eq!(status.reloads, 1);
    assert!(status.last_error.unwrap().0.contains("!!"));
    let events = events.lock().unwrap();
    assert!(events[0].starts_with("Reloaded"), "{events:?}");
    assert!(events[1].starts_with("Rejected"), "{events:?}");
}

#[test]
fn the_any_evaluator_follows_the_current_version() {
    let live = LiveEvaluator::builder(build)
        .source(Source::from_text("const:\"a\""))
        .build()
        .unwrap();
    let any = live.evaluator();
    assert_eq!(
        any.eval(&EvalContext::new()).unwrap().into_value(),
        json!("a")
    );
    live.replace(Source::from_text("const:\"b\"")).unwrap();
    assert_eq!(
        any.eval(&EvalContext::new()).unwrap().into_value(),
        json!("b")
    );
    assert_eq!(any.script_id(), live.script_id());
    let held = live.current();
    live.replace(Source::from_text("const:\"c\"")).unwrap();
    assert_eq!(
        held.eval(&EvalContext::new()).unwrap().into_value(),
        json!("b"),
        "an old version still works"
    );
}

/// Writes `text` to `path` atomically (a temp file renamed over it), as
/// many editors and deploy tools do.
fn write_atomically(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

#[test]
fn a_watched_file_reloads_under_load_and_bad_versions_never_serve() {
    let dir = std::env::temp_dir().join(format!("polyscript-live-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("rule.toy");
    write_atomically(&path, "const:0");
    let live = LiveEvaluator::builder(build)
        .watch_file(&path)
        .debounce(Duration::from_millis(50))
        .build()
        .unwrap();
    assert_eq!(value(&live), json!(0));

    let stop = AtomicBool::new(false);
    let evals = AtomicUsize::new(0);
    let good: Vec<i64> = (1..=10).filter(|k| k % 3 != 0).collect();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    let got = live
                        .eval(&EvalContext::new())
                        .expect("no eval fails because of a swap");
                    let n = got.value().as_i64().expect("a version's number");
                    assert!(n == 0 || good.contains(&n), "a bad version served: {n}");
                    evals.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        for k in 1..=10i64 {
            if k % 3 == 0 {
                write_atomically(&path, &format!("const:{k} !! broken"));
                std::thread::sleep(Duration::from_millis(300));
                continue;
            }
            write_atomically(&path, &format!("const:{k}"));
            let written = Instant::now();
            while value(&live) != json!(k) {
                assert!(
                    written.elapsed() < Duration::from_secs(1),
                    "version {k} not seen within 1 s"
                );
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        stop.store(true, Ordering::Relaxed);
    });
    assert!(evals.load(Ordering::Relaxed) > 100);
    assert_eq!(live.status().reloads, good.len() as u64);
    // A deleted file keeps the last version serving, and is reported.
    std::fs::remove_file(&path).unwrap();
    assert!(live.reload().is_err());
    assert_eq!(value(&live), json!(*good.last().unwrap()));
    assert!(live.status().last_error.is_some());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_live_evaluator_needs_a_first_version() {
    let err = LiveEvaluator::builder(build).build().unwrap_err();
    assert!(matches!(err, Error::Unsupported { .. }));
    let err = LiveEvaluator::builder(build)
        .source(Source::from_text("x !!"))
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::Compile { .. }));
    let _ = LiveEvent::Reloaded {
        script_id: polyscript_core::ScriptId::of(b"x"),
    };
}

/// A loopback HTTP server serving one script with an ETag, answering 304
/// when the client already has it, and 401 without the bearer token.
#[cfg(feature = "http")]
struct ScriptServer {
    port: u16,
    body: Arc<Mutex<String>>,
    not_modified: Arc<AtomicUsize>,
    unauthorized: Arc<AtomicUsize>,
}

#[cfg(feature = "http")]
impl ScriptServer {
    fn start(first: &str) -> Self {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let body = Arc::new(Mutex::new(first.to_owned()));
        let not_modified = Arc::new(AtomicUsize::new(0));
        let unauthorized = Arc::new(AtomicUsize::new(0));
        let (b, n, u) = (
            Arc::clone(&body),
            Arc::clone(&not_modified),
            Arc::clone(&unauthorized),
        );
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut headers = Vec::new();
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    headers.push(line.to_ascii_lowercase());
                }
                let body = b.lock().unwrap().clone();
                let etag = format!("\"{}\"", polyscript_core::ScriptId::of(body.as_bytes()));
                let authorized = headers
                    .iter()
                    .any(|h| h.trim() == "authorization: bearer s3cret");
                let fresh = headers
                    .iter()
                    .any(|h| h.starts_with("if-none-match:") && h.contains(&etag));
                let mut stream = stream;
                let response = if !authorized {
                    u.fetch_add(1, Ordering::SeqCst);
                    "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        .to_owned()
                } else if fresh {
                    n.fetch_add(1, Ordering::SeqCst);
                    format!(
                        "HTTP/1.1 304 Not Modified\r\nETag: {etag}\r\nConnection: close\r\n\r\n"
                    )
                } else {
                    format!(
                        "HTTP/1.1 200 OK\r\nETag: {etag}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    )
                };
                let _ = stream.write_all(response.as_bytes());
            }
        });
        ScriptServer {
            port,
            body,
            not_modified,
            unauthorized,
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/rule.toy", self.port)
    }
}

#[cfg(feature = "http")]
#[test]
fn a_polled_url_reloads_with_conditional_requests_and_auth() {
    use polyscript_core::HttpLoader;
    let server = ScriptServer::start("const:1");
    let loader = || {
        HttpLoader::new(&server.url())
            .unwrap()
            .bearer_token("s3cret")
    };
    let live = LiveEvaluator::builder(build)
        .poll_http(loader(), Duration::from_millis(30))
        .build()
        .unwrap();
    assert_eq!(value(&live), json!(1));
    // Unchanged: the polls are answered 304 and nothing is recompiled.
    let deadline = Instant::now() + Duration::from_secs(5);
    while server.not_modified.load(Ordering::SeqCst) < 3 {
        assert!(Instant::now() < deadline, "no conditional requests seen");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(live.status().reloads, 0);
    // Changed: the next poll gets it.
    *server.body.lock().unwrap() = "const:2".to_owned();
    let changed = Instant::now();
    while value(&live) != json!(2) {
        assert!(
            changed.elapsed() < Duration::from_secs(2),
            "the change was not picked up"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    // A bad version is rejected; the good one keeps serving.
    *server.body.lock().unwrap() = "const:3 !!".to_owned();
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(value(&live), json!(2));
    assert!(live.status().last_error.is_some());
    assert_eq!(server.unauthorized.load(Ordering::SeqCst), 0);
    // Without the token the first fetch fails.
    let err = LiveEvaluator::builder(build)
        .poll_http(
            HttpLoader::new(&server.url()).unwrap(),
            Duration::from_millis(30),
        )
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("401"), "{err}");
}
