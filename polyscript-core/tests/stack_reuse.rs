//! The vendored stacker's patch (vendor/PATCHES.md): a thread keeps the
//! stack segment its last `stacker::grow` mapped and reuses it, and gives
//! back the pages a deep call touched. polyscript grows a stack for every
//! compile of a JavaScript script and every `JSON.parse` in one; mapping a
//! new segment each time cost more than a small parse.
#![cfg(target_os = "linux")]

use std::hint::black_box;

const SEGMENT: usize = 32 << 20;

/// The address of a local in the calling frame.
#[inline(never)]
fn here() -> usize {
    let marker = 0u8;
    black_box(&marker) as *const u8 as usize
}

/// The `/proc/self/smaps` entry of the mapping holding `address`: its
/// start, end and resident kilobytes, or `None` if nothing maps it.
fn mapping_of(address: usize) -> Option<(usize, usize, usize)> {
    let smaps = std::fs::read_to_string("/proc/self/smaps").expect("smaps");
    let mut current: Option<(usize, usize)> = None;
    for line in smaps.lines() {
        let first = line.split_whitespace().next().unwrap_or("");
        if let Some((start, end)) = first.split_once('-')
            && let (Ok(start), Ok(end)) = (
                usize::from_str_radix(start, 16),
                usize::from_str_radix(end, 16),
            )
        {
            current = Some((start, end));
            continue;
        }
        if let Some(kb) = line.strip_prefix("Rss:")
            && let Some((start, end)) = current
            && (start..end).contains(&address)
        {
            let kb = kb.trim().trim_end_matches("kB").trim().parse().expect("kB");
            return Some((start, end, kb));
        }
    }
    None
}

/// Recursion that touches about `depth` KiB of stack.
#[inline(never)]
fn touch(depth: usize) -> usize {
    let frame = black_box([1u8; 1024]);
    if depth == 0 {
        return frame[0] as usize;
    }
    touch(depth - 1) + black_box(frame[1]) as usize
}

#[test]
fn a_grown_stack_stays_mapped_and_the_next_grow_reuses_it() {
    let first = stacker::grow(SEGMENT, here);
    let (start, end, _) = mapping_of(first).expect("the segment is kept after the call");
    assert!(end - start >= SEGMENT, "{start:x}-{end:x}");
    let second = stacker::grow(SEGMENT, here);
    assert_eq!(first, second, "the same segment, the same frame address");
    // A smaller request is served by the kept segment too.
    let smaller = stacker::grow(1 << 20, here);
    assert!((start..end).contains(&smaller));
}

#[test]
fn a_deep_call_gives_its_pages_back() {
    let (address, during) = stacker::grow(SEGMENT, || {
        black_box(touch(4 * 1024));
        let address = here();
        let (_, _, rss) = mapping_of(address).expect("mapped");
        (address, rss)
    });
    assert!(
        during >= 4 * 1024,
        "4 MiB were touched: {during} kB resident"
    );
    let (_, _, after) = mapping_of(address).expect("still mapped");
    assert!(
        after <= 512,
        "only the segment's top stays resident: {after} kB (was {during} kB)"
    );
    // The reclaimed pages are usable again.
    assert_eq!(stacker::grow(SEGMENT, || touch(4 * 1024)), 4 * 1024 + 1);
}

#[test]
fn a_nested_grow_gets_a_segment_of_its_own() {
    stacker::grow(SEGMENT, || {
        let (start, end, _) = mapping_of(here()).expect("outer mapped");
        // The outer segment is in use: the nested call must not reuse it.
        let inner = stacker::grow(2 * SEGMENT, here);
        assert!(
            !(start..end).contains(&inner),
            "{inner:x} in {start:x}-{end:x}"
        );
    });
    // The larger one is kept for the next call.
    let next = stacker::grow(2 * SEGMENT, here);
    assert_eq!(next, stacker::grow(2 * SEGMENT, here));
    let (start, end, _) = mapping_of(next).expect("mapped");
    assert!(end - start >= 2 * SEGMENT);
}
