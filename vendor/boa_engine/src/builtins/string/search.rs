//! polyscript patch: substring search in linear time.
//!
//! boa's `JsStr::index_of` and `String.prototype.lastIndexOf` compare the
//! search string at every position (`O(n · m)`): `'a'.repeat(1e7)
//! .indexOf('a'.repeat(5e6) + 'b')` ran for hours inside one native call,
//! which no interrupt can reach. Short search strings (up to
//! [`SHORT`] code units) keep that direct comparison, which is fast and
//! bounded by `SHORT · n`; longer ones use Knuth–Morris–Pratt, `O(n + m)`
//! with a table of 4 bytes per code unit of the search string.

use boa_string::JsStr;

/// Search strings up to this long are compared at each position.
const SHORT: usize = 32;

/// The first index `>= from` where `needle` occurs in `haystack`
/// (`JsStr::index_of`'s answer).
pub(crate) fn find(haystack: JsStr<'_>, needle: JsStr<'_>, from: usize) -> Option<usize> {
    if needle.len() <= SHORT {
        return haystack.index_of(needle, from);
    }
    let n = haystack.len();
    let m = needle.len();
    if from > n || n - from < m {
        return None;
    }
    let table = failure_table(needle.len(), |i| unit(needle, i));
    let mut matched = 0;
    for i in from..n {
        let c = unit(haystack, i);
        while matched > 0 && unit(needle, matched) != c {
            matched = table[matched - 1] as usize;
        }
        if unit(needle, matched) == c {
            matched += 1;
        }
        if matched == m {
            return Some(i + 1 - m);
        }
    }
    None
}

/// The last index `<= start` where `needle` occurs in `haystack` (what
/// `String.prototype.lastIndexOf` looks for); `needle` is not empty.
pub(crate) fn rfind(haystack: JsStr<'_>, needle: JsStr<'_>, start: usize) -> Option<usize> {
    let n = haystack.len();
    let m = needle.len();
    let last = n.checked_sub(m)?.min(start);
    if m <= SHORT {
        return (0..=last)
            .rev()
            .find(|&i| haystack.get(i..i + m) == Some(needle));
    }
    // KMP on the reversed strings: match the needle from its end, scanning
    // the haystack backwards from the last place a match may end.
    let table = failure_table(m, |i| unit(needle, m - 1 - i));
    let mut matched = 0;
    for end in (0..last + m).rev() {
        let c = unit(haystack, end);
        while matched > 0 && unit(needle, m - 1 - matched) != c {
            matched = table[matched - 1] as usize;
        }
        if unit(needle, m - 1 - matched) == c {
            matched += 1;
        }
        if matched == m {
            return Some(end);
        }
    }
    None
}

fn unit(s: JsStr<'_>, i: usize) -> u16 {
    s.get(i).unwrap_or_default()
}

/// KMP failure function of the pattern `at(0..len)`: for each prefix, the
/// length of its longest proper border.
fn failure_table(len: usize, at: impl Fn(usize) -> u16) -> Vec<u32> {
    let mut table = vec![0_u32; len];
    let mut border = 0;
    for i in 1..len {
        while border > 0 && at(i) != at(border) {
            border = table[border - 1] as usize;
        }
        if at(i) == at(border) {
            border += 1;
        }
        table[i] = border as u32;
    }
    table
}
