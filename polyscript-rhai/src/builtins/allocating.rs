//! Standard functions that allocate in proportion to an argument, checked
//! before they allocate. Each does what rhai 1.27's function of the same name
//! and signature does (its body is rhai's, see `rhai/src/packages/`), after
//! estimating the bytes it will allocate and checking them against what the
//! eval's memory meter has left ([`budget::reserve`]); without a meter,
//! against rhai's own size limits, which these functions otherwise check only
//! after allocating (or, for `split`, `to_chars` and `to_array`, not at all).
//!
//! The estimates are upper bounds that are cheap to compute (measured peaks
//! in the constants' docs): one element of an array is a 16-byte `Dynamic`,
//! one piece of a split string also holds a shared string.

use rhai::{
    Array, Blob, Dynamic, EvalAltResult, INT, ImmutableString, Module, NativeCallContext, Position,
};

use super::RhaiResultOf;
use crate::budget;

/// Bytes of one array element.
const ELEMENT: u64 = size_of::<Dynamic>() as u64;
/// Bytes of one element of an array collected from an iterator of unknown
/// length (the vector may have grown to twice what it holds).
const COLLECTED: u64 = 2 * ELEMENT;
/// Bytes of one piece of a split: its element plus the shared string
/// (measured: 68 bytes a piece when splitting into single characters).
const PIECE: u64 = COLLECTED + 48;
/// Bytes of one map entry, roughly (value, inline key, B-tree share).
const MAP_ENTRY: u64 = 72;
/// Bytes rhai's `parse_json` holds at its peak per byte of JSON text: the
/// tokens, the parsed expression tree and the value (measured on worst-case
/// inputs: a long list of `{}` peaks at 62 bytes a byte).
const PARSE_JSON_PER_BYTE: u64 = 128;

pub(super) fn register(module: &mut Module) {
    // Strings.
    set!(module, "pad", false, pad_string_with_char);
    set!(module, "pad", false, pad_string_with_string);
    set!(module, "replace", false, replace_string);
    set!(module, "replace", false, replace_string_with_char);
    set!(module, "replace", false, replace_char_with_string);
    set!(module, "replace", false, replace_char);
    set!(module, "split", true, split_whitespace);
    set!(module, "split", true, split);
    set!(module, "split", true, splitn);
    set!(module, "split", true, split_char);
    set!(module, "split", true, splitn_char);
    set!(module, "split_rev", true, rsplit);
    set!(module, "split_rev", true, rsplitn);
    set!(module, "split_rev", true, rsplit_char);
    set!(module, "split_rev", true, rsplitn_char);
    set!(module, "to_chars", true, to_chars);
    // Arrays.
    set!(module, "pad", false, pad_array);
    // BLOBs.
    set!(module, "blob", true, blob_with_len);
    set!(module, "blob", true, blob_with_len_and_value);
    set!(module, "pad", false, pad_blob);
    set!(module, "to_array", true, blob_to_array);
    // JSON.
    set!(module, "parse_json", true, parse_json);
}

fn too_large(what: &str) -> Box<EvalAltResult> {
    EvalAltResult::ErrorDataTooLarge(what.to_owned(), Position::NONE).into()
}

/// A string of `bytes` is about to be built.
fn reserve_string(ctx: &NativeCallContext, bytes: u64) -> RhaiResultOf<()> {
    if budget::metered() {
        return budget::reserve(bytes);
    }
    let max = ctx.engine().max_string_size() as u64;
    if max > 0 && bytes > max {
        return Err(too_large("Length of string"));
    }
    Ok(())
}

/// An array or BLOB of `elements` taking `bytes` is about to be built.
fn reserve_array(ctx: &NativeCallContext, elements: u64, bytes: u64) -> RhaiResultOf<()> {
    if budget::metered() {
        return budget::reserve(bytes);
    }
    let max = ctx.engine().max_array_size() as u64;
    if max > 0 && elements > max {
        return Err(too_large("Size of array/BLOB"));
    }
    Ok(())
}

/// `len` as a count of things to build, or "too large".
fn count(len: INT, what: &str) -> RhaiResultOf<usize> {
    usize::try_from(len).map_err(|_| too_large(what))
}

fn pad_string_with_char(
    ctx: NativeCallContext,
    string: &mut ImmutableString,
    len: INT,
    character: char,
) -> RhaiResultOf<()> {
    if len <= 0 {
        return Ok(());
    }
    let len = count(len, "Length of string")?;
    let orig_len = string.chars().count();
    if len <= orig_len {
        return Ok(());
    }
    let added = (len - orig_len) as u64 * character.len_utf8() as u64;
    reserve_string(&ctx, string.len() as u64 + added)?;
    string
        .make_mut()
        .extend(std::iter::repeat_n(character, len - orig_len));
    Ok(())
}

fn pad_string_with_string(
    ctx: NativeCallContext,
    string: &mut ImmutableString,
    len: INT,
    padding: &str,
) -> RhaiResultOf<()> {
    // rhai 1.27 loops forever on an empty padding.
    if len <= 0 || padding.is_empty() {
        return Ok(());
    }
    let len = count(len, "Length of string")?;
    let mut str_len = string.chars().count();
    let padding_len = padding.chars().count();
    if len <= str_len {
        return Ok(());
    }
    let repeats = (len - str_len).div_ceil(padding_len) as u64;
    reserve_string(
        &ctx,
        string.len() as u64 + repeats.saturating_mul(padding.len() as u64),
    )?;
    let p = string.make_mut();
    while str_len < len {
        if str_len + padding_len <= len {
            p.push_str(padding);
            str_len += padding_len;
        } else {
            p.extend(padding.chars().take(len - str_len));
            str_len = len;
        }
    }
    Ok(())
}

/// Bytes of `string` with every `find` (`find_chars` characters when
/// `find` is empty: then the substitute goes between all characters)
/// replaced by `substitute_len` bytes.
fn replaced_len(string: &str, find: &str, substitute_len: usize) -> u64 {
    let len = string.len() as u64;
    if substitute_len <= find.len() && !find.is_empty() {
        return len;
    }
    let matches = if find.is_empty() {
        string.chars().count() as u64 + 1
    } else {
        string.matches(find).count() as u64
    };
    len + matches.saturating_mul((substitute_len - find.len().min(substitute_len)) as u64)
}

fn replace_string(
    ctx: NativeCallContext,
    string: &mut ImmutableString,
    find_string: &str,
    substitute_string: &str,
) -> RhaiResultOf<()> {
    if string.is_empty() {
        return Ok(());
    }
    reserve_string(
        &ctx,
        replaced_len(string, find_string, substitute_string.len()),
    )?;
    *string = string.replace(find_string, substitute_string).into();
    Ok(())
}

fn replace_string_with_char(
    ctx: NativeCallContext,
    string: &mut ImmutableString,
    find_string: &str,
    substitute_character: char,
) -> RhaiResultOf<()> {
    replace_string(
        ctx,
        string,
        find_string,
        substitute_character.encode_utf8(&mut [0; 4]),
    )
}

fn replace_char_with_string(
    ctx: NativeCallContext,
    string: &mut ImmutableString,
    find_character: char,
    substitute_string: &str,
) -> RhaiResultOf<()> {
    replace_string(
        ctx,
        string,
        find_character.encode_utf8(&mut [0; 4]),
        substitute_string,
    )
}

fn replace_char(
    ctx: NativeCallContext,
    string: &mut ImmutableString,
    find_character: char,
    substitute_character: char,
) -> RhaiResultOf<()> {
    replace_string(
        ctx,
        string,
        find_character.encode_utf8(&mut [0; 4]),
        substitute_character.encode_utf8(&mut [0; 4]),
    )
}

/// Checks that splitting `string` into (at most) `pieces()` pieces fits.
/// Counting the pieces scans the string, so that is only done when even the
/// worst case (every character a piece) would not fit.
fn reserve_split(
    ctx: &NativeCallContext,
    string: &str,
    pieces: impl FnOnce() -> usize,
) -> RhaiResultOf<()> {
    let len = string.len() as u64;
    let worst = (len + 2) * PIECE + len;
    let fits = match budget::memory_remaining() {
        Some(left) => worst <= left,
        None => {
            let max = ctx.engine().max_array_size() as u64;
            max == 0 || len + 2 <= max
        }
    };
    if fits {
        return Ok(());
    }
    let pieces = pieces() as u64;
    reserve_array(ctx, pieces, pieces * PIECE + len)
}

/// Pieces of splitting `string` at `delimiter` (Rust's `split` semantics:
/// an empty delimiter splits around every character).
fn split_count(string: &str, delimiter: &str) -> usize {
    if delimiter.is_empty() {
        string.chars().count() + 2
    } else {
        string.matches(delimiter).count() + 1
    }
}

/// `segments` from a script as a cap on the number of pieces.
fn segment_cap(segments: INT) -> usize {
    usize::try_from(segments).unwrap_or(usize::MAX)
}

fn split_whitespace(ctx: NativeCallContext, string: &mut ImmutableString) -> RhaiResultOf<Array> {
    if string.is_empty() {
        return Ok(vec![string.clone().into()]);
    }
    reserve_split(&ctx, string, || string.split_whitespace().count())?;
    Ok(string.split_whitespace().map(Into::into).collect())
}

fn split(
    ctx: NativeCallContext,
    string: &mut ImmutableString,
    delimiter: &str,
) -> RhaiResultOf<Array> {
    if string.is_empty() || (!delimiter.is_empty() && !string.contains(delimiter)) {
        return Ok(vec![string.clone().into()]);
    }
    reserve_split(&ctx, string, || split_count(string, delimiter))?;
    Ok(string.split(delimiter).map(Into::into).collect())
}

fn splitn(
    ctx: NativeCallContext,
    string: &mut ImmutableString,
    delimiter: &str,
    segments: INT,
) -> RhaiResultOf<Array> {
    if segments <= 1 || string.is_empty() || (!delimiter.is_empty() && !string.contains(delimiter))
    {
        return Ok(vec![string.clone().into()]);
    }
    let segments = segment_cap(segments);
    reserve_split(&ctx, string, || {
        split_count(string, delimiter).min(segments)
    })?;
    Ok(string.splitn(segments, delimiter).map(Into::into).collect())
}

fn split_char(
    ctx: NativeCallContext,
    string: &mut ImmutableString,
    delimiter: char,
) -> RhaiResultOf<Array> {
    if string.is_empty() || !string.contains(delimiter) {
        return Ok(vec![string.clone().into()]);
    }
    reserve_split(&ctx, string, || string.matches(delimiter).count() + 1)?;
    Ok(string.split(delimiter).map(Into::into).collect())
}

fn splitn_char(
    ctx: NativeCallContext,
    string: &mut ImmutableString,
    delimiter: char,
    segments: INT,
) -> RhaiResultOf<Array> {
    if segments <= 1 || string.is_empty() || !string.contains(delimiter) {
        return Ok(vec![string.clone().into()]);
    }
    let segments = segment_cap(segments);
    reserve_split(&ctx, string, || {
        (string.matches(delimiter).count() + 1).min(segments)
    })?;
    Ok(string.splitn(segments, delimiter).map(Into::into).collect())
}

fn rsplit(
    ctx: NativeCallContext,
    string: &mut ImmutableString,
    delimiter: &str,
) -> RhaiResultOf<Array> {
    if string.is_empty() || (!delimiter.is_empty() && !string.contains(delimiter)) {
        return Ok(vec![string.clone().into()]);
    }
    reserve_split(&ctx, string, || split_count(string, delimiter))?;
    Ok(string.rsplit(delimiter).map(Into::into).collect())
}

fn rsplitn(
    ctx: NativeCallContext,
    string: &mut ImmutableString,
    delimiter: &str,
    segments: INT,
) -> RhaiResultOf<Array> {
    if segments <= 1 || string.is_empty() || (!delimiter.is_empty() && !string.contains(delimiter))
    {
        return Ok(vec![string.clone().into()]);
    }
    let segments = segment_cap(segments);
    reserve_split(&ctx, string, || {
        split_count(string, delimiter).min(segments)
    })?;
    Ok(string
        .rsplitn(segments, delimiter)
        .map(Into::into)
        .collect())
}

fn rsplit_char(
    ctx: NativeCallContext,
    string: &mut ImmutableString,
    delimiter: char,
) -> RhaiResultOf<Array> {
    if string.is_empty() || !string.contains(delimiter) {
        return Ok(vec![string.clone().into()]);
    }
    reserve_split(&ctx, string, || string.matches(delimiter).count() + 1)?;
    Ok(string.rsplit(delimiter).map(Into::into).collect())
}

fn rsplitn_char(
    ctx: NativeCallContext,
    string: &mut ImmutableString,
    delimiter: char,
    segments: INT,
) -> RhaiResultOf<Array> {
    if segments <= 1 || string.is_empty() || !string.contains(delimiter) {
        return Ok(vec![string.clone().into()]);
    }
    let segments = segment_cap(segments);
    reserve_split(&ctx, string, || {
        (string.matches(delimiter).count() + 1).min(segments)
    })?;
    Ok(string
        .rsplitn(segments, delimiter)
        .map(Into::into)
        .collect())
}

fn to_chars(ctx: NativeCallContext, string: &str) -> RhaiResultOf<Array> {
    if string.is_empty() {
        return Ok(Array::new());
    }
    // At most one character per byte.
    let len = string.len() as u64;
    reserve_array(&ctx, len, len * COLLECTED)?;
    Ok(string.chars().map(Into::into).collect())
}

/// Bytes a clone of `value` allocates (at least; stops counting past
/// `enough`): shared strings and shared values are reference-counted, so
/// cloning them allocates nothing.
fn clone_bytes(value: &Dynamic, enough: u64) -> RhaiResultOf<u64> {
    budget::ensure_stack()?;
    if value.is_shared() || value.is_string() {
        return Ok(0);
    }
    if let Ok(array) = value.as_array_ref() {
        let mut total = array.len() as u64 * ELEMENT;
        for item in array.iter() {
            if total > enough {
                break;
            }
            total += clone_bytes(item, enough - total)?;
        }
        return Ok(total);
    }
    if let Ok(map) = value.as_map_ref() {
        let mut total = map.len() as u64 * MAP_ENTRY;
        for item in map.values() {
            if total > enough {
                break;
            }
            total += clone_bytes(item, enough - total)?;
        }
        return Ok(total);
    }
    if let Ok(blob) = value.as_blob_ref() {
        return Ok(blob.len() as u64);
    }
    Ok(0)
}

fn pad_array(
    ctx: NativeCallContext,
    array: &mut Array,
    len: INT,
    item: Dynamic,
) -> RhaiResultOf<()> {
    let Ok(len) = usize::try_from(len) else {
        return Ok(());
    };
    if len <= array.len() {
        return Ok(());
    }
    let pad = (len - array.len()) as u64;
    let enough = budget::memory_remaining().unwrap_or(u64::MAX);
    let per_item = ELEMENT + clone_bytes(&item, enough)?;
    reserve_array(&ctx, len as u64, pad.saturating_mul(per_item))?;
    array.resize(len, item);
    Ok(())
}

fn blob_with_len(ctx: NativeCallContext, len: INT) -> RhaiResultOf<Blob> {
    blob_with_len_and_value(ctx, len, 0)
}

fn blob_with_len_and_value(ctx: NativeCallContext, len: INT, value: INT) -> RhaiResultOf<Blob> {
    if len <= 0 {
        return Ok(Blob::new());
    }
    let len = count(len, "Size of BLOB")?;
    reserve_array(&ctx, len as u64, len as u64)?;
    let byte = (value & 0x00ff) as u8;
    Ok(vec![byte; len])
}

fn pad_blob(ctx: NativeCallContext, blob: &mut Blob, len: INT, value: INT) -> RhaiResultOf<()> {
    if len <= 0 {
        return Ok(());
    }
    let len = count(len, "Size of BLOB")?;
    if len <= blob.len() {
        return Ok(());
    }
    reserve_array(&ctx, len as u64, (len - blob.len()) as u64)?;
    let byte = (value & 0x00ff) as u8;
    blob.resize(len, byte);
    Ok(())
}

fn blob_to_array(ctx: NativeCallContext, blob: &mut Blob) -> RhaiResultOf<Array> {
    let len = blob.len() as u64;
    reserve_array(&ctx, len, len * ELEMENT)?;
    Ok(blob.iter().map(|&byte| INT::from(byte).into()).collect())
}

fn parse_json(ctx: NativeCallContext, json: &str) -> RhaiResultOf<Dynamic> {
    let peak = (json.len() as u64).saturating_mul(PARSE_JSON_PER_BYTE);
    if budget::metered() {
        budget::reserve(peak)?;
    } else {
        // Without a meter the longest string is the memory limit (see
        // `setup::SizeLimits`): refuse a parse that needs more than that.
        let max = ctx.engine().max_string_size() as u64;
        if max > 0 && peak > max {
            return Err(too_large("JSON text to parse"));
        }
    }
    ctx.engine().parse_json(json, true).map(Dynamic::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaced_lengths_are_upper_bounds() {
        for (s, find, sub) in [
            ("aaaa", "a", "bbb"),
            ("abc", "", "xy"),
            ("abab", "ab", "c"),
            ("héé", "é", "ee"),
            ("", "a", "b"),
        ] {
            let got = s.replace(find, sub).len() as u64;
            assert!(replaced_len(s, find, sub.len()) >= got, "{s} {find} {sub}");
        }
        assert_eq!(replaced_len("aaaa", "a", 3), 12);
    }

    #[test]
    fn split_counts_match_rust() {
        for (s, d) in [("a,b,,c", ","), ("abc", ""), ("x", "y"), ("ab", "ab")] {
            assert_eq!(split_count(s, d), s.split(d).count(), "{s:?} {d:?}");
        }
    }
}
