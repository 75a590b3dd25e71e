//! Every grant either works or is refused when the evaluator is built.

use polyscript_core::{Error, Evaluator, Source};
use polyscript_wasm::ExtismEngine;

const PLUGIN: &[u8] = include_bytes!("../guests/plugin/build/plugin.wasm");

fn unsupported(built: Result<Evaluator<ExtismEngine>, Error>) -> String {
    match built {
        Err(Error::Unsupported { message }) => message,
        Err(other) => panic!("expected Unsupported, got {other}"),
        Ok(_) => panic!("expected Unsupported, the evaluator was built"),
    }
}

#[test]
fn a_path_without_wasi_is_refused() {
    let engine = ExtismEngine::builder()
        .entry_point("greet")
        .allow_path(std::env::temp_dir(), "/tmp")
        .build();
    let message = unsupported(Evaluator::new(engine, Source::from_bytes(PLUGIN)));
    assert!(message.contains("wasi(true)"), "{message}");
}

#[cfg(not(feature = "http"))]
#[test]
fn a_host_is_refused_while_http_support_is_compiled_out() {
    let engine = ExtismEngine::builder()
        .entry_point("http_fetch")
        .allow_host("example.org")
        .build();
    let message = unsupported(Evaluator::new(engine, Source::from_bytes(PLUGIN)));
    assert!(
        message.contains("example.org") && message.contains("`http` feature"),
        "{message}"
    );
}

/// With the `http` feature: allowed hosts are reached, others refused, and
/// a redirect is returned to the guest instead of followed.
#[cfg(feature = "http")]
mod http {
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;

    use polyscript_core::{Error, EvalContext, Evaluator, Source};
    use polyscript_wasm::ExtismEngine;
    use serde_json::json;

    use super::PLUGIN;

    /// A loopback HTTP server: `/ok` answers `hello`, `/away` redirects to
    /// `localhost` (which the test does not allow).
    fn serve() -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request = String::new();
                let _ = reader.read_line(&mut request);
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let reply = if request.contains("/away") {
                    format!(
                        "HTTP/1.1 302 Found\r\nLocation: http://localhost:{port}/ok\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    )
                } else {
                    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello"
                        .to_owned()
                };
                let mut stream = stream;
                let _ = stream.write_all(reply.as_bytes());
            }
        });
        port
    }

    #[test]
    fn allowed_hosts_are_reached_and_others_refused() {
        let port = serve();
        let engine = ExtismEngine::builder()
            .entry_point("http_fetch")
            .allow_host("127.0.0.1")
            .build();
        let ev = Evaluator::new(engine, Source::from_bytes(PLUGIN)).unwrap();
        let fetch = |url: String| ev.eval(&EvalContext::with_data(json!({ "url": url })).unwrap());
        let ok = fetch(format!("http://127.0.0.1:{port}/ok")).unwrap();
        assert_eq!(ok.into_value(), json!({"status": 200, "body": "hello"}));
        match fetch(format!("http://localhost:{port}/ok")) {
            Err(Error::Runtime { message, .. }) => {
                assert!(message.contains("not allowed"), "{message}")
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        let redirect = fetch(format!("http://127.0.0.1:{port}/away")).unwrap();
        assert_eq!(
            redirect.into_value()["status"],
            302,
            "not followed to localhost"
        );
        // Without the grant nothing is reached.
        let closed = Evaluator::new(
            ExtismEngine::with_entry_point("http_fetch"),
            Source::from_bytes(PLUGIN),
        )
        .unwrap();
        let outcome = closed.eval(
            &EvalContext::with_data(json!({"url": format!("http://127.0.0.1:{port}/ok")})).unwrap(),
        );
        assert!(matches!(outcome, Err(Error::Runtime { .. })), "{outcome:?}");
    }
}
