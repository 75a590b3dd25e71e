//! The HTTP(S) loader (feature `http`): a blocking GET with authentication,
//! extra headers, a timeout and a cap on the body size. [`HttpLoader`]'s
//! docs have the examples and the security rules (TLS, credentials,
//! redirects, logs).

use std::fmt;
use std::io::Read;
use std::time::Duration;

use base64::Engine as _;
use ureq::http::header::{
    AUTHORIZATION, ETAG, HeaderName, HeaderValue, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED,
};
use ureq::http::{StatusCode, Uri};

use crate::error::{Error, Result};
use crate::loader::Loader;
use crate::loader::scrub::{REDACTED, scrub};
use crate::source::{Origin, Source};

/// How an [`HttpLoader`] authenticates.
///
/// The `Debug` output shows the kind of authentication (and a header's
/// name) but never the username, password, token or header value.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum HttpAuth {
    /// No authentication.
    #[default]
    None,
    /// HTTP basic authentication (`Authorization: Basic …`).
    Basic {
        /// The user name.
        username: String,
        /// The password.
        password: String,
    },
    /// A bearer token (`Authorization: Bearer …`).
    Bearer(String),
    /// A secret sent in a header of its own, such as `X-API-Key`.
    Header {
        /// The header's name.
        name: String,
        /// The header's value (the secret).
        value: String,
    },
}

impl HttpAuth {
    /// A short name of the kind of authentication, safe to log.
    pub fn kind(&self) -> &'static str {
        match self {
            HttpAuth::None => "none",
            HttpAuth::Basic { .. } => "basic",
            HttpAuth::Bearer(_) => "bearer",
            HttpAuth::Header { .. } => "header",
        }
    }

    /// Whether no credentials are set ([`HttpAuth::None`]).
    pub fn is_none(&self) -> bool {
        matches!(self, HttpAuth::None)
    }

    /// The header that carries the credentials, or `None`.
    fn header(&self) -> Result<Option<(HeaderName, HeaderValue)>, String> {
        let (name, value) = match self {
            HttpAuth::None => return Ok(None),
            HttpAuth::Basic { username, password } => {
                let encoded = base64::engine::general_purpose::STANDARD
                    .encode(format!("{username}:{password}"));
                (AUTHORIZATION, format!("Basic {encoded}"))
            }
            HttpAuth::Bearer(token) => (AUTHORIZATION, format!("Bearer {token}")),
            HttpAuth::Header { name, value } => {
                let name = HeaderName::from_bytes(name.as_bytes())
                    .map_err(|_| format!("invalid auth header name `{}`", name.escape_debug()))?;
                (name, value.clone())
            }
        };
        let mut value = HeaderValue::from_str(&value).map_err(|_| {
            format!(
                "the {} credentials contain characters not allowed in an HTTP header (value hidden)",
                self.kind()
            )
        })?;
        value.set_sensitive(true);
        Ok(Some((name, value)))
    }

    /// The strings that must never appear in a message.
    fn secrets(&self) -> Vec<String> {
        match self {
            HttpAuth::None => Vec::new(),
            HttpAuth::Basic { username, password } => vec![
                password.clone(),
                base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}")),
            ],
            HttpAuth::Bearer(token) => vec![token.clone()],
            HttpAuth::Header { value, .. } => vec![value.clone()],
        }
    }
}

impl fmt::Debug for HttpAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpAuth::None => f.write_str("None"),
            HttpAuth::Basic { .. } => f
                .debug_struct("Basic")
                .field("username", &format_args!("{REDACTED}"))
                .field("password", &format_args!("{REDACTED}"))
                .finish(),
            HttpAuth::Bearer(_) => f
                .debug_tuple("Bearer")
                .field(&format_args!("{REDACTED}"))
                .finish(),
            HttpAuth::Header { name, .. } => f
                .debug_struct("Header")
                .field("name", name)
                .field("value", &format_args!("{REDACTED}"))
                .finish(),
        }
    }
}

/// Loads a script or module with an HTTP(S) `GET`.
///
/// Built with [`HttpLoader::new`] and configured with the builder-style
/// methods; [`load`](Loader::load) performs the request each time it is
/// called and returns a [`Source`] whose origin is [`Origin::Url`] (without
/// credentials). A status outside `2xx` (e.g. `HTTP 404 Not Found`), a
/// timeout, a body larger than [`max_bytes`](HttpLoader::max_bytes) or any
/// transport failure is an [`Error::Load`].
///
/// ```no_run
/// use polyscript_core::{HttpLoader, Loader};
///
/// # fn main() -> polyscript_core::Result<()> {
/// let source = HttpLoader::new("https://scripts.example.com/greet.rhai")?
///     .header_auth("X-API-Key", "my-key")
///     .load()?;
/// assert_eq!(source.origin().to_string(), "https://scripts.example.com/greet.rhai");
/// # Ok(())
/// # }
/// ```
///
/// With a bearer token, an extra header, a timeout and a size cap:
///
/// ```no_run
/// use std::time::Duration;
/// use polyscript_core::{HttpLoader, Loader};
///
/// # fn main() -> polyscript_core::Result<()> {
/// let source = HttpLoader::new("https://scripts.example.com/greet.lua")?
///     .bearer_token("my-token")
///     .header("Accept", "text/plain")
///     .timeout(Duration::from_secs(10))
///     .max_bytes(1024 * 1024)
///     .load()?;
/// println!("loaded {} ({} bytes)", source.id(), source.bytes().len());
/// # Ok(())
/// # }
/// ```
///
/// # Security
///
/// * TLS certificates are always verified (rustls with the webpki root
///   certificates); there is no switch to turn verification off.
/// * Credentials never appear in errors, in [`Origin::Url`], in `Debug`
///   output or in this crate's `tracing` events. Credentials written into
///   the URL (`https://user:pass@host/…`) are moved into basic
///   authentication and removed from the URL.
/// * The query string is **kept** in the origin and in error messages
///   (it is part of the script's identity). Do not put secrets in it; use
///   [`HttpLoader::bearer_token`] or [`HttpLoader::header_auth`] instead.
/// * Redirects are followed only when no credentials are set: the
///   underlying client would forward custom auth headers (such as
///   `X-API-Key`) to whatever host a redirect names, so with credentials a
///   `3xx` answer is reported as an error instead. Headers given with
///   [`HttpLoader::header`] are not treated as secrets and are sent on
///   redirects too.
/// * `ureq` logs through the `log` crate and redacts sensitive headers at
///   `debug` level, but `ureq-proto` hex-dumps the raw request bytes
///   (headers included) at `trace` level for its own targets. Do not enable
///   `trace` logging for `ureq_proto` in production.
#[derive(Clone)]
pub struct HttpLoader {
    /// The URL requested: no user info, no fragment.
    url: String,
    auth: HttpAuth,
    headers: Vec<(String, String)>,
    timeout: Duration,
    max_bytes: u64,
}

impl HttpLoader {
    /// The default timeout for the whole request (connect, send, read the body).
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
    /// The default cap on the body size: 16 MiB.
    pub const DEFAULT_MAX_BYTES: u64 = 16 * 1024 * 1024;

    /// A loader of `url`, which must be an `http://` or `https://` URL with a
    /// host. Credentials in the URL (`user:pass@`) are percent-decoded, used
    /// as basic authentication and removed from the URL; a fragment is
    /// dropped. Nothing is fetched until [`load`](Loader::load).
    ///
    /// Errors with [`Error::Load`] (never showing the credentials) when the
    /// URL is empty, has another scheme, has no host or is malformed.
    pub fn new(url: &str) -> Result<Self> {
        let (url, auth) = parse_url(url)?;
        Ok(HttpLoader {
            url,
            auth,
            headers: Vec::new(),
            timeout: Self::DEFAULT_TIMEOUT,
            max_bytes: Self::DEFAULT_MAX_BYTES,
        })
    }

    /// Uses HTTP basic authentication (replacing any other authentication,
    /// including credentials taken from the URL).
    pub fn basic_auth(self, username: impl Into<String>, password: impl Into<String>) -> Self {
        self.auth(HttpAuth::Basic {
            username: username.into(),
            password: password.into(),
        })
    }

    /// Sends `Authorization: Bearer <token>` (replacing any other
    /// authentication).
    pub fn bearer_token(self, token: impl Into<String>) -> Self {
        self.auth(HttpAuth::Bearer(token.into()))
    }

    /// Sends the secret `value` in the header `name`, e.g. `X-API-Key`
    /// (replacing any other authentication).
    pub fn header_auth(self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.auth(HttpAuth::Header {
            name: name.into(),
            value: value.into(),
        })
    }

    /// Sets the authentication ([`HttpAuth::None`] removes it).
    pub fn auth(mut self, auth: HttpAuth) -> Self {
        self.auth = auth;
        self
    }

    /// Adds a header to the request. Extra headers are not treated as
    /// secrets (their names appear in `Debug` output, and they are sent on
    /// redirects); use [`header_auth`](Self::header_auth) for secrets. A
    /// header with the same name as the authentication header is ignored.
    /// Invalid names or values are reported by [`load`](Loader::load).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the budget for the whole request: resolving, connecting, TLS,
    /// sending and reading the full body (default
    /// [`DEFAULT_TIMEOUT`](Self::DEFAULT_TIMEOUT)).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the largest body accepted, in bytes (default
    /// [`DEFAULT_MAX_BYTES`](Self::DEFAULT_MAX_BYTES)). A larger body is an
    /// [`Error::Load`]; it is never buffered beyond the cap.
    pub fn max_bytes(mut self, max_bytes: u64) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    /// The URL that is requested (without credentials or fragment).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The authentication kind in use ([`HttpAuth::kind`]).
    pub fn auth_kind(&self) -> &'static str {
        self.auth.kind()
    }

    /// An [`Error::Load`] for this URL, with every secret scrubbed from the
    /// message.
    fn error(&self, message: impl fmt::Display) -> Error {
        let secrets = self.auth.secrets();
        let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
        let message = scrub(&message.to_string(), &secrets);
        tracing::debug!(url = %self.url, error = %message, "http load failed");
        Error::load(&self.url, message)
    }

    fn agent(&self) -> ureq::Agent {
        // Custom auth headers would be forwarded to any host a redirect
        // names, so redirects are only followed without credentials.
        let redirects = if self.auth.is_none() { 10 } else { 0 };
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(self.timeout))
            .max_redirects(redirects)
            .user_agent(concat!("polyscript/", env!("CARGO_PKG_VERSION")))
            .build()
            .new_agent()
    }

    fn request(&self) -> Result<ureq::http::Response<ureq::Body>> {
        self.request_with(&Validators::default())
    }

    fn request_with(&self, validators: &Validators) -> Result<ureq::http::Response<ureq::Body>> {
        let auth_header = self.auth.header().map_err(|m| self.error(m))?;
        let mut request = self.agent().get(&self.url);
        let Some(headers) = request.headers_mut() else {
            return Err(self.error("invalid request"));
        };
        for (name, value) in &self.headers {
            let header_name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                self.error(format!("invalid header name `{}`", name.escape_debug()))
            })?;
            if auth_header.as_ref().is_some_and(|(n, _)| *n == header_name) {
                continue;
            }
            let header_value = HeaderValue::from_str(value)
                .map_err(|_| self.error(format!("invalid value for header `{header_name}`")))?;
            headers.insert(header_name, header_value);
        }
        if let Some((name, value)) = auth_header {
            headers.insert(name, value);
        }
        if let Some(etag) = validators
            .etag
            .as_deref()
            .and_then(|v| HeaderValue::from_str(v).ok())
        {
            headers.insert(IF_NONE_MATCH, etag);
        }
        if let Some(date) = validators
            .last_modified
            .as_deref()
            .and_then(|v| HeaderValue::from_str(v).ok())
        {
            headers.insert(IF_MODIFIED_SINCE, date);
        }
        request.call().map_err(|e| self.transport_error(e))
    }

    /// Fetches the script only if it changed since `previous` was fetched:
    /// sends `If-None-Match` / `If-Modified-Since` from `previous` and reads
    /// a `304 Not Modified` as [`Fetched::NotModified`]. With empty
    /// validators it is an ordinary load. For polling a URL (live reload).
    pub fn load_if_changed(&self, previous: &Validators) -> Result<Fetched> {
        let span = tracing::debug_span!("http_load", url = %self.url, auth = self.auth.kind());
        let _enter = span.enter();
        let response = self.request_with(previous)?;
        let status = response.status();
        tracing::debug!(status = status.as_u16(), "http response");
        if status == StatusCode::NOT_MODIFIED && !previous.is_empty() {
            return Ok(Fetched::NotModified);
        }
        if !status.is_success() {
            return Err(self.status_error(status));
        }
        let header = |name: HeaderName| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let validators = Validators {
            etag: header(ETAG),
            last_modified: header(LAST_MODIFIED),
        };
        let bytes = self.read_body(response.into_body())?;
        Ok(Fetched::Modified(
            Source::new(bytes, Origin::Url(self.url.clone())),
            validators,
        ))
    }

    fn transport_error(&self, error: ureq::Error) -> Error {
        let timed_out = format!("timed out after {:?}", self.timeout);
        match error {
            ureq::Error::Timeout(_) => self.error(timed_out),
            ureq::Error::Io(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
                ) =>
            {
                self.error(timed_out)
            }
            ureq::Error::BadUri(_) => self.error("invalid URL"),
            ureq::Error::Http(_) => self.error("invalid request"),
            ureq::Error::BodyExceedsLimit(_) => self.too_large(),
            other => self.error(other),
        }
    }

    fn too_large(&self) -> Error {
        self.error(format!(
            "response body exceeds the cap of {} bytes (max_bytes)",
            self.max_bytes
        ))
    }

    fn status_error(&self, status: StatusCode) -> Error {
        let line = match status.canonical_reason() {
            Some(reason) => format!("HTTP {} {reason}", status.as_u16()),
            None => format!("HTTP {}", status.as_u16()),
        };
        let hint = match status.as_u16() {
            401 if self.auth.is_none() => ": authentication required (no credentials were sent)",
            401 => ": authentication failed (the credentials were rejected)",
            403 => ": access denied",
            300..=399 if !self.auth.is_none() => {
                ": redirect not followed because credentials are set"
            }
            300..=399 => ": too many or unusable redirects",
            _ => "",
        };
        self.error(format!("{line}{hint}"))
    }

    fn read_body(&self, body: ureq::Body) -> Result<Vec<u8>> {
        // Only trust Content-Length to reject early, never to allocate much.
        if body.content_length().is_some_and(|n| n > self.max_bytes) {
            return Err(self.too_large());
        }
        let initial = body.content_length().unwrap_or(0).min(64 * 1024);
        let mut bytes = Vec::with_capacity(usize::try_from(initial).unwrap_or(0));
        body.into_reader()
            .take(self.max_bytes.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|e| self.transport_error(ureq::Error::from(e)))?;
        if bytes.len() as u64 > self.max_bytes {
            return Err(self.too_large());
        }
        Ok(bytes)
    }
}

impl Loader for HttpLoader {
    fn load(&self) -> Result<Source> {
        let span = tracing::debug_span!("http_load", url = %self.url, auth = self.auth.kind());
        let _enter = span.enter();
        let response = self.request()?;
        let status = response.status();
        tracing::debug!(status = status.as_u16(), "http response");
        if !status.is_success() {
            return Err(self.status_error(status));
        }
        let bytes = self.read_body(response.into_body())?;
        tracing::debug!(bytes = bytes.len(), "http body read");
        Ok(Source::new(bytes, Origin::Url(self.url.clone())))
    }
}

impl fmt::Debug for HttpLoader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header_names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("HttpLoader")
            .field("url", &self.url)
            .field("auth", &self.auth)
            .field("headers", &header_names)
            .field("timeout", &self.timeout)
            .field("max_bytes", &self.max_bytes)
            .finish()
    }
}

/// What identifies the version of a fetched script: the response's `ETag`
/// and `Last-Modified` headers, sent back as `If-None-Match` /
/// `If-Modified-Since` by [`HttpLoader::load_if_changed`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Validators {
    /// The `ETag` header, if the server sent one.
    pub etag: Option<String>,
    /// The `Last-Modified` header, if the server sent one.
    pub last_modified: Option<String>,
}

impl Validators {
    /// Validators saved from an earlier fetch (e.g. across restarts).
    pub fn new(etag: Option<String>, last_modified: Option<String>) -> Self {
        Validators {
            etag,
            last_modified,
        }
    }

    /// Whether there is nothing to validate with (the first fetch).
    pub fn is_empty(&self) -> bool {
        self.etag.is_none() && self.last_modified.is_none()
    }
}

/// The outcome of [`HttpLoader::load_if_changed`].
#[derive(Debug, Clone)]
pub enum Fetched {
    /// The server says the script is unchanged (`304`).
    NotModified,
    /// A (new) version, and its validators for the next poll.
    Modified(Source, Validators),
}

/// Splits `input` into the request URL (no user info, no fragment) and the
/// credentials found in it.
fn parse_url(input: &str) -> Result<(String, HttpAuth)> {
    let input = input.trim();
    if input.is_empty() {
        return Err(Error::load("<empty>", "no URL given"));
    }
    let shown = redact_url(input);
    let fail = |message: &str| Error::load(&shown, message);

    let Some((scheme, rest)) = input.split_once("://") else {
        return Err(fail("not a URL: expected http:// or https://"));
    };
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        let safe = scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
        return Err(if safe {
            fail(&format!(
                "unsupported URL scheme `{scheme}`: expected http or https"
            ))
        } else {
            fail("unsupported URL scheme: expected http or https")
        });
    }
    let rest = rest.split('#').next().unwrap_or_default();
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path_and_query) = rest.split_at(authority_end);
    let (userinfo, host) = match authority.rsplit_once('@') {
        Some((userinfo, host)) => (Some(userinfo), host),
        None => (None, authority),
    };
    if host.is_empty() || host.starts_with(':') {
        return Err(fail("URL has no host"));
    }
    let auth = match userinfo {
        None | Some("") => HttpAuth::None,
        Some(userinfo) => {
            let (user, pass) = userinfo.split_once(':').unwrap_or((userinfo, ""));
            match (percent_decode(user), percent_decode(pass)) {
                (Some(username), Some(password)) => HttpAuth::Basic { username, password },
                _ => {
                    return Err(fail(
                        "the credentials in the URL are not valid percent-encoded UTF-8",
                    ));
                }
            }
        }
    };
    let clean = format!("{scheme}://{}{path_and_query}", host.to_ascii_lowercase());
    let uri: Uri = clean
        .parse()
        .map_err(|e: ureq::http::uri::InvalidUri| fail(&format!("invalid URL: {e}")))?;
    if uri.host().is_none_or(str::is_empty) {
        return Err(fail("URL has no host"));
    }
    // `Uri` accepts any digits as a port; only `u16` ports are usable.
    let port = host.rsplit_once(':').map(|(_, port)| port);
    if port.is_some_and(|p| !p.is_empty() && !p.contains(']') && uri.port_u16().is_none()) {
        return Err(fail(
            "invalid URL: the port is not a number from 0 to 65535",
        ));
    }
    Ok((uri.to_string(), auth))
}

/// `input` with any user info and fragment removed, for error messages.
fn redact_url(input: &str) -> String {
    let Some((scheme, rest)) = input.split_once("://") else {
        return if input.contains('@') {
            "<URL>".to_owned()
        } else {
            input.to_owned()
        };
    };
    let rest = rest.split('#').next().unwrap_or_default();
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path_and_query) = rest.split_at(authority_end);
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    format!("{scheme}://{host}{path_and_query}")
}

/// Decodes `%XX` escapes; `None` when an escape is malformed or the result
/// is not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_credentials_move_into_basic_auth() {
        let loader =
            HttpLoader::new("https://al%20ice:p%40ss@Example.com:8443/a/b.lua?v=1#frag").unwrap();
        assert_eq!(loader.url(), "https://example.com:8443/a/b.lua?v=1");
        assert_eq!(
            loader.auth,
            HttpAuth::Basic {
                username: "al ice".into(),
                password: "p@ss".into()
            }
        );
        assert!(!format!("{loader:?}").contains("p@ss"));
    }

    #[test]
    fn redact_url_drops_userinfo_and_fragment() {
        assert_eq!(
            redact_url("ftp://u:secret@host/x?q=1#f"),
            "ftp://host/x?q=1"
        );
        assert_eq!(redact_url("u:secret@host"), "<URL>");
        assert_eq!(redact_url("plain"), "plain");
    }

    #[test]
    fn percent_decode_rejects_bad_escapes() {
        assert_eq!(percent_decode("a%2Fb").as_deref(), Some("a/b"));
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("%4"), None);
        assert_eq!(percent_decode("%ff"), None);
    }

    #[test]
    fn auth_header_values() {
        let basic = HttpAuth::Basic {
            username: "alice".into(),
            password: "s3cret".into(),
        };
        let (name, value) = basic.header().unwrap().unwrap();
        assert_eq!(name, AUTHORIZATION);
        assert_eq!(value, "Basic YWxpY2U6czNjcmV0");
        assert!(value.is_sensitive());
        let bad = HttpAuth::Bearer("line\nbreak-SECRET".into());
        let err = bad.header().unwrap_err();
        assert!(!err.contains("SECRET"), "{err}");
    }
}
