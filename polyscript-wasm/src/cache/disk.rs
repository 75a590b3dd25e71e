//! Compiled modules kept on disk between processes, each file checksummed.
//!
//! `wasmtime::Module::deserialize` trusts its input completely (it maps the
//! bytes as executable code), so nothing read from the cache directory
//! reaches it unverified: a file is `MAGIC`, the SHA-256 of the payload, the
//! payload's length, then the payload (`Module::serialize`'s output). A file
//! that is short, has another magic, length or checksum is rejected and
//! rewritten after a fresh compile. A payload that passes but that wasmtime
//! refuses (another wasmtime version or engine setting: stale) is rejected
//! the same way. Files are written to a temporary name and renamed, so a
//! reader never sees half a file.
//!
//! The checksum detects corruption and truncation, not tampering: anyone
//! who can write to the directory can write a valid file. Give the cache a
//! directory only the service's own user can write.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// File format marker and version.
const MAGIC: &[u8; 8] = b"PSWASM01";

/// Bytes before the payload: magic, checksum, length.
const HEADER: usize = 8 + 32 + 8;

/// The cache file of the module with content hash `module` compiled on an
/// engine whose compilation settings hash to `engine`.
pub(crate) fn path(dir: &Path, module: &[u8; 32], engine: &[u8; 32]) -> PathBuf {
    dir.join(format!(
        "{}-{}.pswasm",
        hex(&module[..16]),
        hex(&engine[..16])
    ))
}

/// Why a file was not used.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Rejected {
    /// No file (not an error).
    Missing,
    /// The file exists but is not a whole, intact cache file.
    Corrupt(String),
}

/// The verified payload of the file at `path`.
pub(crate) fn read(path: &Path) -> Result<Vec<u8>, Rejected> {
    let mut bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Rejected::Missing),
        Err(e) => return Err(Rejected::Corrupt(format!("cannot read it: {e}"))),
    };
    if bytes.len() < HEADER || &bytes[..8] != MAGIC {
        return Err(Rejected::Corrupt(
            "not a polyscript module cache file".into(),
        ));
    }
    let length = u64::from_le_bytes(bytes[40..48].try_into().unwrap_or_default());
    if u64::try_from(bytes.len() - HEADER).ok() != Some(length) {
        return Err(Rejected::Corrupt(format!(
            "truncated or padded: {} payload bytes, the header says {length}",
            bytes.len() - HEADER
        )));
    }
    let checksum = Sha256::digest(&bytes[HEADER..]);
    if checksum.as_slice() != &bytes[8..40] {
        return Err(Rejected::Corrupt("checksum mismatch".into()));
    }
    bytes.drain(..HEADER);
    Ok(bytes)
}

/// Writes `payload` to `path` (through a temporary file and a rename).
/// Failing to write only costs the next process a compile, so errors are
/// logged, not returned.
pub(crate) fn write(path: &Path, payload: &[u8]) {
    let mut file = Vec::with_capacity(HEADER + payload.len());
    file.extend_from_slice(MAGIC);
    file.extend_from_slice(&Sha256::digest(payload));
    file.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    file.extend_from_slice(payload);
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let written = std::fs::write(&tmp, &file).and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        tracing::warn!(path = %path.display(), error = %e, "cannot write the compiled module to the cache");
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A `Hasher` feeding SHA-256, to hash wasmtime's engine settings
/// (`Engine::precompile_compatibility_hash`) the same way in every process
/// (std's `DefaultHasher` makes no such promise across Rust versions).
pub(crate) struct ShaHasher(pub(crate) Sha256);

impl std::hash::Hasher for ShaHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    fn finish(&self) -> u64 {
        let digest = self.0.clone().finalize();
        u64::from_le_bytes(digest[..8].try_into().unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("polyscript-disk-{}-{name}", std::process::id()))
    }

    #[test]
    fn a_written_file_reads_back_and_any_damage_is_rejected() {
        let path = temp("roundtrip");
        write(&path, b"compiled code");
        assert_eq!(read(&path).unwrap(), b"compiled code");

        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(
            read(&path),
            Err(Rejected::Corrupt("checksum mismatch".into()))
        );

        std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        assert!(matches!(read(&path), Err(Rejected::Corrupt(m)) if m.contains("truncated")));

        std::fs::write(&path, b"short").unwrap();
        assert!(matches!(read(&path), Err(Rejected::Corrupt(_))));
        let _ = std::fs::remove_file(&path);
        assert_eq!(read(&path), Err(Rejected::Missing));
    }
}
