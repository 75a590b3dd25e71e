//! The HTTP loader's URL and header handling against a loopback server that
//! echoes the request head: URLs parse or fail with a typed error that never
//! shows the credentials, every header sent is exactly one the caller set,
//! and secrets never appear in errors or `Debug` output.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::OnceLock;
use std::time::Duration;

use arbitrary::Arbitrary;
use polyscript::loader::{HttpAuth, HttpLoader};
use polyscript::{Error, Loader};

#[derive(Debug, Arbitrary)]
pub struct HttpInput {
    /// Text put between `http://` and the host, or a whole URL.
    url: String,
    /// Whether `url` is used as given (usually rejected) or as the path of a
    /// loopback URL (usually fetched).
    as_path: bool,
    auth: Option<AuthInput>,
    headers: Vec<(String, String)>,
}

#[derive(Debug, Arbitrary)]
enum AuthInput {
    Basic(String, String),
    Bearer(String),
    Header(String, String),
}

/// A loopback server answering every request with its own head as the body.
fn server() -> u16 {
    static PORT: OnceLock<u16> = OnceLock::new();
    *PORT.get_or_init(|| {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let port = listener.local_addr().expect("addr").port();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut stream = stream;
                let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 1 << 20 {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    head.len()
                );
                let _ = stream.write_all(response.as_bytes());
                let _ = stream.write_all(&head);
            }
        });
        port
    })
}

fn secrets(auth: &Option<AuthInput>) -> Vec<String> {
    match auth {
        Some(AuthInput::Basic(_, pass)) => vec![pass.clone()],
        Some(AuthInput::Bearer(token)) => vec![token.clone()],
        Some(AuthInput::Header(_, value)) => vec![value.clone()],
        None => Vec::new(),
    }
    .into_iter()
    .filter(|s| s.len() >= 4)
    .collect()
}

/// `loader` with the input's credential; with `probe`, every secret in it
/// replaced by another string.
fn with_auth(loader: HttpLoader, auth: &Option<AuthInput>, probe: bool) -> HttpLoader {
    let secret = |s: &String| {
        if probe {
            format!("probe-{}", s.len())
        } else {
            s.clone()
        }
    };
    match auth {
        Some(AuthInput::Basic(user, pass)) => loader.auth(HttpAuth::Basic {
            username: secret(user),
            password: secret(pass),
        }),
        Some(AuthInput::Bearer(token)) => loader.bearer_token(secret(token)),
        Some(AuthInput::Header(name, value)) => loader.header_auth(name.clone(), secret(value)),
        None => loader,
    }
}

pub fn http(input: HttpInput) {
    let url = if input.as_path {
        let path: String = input.url.chars().filter(|c| !c.is_control()).collect();
        format!(
            "http://127.0.0.1:{}/{}",
            server(),
            path.trim_start_matches('/')
        )
    } else {
        input.url.clone()
    };
    let loader = match HttpLoader::new(&url) {
        Ok(loader) => loader,
        Err(Error::Load { origin, .. }) => {
            // Credentials in the URL never reach an error. (A password
            // that also occurs elsewhere in the URL — its path, say — may
            // show through that part: only the user info is secret.)
            // The user info is in the authority, which ends at the first
            // `/`, `?` or `#` (RFC 3986): an `@` in a query is not one.
            if let Some((_, rest)) = url.trim().split_once("://")
                && let Some((userinfo, _)) = rest
                    .split(['/', '?', '#'])
                    .next()
                    .unwrap_or("")
                    .rsplit_once('@')
                && let Some((_, pass)) = userinfo.split_once(':')
                && pass.len() >= 4
                && !url.replacen(&format!("{userinfo}@"), "", 1).contains(pass)
            {
                assert!(!origin.contains(pass), "a URL password shows in an error");
            }
            return;
        }
        Err(other) => panic!("HttpLoader::new gave {other}"),
    };
    assert!(!loader.url().contains('#'), "the fragment is sent");
    let mut loader = loader.timeout(Duration::from_secs(5)).max_bytes(1 << 20);
    for (name, value) in input.headers.iter().take(8) {
        loader = loader.header(name.clone(), value.clone());
    }
    // Debug output never depends on a credential's secret: the same loader
    // with every secret replaced prints the same. (A plain "does not
    // contain" check is wrong: the secret may also be part of the URL, a
    // header name or Debug's own words.)
    let probe = with_auth(loader.clone(), &input.auth, true);
    let loader = with_auth(loader, &input.auth, false);
    assert_eq!(
        format!("{loader:?}"),
        format!("{probe:?}"),
        "a secret shows in Debug output"
    );
    // Only loopback URLs are fetched: nothing else is reachable here, and a
    // fuzzer must not resolve arbitrary host names.
    if !loader
        .url()
        .starts_with(&format!("http://127.0.0.1:{}/", server()))
    {
        return;
    }
    match loader.load() {
        Ok(source) => {
            let head = String::from_utf8_lossy(source.bytes()).into_owned();
            // One request, no smuggled second one: exactly one request line
            // (METHOD target HTTP/1.1 — a header value may well contain the
            // text "HTTP/1.1"), and no CR or LF inside any line.
            let head = head.split("\r\n\r\n").next().unwrap_or_default();
            let lines: Vec<&str> = head.split("\r\n").collect();
            let is_request_line = |line: &str| {
                line.ends_with(" HTTP/1.1")
                    && line.split_once(' ').is_some_and(|(method, _)| {
                        !method.is_empty() && method.bytes().all(|b| b.is_ascii_uppercase())
                    })
            };
            assert_eq!(
                lines.iter().filter(|l| is_request_line(l)).count(),
                1,
                "{head}"
            );
            assert!(
                lines.iter().all(|l| !l.contains(['\r', '\n'])),
                "a header line holds a CR or LF: {head}"
            );
        }
        Err(Error::Load { message, .. }) => {
            // A secret that is also part of the URL or a plain header may
            // show through those; only the credential's own use is checked.
            let public = |s: &String| {
                url.contains(s.as_str())
                    || input
                        .headers
                        .iter()
                        .any(|(n, v)| n.contains(s.as_str()) || v.contains(s.as_str()))
            };
            for secret in secrets(&input.auth).iter().filter(|s| !public(s)) {
                assert!(
                    !message.contains(secret.as_str()),
                    "a secret shows in an error: {message}"
                );
            }
        }
        Err(other) => panic!("load gave {other}"),
    }
}
