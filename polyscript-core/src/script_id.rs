//! Content-derived script identifiers.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

const LEN: usize = 12;

/// Identifies a script by its content: the first 12 hex characters of the
/// SHA-256 of its bytes (as go-polyscript does). Two loads of the same bytes
/// get the same id, whatever their origin.
///
/// `ScriptId` is `Copy` (12 ASCII bytes inline), so errors and responses carry
/// it without allocating.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ScriptId([u8; LEN]);

impl ScriptId {
    /// The id of these bytes.
    pub fn of(bytes: &[u8]) -> Self {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let digest = Sha256::digest(bytes);
        let mut id = [0u8; LEN];
        for (i, byte) in digest.iter().take(LEN / 2).enumerate() {
            id[2 * i] = HEX[usize::from(byte >> 4)];
            id[2 * i + 1] = HEX[usize::from(byte & 0x0f)];
        }
        ScriptId(id)
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        // Only ASCII hex digits are ever stored (see `of` and `parse`).
        std::str::from_utf8(&self.0).unwrap_or("????????????")
    }
}

/// Why a text is not a [`ScriptId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a script id (12 lowercase hex characters): {0:?}")]
pub struct ParseScriptIdError(String);

impl FromStr for ScriptId {
    type Err = ParseScriptIdError;

    /// Parses a 12-character lowercase hex id.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bytes = text.as_bytes();
        if bytes.len() != LEN || !bytes.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            let shown: String = text.chars().take(40).collect();
            return Err(ParseScriptIdError(shown));
        }
        let mut id = [0u8; LEN];
        id.copy_from_slice(bytes);
        Ok(ScriptId(id))
    }
}

impl fmt::Display for ScriptId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for ScriptId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ScriptId({})", self.as_str())
    }
}

impl Serialize for ScriptId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ScriptId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_is_first_12_hex_of_sha256() {
        // sha256("hello") = 2cf24dba5fb0a30e26e83b2ac5b9e29e...
        assert_eq!(ScriptId::of(b"hello").as_str(), "2cf24dba5fb0");
    }

    #[test]
    fn id_is_stable_and_content_derived() {
        assert_eq!(ScriptId::of(b"print(1)"), ScriptId::of(b"print(1)"));
        assert_ne!(ScriptId::of(b"print(1)"), ScriptId::of(b"print(2)"));
    }

    #[test]
    fn parse_round_trips_and_rejects_garbage() {
        let id = ScriptId::of(b"abc");
        assert_eq!(id.as_str().parse::<ScriptId>(), Ok(id));
        assert!("xyz".parse::<ScriptId>().is_err());
        assert!("ABCDEF012345".parse::<ScriptId>().is_err());
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(serde_json::from_str::<ScriptId>(&json).unwrap(), id);
    }
}
