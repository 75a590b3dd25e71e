//! The HTTP loader against a tiny HTTP/1.1 server on 127.0.0.1.
//!
//! Each test starts its own server on an ephemeral port; a server handles a
//! fixed number of connections (or stops after 20 s) and then exits.
#![cfg(feature = "http")]

use std::fmt;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use polyscript_core::{Error, HttpAuth, HttpLoader, Loader, Origin, Source, infer};

const PASSWORD: &str = "s3cret-PASS";
/// base64("alice:s3cret-PASS")
const BASIC: &str = "Basic YWxpY2U6czNjcmV0LVBBU1M=";
const TOKEN: &str = "tok-SECRET-123";
const API_KEY: &str = "key-SECRET-456";
/// base64("bob:p@ss-SECRET-789"), the URL-embedded credentials.
const URL_BASIC: &str = "Basic Ym9iOnBAc3MtU0VDUkVULTc4OQ==";
const SECRETS: &[&str] = &[
    PASSWORD,
    "YWxpY2U6czNjcmV0LVBBU1M",
    TOKEN,
    API_KEY,
    "SECRET-789",
    "Ym9iOnBAc3MtU0VDUkVULTc4OQ",
];

struct Request {
    path: String,
    headers: Vec<(String, String)>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

struct Reply {
    status: u16,
    reason: &'static str,
    body: Vec<u8>,
    delay: Duration,
    content_length: bool,
    location: Option<&'static str>,
}

impl Reply {
    fn ok(body: impl Into<Vec<u8>>) -> Self {
        Reply {
            status: 200,
            reason: "OK",
            body: body.into(),
            delay: Duration::ZERO,
            content_length: true,
            location: None,
        }
    }

    fn status(status: u16, reason: &'static str) -> Self {
        Reply {
            status,
            reason,
            body: reason.as_bytes().to_vec(),
            ..Reply::ok("")
        }
    }
}

/// Starts a server answering `connections` connections with `handler`;
/// returns its base URL (`http://127.0.0.1:PORT`).
fn serve(connections: usize, handler: impl Fn(&Request) -> Reply + Send + 'static) -> String {
    captured_log();
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    listener.set_nonblocking(true).expect("nonblocking");
    thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut served = 0;
        while served < connections && Instant::now() < deadline {
            match listener.accept() {
                Ok((stream, _)) => {
                    served += 1;
                    answer(stream, &handler);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    thread::sleep(Duration::from_millis(5));
                }
                Err(_) => break,
            }
        }
    });
    format!("http://{addr}")
}

fn answer(mut stream: TcpStream, handler: &impl Fn(&Request) -> Reply) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    // Bounded: at most 64 reads of 1 KiB.
    for _ in 0..64 {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
        if head.windows(4).any(|w| w == b"\r\n\r\n") {
            break;
        }
    }
    let text = String::from_utf8_lossy(&head);
    let mut lines = text.split("\r\n");
    let path = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .unwrap_or("")
        .to_owned();
    let headers = lines
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let reply = handler(&Request { path, headers });
    thread::sleep(reply.delay);
    let mut out = format!(
        "HTTP/1.1 {} {}\r\nConnection: close\r\n",
        reply.status, reply.reason
    );
    if let Some(location) = reply.location {
        out.push_str(&format!("Location: {location}\r\n"));
    }
    if reply.content_length {
        out.push_str(&format!("Content-Length: {}\r\n", reply.body.len()));
    }
    out.push_str("\r\n");
    let _ = stream.write_all(out.as_bytes());
    let _ = stream.write_all(&reply.body);
    let _ = stream.flush();
    let _ = stream.shutdown(Shutdown::Both);
}

/// A server with one route that requires `header: expected`.
fn protected(header: &'static str, expected: &'static str) -> String {
    serve(1, move |req| {
        if req.header(header) == Some(expected) {
            Reply::ok("return 'secret script'")
        } else {
            Reply::status(401, "Unauthorized")
        }
    })
}

fn load_error(loader: &HttpLoader) -> Error {
    captured_log();
    match loader.load() {
        Ok(source) => panic!("expected an error, loaded {source:?}"),
        Err(e) => e,
    }
}

fn assert_load_error(err: &Error, needles: &[&str]) {
    assert!(
        matches!(err, Error::Load { .. }),
        "not a Load error: {err:?}"
    );
    let text = err.to_string();
    for needle in needles {
        assert!(text.contains(needle), "{text:?} lacks {needle:?}");
    }
    assert_no_secrets(&text);
    assert_no_secrets(&format!("{err:?}"));
}

fn assert_no_secrets(text: &str) {
    for secret in SECRETS {
        assert!(!text.contains(secret), "{text:?} leaks {secret:?}");
    }
}

#[test]
fn ok_returns_the_body_and_its_script_id() {
    let body = "return ctx.name";
    let base = serve(1, move |req| {
        if req.path == "/scripts/greet.lua?v=2" {
            Reply::ok(body)
        } else {
            Reply::status(404, "Not Found")
        }
    });
    let url = format!("{base}/scripts/greet.lua?v=2");
    let source = HttpLoader::new(&url).unwrap().load().unwrap();
    assert_eq!(source.bytes(), body.as_bytes());
    assert_eq!(source.text().unwrap(), body);
    assert_eq!(source.id(), Source::from_text(body).id());
    assert_eq!(*source.origin(), Origin::Url(url));
}

#[test]
fn not_found_names_the_status_and_the_url() {
    let base = serve(1, |_| Reply::status(404, "Not Found"));
    let url = format!("{base}/missing.lua");
    let err = load_error(&HttpLoader::new(&url).unwrap());
    assert_load_error(&err, &["HTTP 404 Not Found", &url]);
}

#[test]
fn server_error_names_the_status() {
    let base = serve(1, |_| Reply::status(503, "Service Unavailable"));
    let err = load_error(&HttpLoader::new(&format!("{base}/x.lua")).unwrap());
    assert_load_error(&err, &["HTTP 503 Service Unavailable"]);
}

#[test]
fn unauthorized_without_credentials_mentions_authentication() {
    let base = protected("Authorization", BASIC);
    let err = load_error(&HttpLoader::new(&format!("{base}/x.lua")).unwrap());
    assert_load_error(&err, &["HTTP 401 Unauthorized", "authentication required"]);
}

#[test]
fn basic_auth_sends_the_exact_header() {
    let base = protected("Authorization", BASIC);
    let loader = HttpLoader::new(&format!("{base}/x.lua"))
        .unwrap()
        .basic_auth("alice", PASSWORD);
    let source = loader.load().unwrap();
    assert_eq!(source.text().unwrap(), "return 'secret script'");
    assert_eq!(loader.auth_kind(), "basic");
}

#[test]
fn bearer_token_sends_the_exact_header() {
    let base = protected("Authorization", "Bearer tok-SECRET-123");
    let loader = HttpLoader::new(&format!("{base}/x.lua"))
        .unwrap()
        .bearer_token(TOKEN);
    assert_eq!(
        loader.load().unwrap().text().unwrap(),
        "return 'secret script'"
    );
}

#[test]
fn header_auth_sends_the_exact_header() {
    let base = protected("X-API-Key", API_KEY);
    let loader = HttpLoader::new(&format!("{base}/x.lua"))
        .unwrap()
        .header_auth("X-API-Key", API_KEY);
    assert_eq!(
        loader.load().unwrap().text().unwrap(),
        "return 'secret script'"
    );
}

#[test]
fn auth_enum_and_extra_headers_are_sent() {
    let base = serve(1, |req| {
        let ok = req.header("X-API-Key") == Some(API_KEY)
            && req.header("X-Trace") == Some("abc")
            && req.header("Accept") == Some("text/plain");
        if ok {
            Reply::ok("ok")
        } else {
            Reply::status(400, "Bad Request")
        }
    });
    let loader = HttpLoader::new(&format!("{base}/x.lua"))
        .unwrap()
        .auth(HttpAuth::Header {
            name: "X-API-Key".into(),
            value: API_KEY.into(),
        })
        .header("X-Trace", "abc")
        .header("Accept", "text/plain")
        // Ignored: the auth header wins.
        .header("x-api-key", "overridden");
    assert_eq!(loader.load().unwrap().bytes(), b"ok");
}

#[test]
fn url_credentials_become_basic_auth_and_leave_the_origin() {
    let base = protected("Authorization", URL_BASIC);
    let host = base.trim_start_matches("http://");
    let loader = HttpLoader::new(&format!("http://bob:p%40ss-SECRET-789@{host}/x.lua")).unwrap();
    assert_eq!(loader.url(), format!("{base}/x.lua"));
    let source = loader.load().unwrap();
    assert_eq!(*source.origin(), Origin::Url(format!("{base}/x.lua")));
    assert_no_secrets(&format!("{loader:?}"));
    assert!(!format!("{loader:?}").contains("bob"));
}

fn all_auths() -> [HttpAuth; 3] {
    [
        HttpAuth::Basic {
            username: "alice".into(),
            password: PASSWORD.into(),
        },
        HttpAuth::Bearer(TOKEN.into()),
        HttpAuth::Header {
            name: "X-API-Key".into(),
            value: API_KEY.into(),
        },
    ]
}

#[test]
fn rejected_credentials_never_leak() {
    for auth in all_auths() {
        let base = serve(1, |_| Reply::status(401, "Unauthorized"));
        let loader = HttpLoader::new(&format!("{base}/x.lua"))
            .unwrap()
            .auth(auth);
        assert_no_secrets(&format!("{loader:?}"));
        let err = load_error(&loader);
        assert_load_error(
            &err,
            &["HTTP 401 Unauthorized", "credentials were rejected"],
        );
    }
}

#[test]
fn secrets_never_appear_in_debug_or_transport_errors() {
    for auth in all_auths() {
        let debug = format!("{auth:?}");
        assert_no_secrets(&debug);
        assert!(!debug.contains("alice"), "{debug}");
        // Connection refused (nothing listens on a just-closed port).
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let loader = HttpLoader::new(&format!("http://127.0.0.1:{port}/x"))
            .unwrap()
            .auth(auth)
            .timeout(Duration::from_secs(5));
        let err = load_error(&loader);
        assert_load_error(&err, &[&format!("127.0.0.1:{port}")]);
    }
    // A secret that is not a valid header value: the message hides it.
    let loader = HttpLoader::new("http://127.0.0.1:1/x")
        .unwrap()
        .bearer_token("tok-SECRET-123\nInjected: yes");
    let err = load_error(&loader);
    assert_load_error(&err, &["bearer", "value hidden"]);
}

fn redirecting_server() -> String {
    serve(2, |req| {
        if req.path == "/final.lua" {
            Reply::ok("return 'moved'")
        } else {
            Reply {
                location: Some("/final.lua"),
                ..Reply::status(302, "Found")
            }
        }
    })
}

#[test]
fn redirects_are_followed_without_credentials() {
    let base = redirecting_server();
    let url = format!("{base}/old.lua");
    let source = HttpLoader::new(&url).unwrap().load().unwrap();
    assert_eq!(source.bytes(), b"return 'moved'");
    // The origin stays the URL that was asked for.
    assert_eq!(*source.origin(), Origin::Url(url));
}

#[test]
fn redirects_are_not_followed_with_credentials() {
    let base = redirecting_server();
    let loader = HttpLoader::new(&format!("{base}/old.lua"))
        .unwrap()
        .header_auth("X-API-Key", API_KEY);
    let err = load_error(&loader);
    assert_load_error(&err, &["HTTP 302 Found", "redirect not followed"]);
}

#[test]
fn timeout_is_a_load_error_mentioning_the_timeout() {
    let base = serve(1, |_| Reply {
        delay: Duration::from_secs(5),
        ..Reply::ok("late")
    });
    let loader = HttpLoader::new(&format!("{base}/slow.lua"))
        .unwrap()
        .bearer_token(TOKEN)
        .timeout(Duration::from_millis(300));
    let started = Instant::now();
    let err = load_error(&loader);
    // Did not hang until the server answered.
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert_load_error(&err, &["timed out after 300ms"]);
}

#[test]
fn oversized_body_with_content_length_is_rejected() {
    let base = serve(1, |_| Reply::ok(vec![b'x'; 10 * 1024]));
    let loader = HttpLoader::new(&format!("{base}/big.lua"))
        .unwrap()
        .max_bytes(1024);
    let err = load_error(&loader);
    assert_load_error(&err, &["cap of 1024 bytes"]);
}

#[test]
fn oversized_body_without_content_length_is_rejected() {
    let base = serve(1, |_| Reply {
        content_length: false,
        ..Reply::ok(vec![b'x'; 10 * 1024])
    });
    let loader = HttpLoader::new(&format!("{base}/big.lua"))
        .unwrap()
        .max_bytes(1024);
    let err = load_error(&loader);
    assert_load_error(&err, &["cap of 1024 bytes"]);
}

#[test]
fn body_exactly_at_the_cap_is_accepted() {
    let base = serve(2, |_| Reply {
        content_length: false,
        ..Reply::ok(vec![b'y'; 1024])
    });
    let loader = HttpLoader::new(&format!("{base}/edge.lua"))
        .unwrap()
        .max_bytes(1024);
    assert_eq!(loader.load().unwrap().bytes().len(), 1024);
    // Reloading fetches again.
    assert_eq!(loader.load().unwrap().bytes().len(), 1024);
}

#[test]
fn infer_picks_the_http_loader() {
    let base = serve(1, |req| {
        if req.path == "/x.lua" {
            Reply::ok("return 1")
        } else {
            Reply::status(404, "Not Found")
        }
    });
    let url = format!("{base}/x.lua");
    let loader = infer(&url).unwrap();
    assert!(
        format!("{loader:?}").starts_with("HttpLoader"),
        "{loader:?}"
    );
    let source = loader.load().unwrap();
    assert_eq!(source.bytes(), b"return 1");
    assert_eq!(*source.origin(), Origin::Url(url));
}

#[test]
fn url_validation_errors() {
    let cases: &[(&str, &str)] = &[
        ("", "no URL given"),
        ("   ", "no URL given"),
        ("example.com/x.lua", "expected http:// or https://"),
        ("ftp://example.com/x.lua", "unsupported URL scheme `ftp`"),
        ("http://", "no host"),
        ("http:///x.lua", "no host"),
        ("https://:8080/x.lua", "no host"),
        ("http://bob:p%40ss-SECRET-789@/x.lua", "no host"),
        (
            "http://bob:p%zzss-SECRET-789@example.com/x",
            "percent-encoded",
        ),
        ("http://exa mple.com/x.lua", "invalid URL"),
        ("http://example.com:99999999/x", "invalid URL"),
    ];
    for (input, needle) in cases {
        let err = match HttpLoader::new(input) {
            Ok(loader) => panic!("{input:?} accepted: {loader:?}"),
            Err(e) => e,
        };
        assert_load_error(&err, &[needle]);
    }
    // infer routes http(s) URLs here, so it reports the same errors.
    let err = match infer("https://bob:p%40ss-SECRET-789@/x.lua") {
        Ok(loader) => panic!("accepted: {loader:?}"),
        Err(e) => e,
    };
    assert_load_error(&err, &["no host"]);
    // Upper-case schemes are fine.
    assert_eq!(
        HttpLoader::new("HTTPS://Example.COM/a.lua").unwrap().url(),
        "https://example.com/a.lua"
    );
}

/// A `tracing` subscriber that writes every span field and event field into
/// a string.
struct Capture(Arc<Mutex<String>>);

struct Fields(Arc<Mutex<String>>);

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn fmt::Debug) {
        if let Ok(mut out) = self.0.lock() {
            out.push_str(&format!("{}={value:?} ", field.name()));
        }
    }
}

impl tracing::Subscriber for Capture {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        if let Ok(mut out) = self.0.lock() {
            out.push_str(&format!("[span {}] ", span.metadata().name()));
        }
        span.record(&mut Fields(self.0.clone()));
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        values.record(&mut Fields(self.0.clone()));
    }
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        event.record(&mut Fields(self.0.clone()));
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// Everything this test binary logs through `tracing`. A global subscriber
/// (installed by the first test that makes a request) rather than a scoped
/// one, because callsite interest is cached process-wide and tests run in
/// parallel.
fn captured_log() -> Arc<Mutex<String>> {
    static LOG: OnceLock<Arc<Mutex<String>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let log = Arc::new(Mutex::new(String::new()));
        let _ = tracing::subscriber::set_global_default(Capture(log.clone()));
        log
    })
    .clone()
}

#[test]
fn tracing_logs_never_contain_credentials() {
    let log = captured_log();
    let base = protected("Authorization", BASIC);
    let host = base.trim_start_matches("http://").to_owned();
    let ok = HttpLoader::new(&format!("http://alice:{PASSWORD}@{host}/traced.lua"))
        .unwrap()
        .load();
    assert!(ok.is_ok(), "{ok:?}");
    let base = serve(1, |_| Reply::status(401, "Unauthorized"));
    let rejected = format!("{base}/traced.lua");
    let err = HttpLoader::new(&rejected)
        .unwrap()
        .bearer_token(TOKEN)
        .load();
    assert!(err.is_err());
    let err = HttpLoader::new("http://127.0.0.1:1/traced")
        .unwrap()
        .header_auth("X-API-Key", API_KEY)
        .load();
    assert!(err.is_err());

    let log = log.lock().unwrap().clone();
    assert!(log.contains("[span http_load]"), "{log}");
    assert!(
        log.contains(&format!("url={host}"))
            || log.contains(&format!("url=http://{host}/traced.lua")),
        "{log}"
    );
    assert!(
        log.contains(&format!("url={rejected} error=HTTP 401")),
        "{log}"
    );
    assert!(
        log.contains("url=http://127.0.0.1:1/traced error="),
        "{log}"
    );
    assert_no_secrets(&log);
    assert!(!log.contains("alice"), "{log}");
}
