//! A loaded script or module: its bytes, where it came from, and its id.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::script_id::ScriptId;

/// Where a [`Source`] came from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Origin {
    /// A string given in code.
    Inline,
    /// Bytes given in code.
    Bytes,
    /// A file on disk.
    File(PathBuf),
    /// An `io::Read`.
    Reader,
    /// An HTTP(S) URL (credentials are never part of it).
    Url(String),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Inline => f.write_str("<inline>"),
            Origin::Bytes => f.write_str("<bytes>"),
            Origin::File(path) => write!(f, "{}", path.display()),
            Origin::Reader => f.write_str("<reader>"),
            Origin::Url(url) => f.write_str(url),
        }
    }
}

/// A script or WASM module ready to be compiled: its bytes, origin and id.
///
/// Cloning is cheap (the bytes are shared).
#[derive(Clone)]
pub struct Source {
    bytes: Arc<[u8]>,
    origin: Origin,
    id: ScriptId,
}

impl Source {
    /// A source from bytes with a given origin; the id is computed here.
    pub fn new(bytes: impl Into<Arc<[u8]>>, origin: Origin) -> Self {
        let bytes = bytes.into();
        let id = ScriptId::of(&bytes);
        Source { bytes, origin, id }
    }

    /// A source from script text given in code.
    pub fn from_text(text: impl AsRef<str>) -> Self {
        Source::new(text.as_ref().as_bytes(), Origin::Inline)
    }

    /// A source from bytes given in code (e.g. an `include_bytes!` module).
    pub fn from_bytes(bytes: impl AsRef<[u8]>) -> Self {
        Source::new(bytes.as_ref(), Origin::Bytes)
    }

    /// The raw bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The bytes as UTF-8 script text, or [`Error::Load`] when they are not.
    pub fn text(&self) -> Result<&str> {
        std::str::from_utf8(&self.bytes)
            .map_err(|e| Error::load(&self.origin, format!("script is not valid UTF-8: {e}")))
    }

    /// Where the source came from.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// The content-derived id.
    pub fn id(&self) -> ScriptId {
        self.id
    }

    /// A short name for the source, for engines that label chunks
    /// (the file name when there is one, else the script id).
    pub fn name(&self) -> String {
        match &self.origin {
            Origin::File(path) => path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| self.id.to_string()),
            _ => self.id.to_string(),
        }
    }
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Source")
            .field("origin", &self.origin)
            .field("id", &self.id)
            .field("len", &self.bytes.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_content_same_id_whatever_the_origin() {
        let a = Source::from_text("ctx.name");
        let b = Source::new(b"ctx.name".to_vec(), Origin::File("x.rhai".into()));
        assert_eq!(a.id(), b.id());
        assert_eq!(b.name(), "x.rhai");
        assert_eq!(a.name(), a.id().to_string());
    }

    #[test]
    fn non_utf8_text_is_a_load_error() {
        let s = Source::from_bytes([0xff, 0xfe]);
        assert!(matches!(s.text(), Err(Error::Load { .. })));
    }
}
