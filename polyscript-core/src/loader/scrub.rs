//! Removing secrets from text that is about to be shown (an error message).
//!
//! Replacing each secret with a marker one after another is not enough: the
//! marker can complete a secret that contains it (`X<redacted>Y` in
//! `XX<redacted>YY` becomes `X<redacted>Y` again), the marker itself can
//! contain a secret (a password `dact`), and one replacement can join the
//! halves of another secret. So every occurrence of every secret, however
//! they overlap, is covered first, each covered stretch is replaced by one
//! marker, and the marker is one that contains no secret and whose first and
//! last characters occur in no secret. Then no secret can show in the
//! result: an occurrence inside an untouched stretch would have been
//! covered, one inside a marker is excluded, and one reaching from a marker
//! into the text around it would hold the marker's first or last character.

/// Text shown in place of a secret (the first marker tried).
pub(crate) const REDACTED: &str = "<redacted>";

/// Markers tried in order; the first that suits the secrets (see the module
/// docs) is used.
const MARKERS: [&str; 3] = [REDACTED, "[hidden]", "***"];

/// `text` with every occurrence of every non-empty secret replaced by a
/// marker (normally `<redacted>`), so that no secret occurs in the result.
pub(crate) fn scrub(text: &str, secrets: &[&str]) -> String {
    let secrets: Vec<&str> = secrets.iter().copied().filter(|s| !s.is_empty()).collect();
    let covered = covered_ranges(text, &secrets);
    if covered.is_empty() {
        return text.to_owned();
    }
    let marker = marker_for(&secrets);
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end) in covered {
        out.push_str(&text[at..start]);
        out.push_str(&marker);
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

/// The byte ranges of `text` covered by some occurrence of some secret,
/// overlapping and touching ones merged, in order. Every occurrence counts,
/// overlapping ones too (`aa` in `aaa` covers all three bytes).
fn covered_ranges(text: &str, secrets: &[&str]) -> Vec<(usize, usize)> {
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    for secret in secrets {
        // Each match start is a char boundary (a secret is valid UTF-8 and
        // starts with a whole char), so stepping one char on finds all.
        let mut from = 0;
        while let Some(found) = text[from..].find(secret) {
            let start = from + found;
            ranges.push((start, start + secret.len()));
            let step = text[start..].chars().next().map_or(1, char::len_utf8);
            from = start + step;
        }
    }
    ranges.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(ranges.len());
    for (start, end) in ranges {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
}

/// A marker that contains no secret and starts and ends with characters no
/// secret contains.
fn marker_for(secrets: &[&str]) -> String {
    let absent = |c: char| secrets.iter().all(|s| !s.contains(c));
    let suits = |marker: &str| {
        marker.chars().next().is_some_and(absent)
            && marker.chars().next_back().is_some_and(absent)
            && secrets.iter().all(|s| !marker.contains(s))
    };
    if let Some(marker) = MARKERS.iter().find(|m| suits(m)) {
        return (*marker).to_owned();
    }
    // Secrets are finite, so some character is absent from all of them
    // (and a marker made of it alone contains no secret): search from the
    // full block (█) upward.
    let c = ('\u{2588}'..=char::MAX)
        .find(|&c| absent(c))
        .unwrap_or('\u{FFFD}');
    c.to_string().repeat(3)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_clean(text: &str, secrets: &[&str]) -> String {
        let out = scrub(text, secrets);
        for secret in secrets.iter().filter(|s| !s.is_empty()) {
            assert!(!out.contains(secret), "{secret:?} shows in {out:?}");
        }
        out
    }

    #[test]
    fn plain_secret_is_replaced_everywhere() {
        assert_eq!(
            assert_clean("token abc and abc", &["abc"]),
            "token <redacted> and <redacted>"
        );
    }

    #[test]
    fn text_without_secrets_is_unchanged() {
        assert_eq!(scrub("nothing here", &["abc", ""]), "nothing here");
    }

    #[test]
    fn a_marker_inside_the_secret_does_not_rebuild_it() {
        // The fuzzer's find: a header name holding the secret with one more
        // character on each side.
        let secret = "C<redacted>C";
        let out = assert_clean("name CC<redacted>CC end", &[secret]);
        assert!(out.starts_with("name C") && out.ends_with("C end"), "{out}");
    }

    #[test]
    fn a_secret_ending_like_the_marker_is_covered() {
        // `d>x` would reach across the end of `<redacted>`.
        assert_eq!(assert_clean("a d>x b", &["d>x"]), "a [hidden] b");
    }

    #[test]
    fn a_secret_inside_the_marker_is_not_shown() {
        let out = assert_clean("pw dact here", &["dact"]);
        assert_eq!(out, "pw [hidden] here");
    }

    #[test]
    fn overlapping_occurrences_and_secrets_are_all_covered() {
        assert_eq!(assert_clean("xaaay", &["aa"]), "x<redacted>y");
        assert_eq!(assert_clean("abcd", &["ab", "bc"]), "<redacted>d");
    }

    #[test]
    fn secrets_holding_every_marker_character_get_another_marker() {
        let secrets = ["<a>[b]*", "s"];
        let out = assert_clean("x <a>[b]* s y", &secrets);
        assert!(out.contains('\u{2588}'), "{out}");
    }

    #[test]
    fn multibyte_text_and_secrets() {
        assert_eq!(
            assert_clean("é秘密é秘密", &["秘密"]),
            "é<redacted>é<redacted>"
        );
    }

    proptest::proptest! {
        /// Text built from the secrets' own pieces and the markers'
        /// characters, where a naive replace goes wrong most often.
        #[test]
        fn no_secret_survives(
            secrets in proptest::collection::vec("[<>a-d\\[\\]*]{1,6}", 1..3),
            text in "[<>a-dx\\[\\]*redacthn]{0,40}",
        ) {
            let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
            let out = scrub(&text, &refs);
            for secret in &refs {
                proptest::prop_assert!(!out.contains(secret), "{secret:?} in {out:?}");
            }
        }
    }
}
