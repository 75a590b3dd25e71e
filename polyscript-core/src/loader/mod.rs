//! Loaders turn a string, bytes, a file, an `io::Read` or an HTTP(S) URL into
//! a [`Source`].
//!
//! [`infer`] picks a loader from a string: `http://` / `https://` URLs use the
//! HTTP loader (feature `http`), `file://` URLs and everything else are paths.

#[cfg(feature = "http")]
mod http;
#[cfg(feature = "http")]
mod scrub;

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use parking_lot::Mutex;

use crate::error::{Error, Result};
use crate::source::{Origin, Source};

#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub use http::{Fetched, HttpAuth, HttpLoader, Validators};

/// Something that produces a [`Source`].
pub trait Loader: Send + Sync + fmt::Debug {
    /// Loads the script or module.
    fn load(&self) -> Result<Source>;
}

/// Script text given in code.
#[derive(Debug, Clone)]
pub struct StringLoader(String);

impl StringLoader {
    /// A loader of `text`.
    pub fn new(text: impl Into<String>) -> Self {
        StringLoader(text.into())
    }
}

impl Loader for StringLoader {
    fn load(&self) -> Result<Source> {
        Ok(Source::new(self.0.as_bytes(), Origin::Inline))
    }
}

/// Bytes given in code (e.g. a WASM module from `include_bytes!`).
#[derive(Debug, Clone)]
pub struct BytesLoader(Vec<u8>);

impl BytesLoader {
    /// A loader of `bytes`.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        BytesLoader(bytes.into())
    }
}

impl Loader for BytesLoader {
    fn load(&self) -> Result<Source> {
        Ok(Source::new(self.0.as_slice(), Origin::Bytes))
    }
}

/// The default cap on what a file or reader loader reads: 64 MiB.
pub const DEFAULT_MAX_SOURCE_BYTES: u64 = 64 * 1024 * 1024;

/// Reads `reader` to its end, failing once it has given more than
/// `max_bytes` (so an endless reader such as `/dev/zero` cannot exhaust
/// memory).
fn read_capped(reader: impl Read, max_bytes: u64, origin: &dyn fmt::Display) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    reader
        .take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| Error::load_io(origin, "cannot read it", e))?;
    if bytes.len() as u64 > max_bytes {
        return Err(Error::load(
            origin,
            format!("larger than the cap of {max_bytes} bytes (max_bytes)"),
        ));
    }
    Ok(bytes)
}

/// A file on disk, read when [`load`](Loader::load) is called.
#[derive(Debug, Clone)]
pub struct FileLoader {
    path: PathBuf,
    max_bytes: u64,
}

impl FileLoader {
    /// A loader of the file at `path`, reading at most
    /// [`DEFAULT_MAX_SOURCE_BYTES`].
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileLoader {
            path: path.into(),
            max_bytes: DEFAULT_MAX_SOURCE_BYTES,
        }
    }

    /// Sets the largest file accepted, in bytes; a larger one (or an endless
    /// special file) is an [`Error::Load`].
    pub fn max_bytes(mut self, max_bytes: u64) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    /// The path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Loader for FileLoader {
    fn load(&self) -> Result<Source> {
        let shown = self.path.display();
        let file = std::fs::File::open(&self.path)
            .map_err(|e| Error::load_io(&shown, "cannot open the file", e))?;
        let bytes = read_capped(file, self.max_bytes, &shown)?;
        Ok(Source::new(bytes, Origin::File(self.path.clone())))
    }
}

/// Anything that implements `io::Read`. The reader is consumed on the first
/// load; later loads return the same bytes. At most
/// [`DEFAULT_MAX_SOURCE_BYTES`] are read unless [`max_bytes`](Self::max_bytes)
/// says otherwise.
pub struct ReaderLoader {
    state: Mutex<ReaderState>,
    max_bytes: u64,
}

enum ReaderState {
    Unread(Box<dyn Read + Send>),
    Read(Source),
}

impl ReaderLoader {
    /// A loader reading `reader` to its end.
    pub fn new(reader: impl Read + Send + 'static) -> Self {
        ReaderLoader {
            state: Mutex::new(ReaderState::Unread(Box::new(reader))),
            max_bytes: DEFAULT_MAX_SOURCE_BYTES,
        }
    }

    /// Sets the most bytes read; a reader that gives more is an
    /// [`Error::Load`].
    pub fn max_bytes(mut self, max_bytes: u64) -> Self {
        self.max_bytes = max_bytes;
        self
    }
}

impl Loader for ReaderLoader {
    fn load(&self) -> Result<Source> {
        let mut state = self.state.lock();
        match &mut *state {
            ReaderState::Read(source) => Ok(source.clone()),
            ReaderState::Unread(reader) => {
                let bytes = read_capped(reader, self.max_bytes, &Origin::Reader)?;
                let source = Source::new(bytes, Origin::Reader);
                *state = ReaderState::Read(source.clone());
                Ok(source)
            }
        }
    }
}

impl fmt::Debug for ReaderLoader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReaderLoader").finish_non_exhaustive()
    }
}

/// Picks a loader for `input`: an `http(s)://` URL (needs feature `http`), a
/// `file://` URL, or a path. Empty input is an error.
pub fn infer(input: &str) -> Result<Box<dyn Loader>> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(Error::load("<empty>", "no path or URL given"));
    }
    let lower = trimmed.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        #[cfg(feature = "http")]
        {
            return Ok(Box::new(HttpLoader::new(trimmed)?));
        }
        #[cfg(not(feature = "http"))]
        {
            return Err(Error::Unsupported {
                message: "loading from http(s) URLs needs the `http` feature".into(),
            });
        }
    }
    if let Some(path) = lower.strip_prefix("file://").map(|_| &trimmed[7..]) {
        if path.is_empty() {
            return Err(Error::load(trimmed, "file URL has no path"));
        }
        return Ok(Box::new(FileLoader::new(path)));
    }
    if lower.contains("://") {
        return Err(Error::load(trimmed, "unsupported URL scheme"));
    }
    Ok(Box::new(FileLoader::new(trimmed)))
}

#[cfg(test)]
mod tests;
