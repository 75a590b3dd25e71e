//! Lua 5.4's pattern matcher (`lstrlib.c`, "PATTERN MATCHING"), in Rust,
//! with a step meter.
//!
//! The structure follows the C code function by function (`match`,
//! `max_expand`, `min_expand`, `start_capture`, ...), with byte offsets
//! instead of pointers, so that every behaviour, corner case and error
//! message is Lua's own. Where C reads the terminating NUL of a Lua string
//! (one past the end of the pattern or the subject), [`MatchState::pat`]
//! and [`MatchState::sub`] return 0, as C does.
//!
//! The differences are deliberate and invisible to scripts: every step
//! (a call of `match`, one repetition tried, one character of a `%b`
//! scan, a back-reference compared) is counted, and every
//! [`STEPS_PER_POLL`](crate::watch::STEPS_PER_POLL) steps the eval's watch is polled, so a pattern that
//! backtracks exponentially ends with the eval's timeout or operation limit
//! instead of running forever.

use std::ffi::CStr;

use crate::watch::Steps;

/// Lua's `LUA_MAXCAPTURES`.
pub(crate) const MAX_CAPTURES: usize = 32;
/// Lua's `MAXCCALLS` for the matcher: `match` recursion deeper than this is
/// "pattern too complex".
pub(crate) const MAX_MATCH_DEPTH: u32 = 200;

/// `match` levels between two checks for native stack.
const STACK_CHECK_LEVELS: u32 = 32;

const CAP_UNFINISHED: isize = -1;
const CAP_POSITION: isize = -2;
const L_ESC: u8 = b'%';
const SPECIALS: &[u8] = b"^$*+?.([%-";

/// Why a match could not finish: a malformed pattern, or the eval was
/// stopped while matching.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MatchError {
    /// A Lua error with this exact message (as `lstrlib.c` raises it).
    Lua(&'static CStr),
    /// `invalid capture index %N` (N as Lua prints it).
    CaptureIndex(i32),
    /// The eval's deadline, cancellation or operation budget stopped it.
    Interrupted,
}

/// One capture: where it starts and its length, or `CAP_UNFINISHED` /
/// `CAP_POSITION`.
#[derive(Debug, Clone, Copy)]
struct Capture {
    init: usize,
    len: isize,
}

/// What a capture holds once the match is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Captured {
    /// The bytes `start..end` of the subject.
    Text(usize, usize),
    /// A position capture `()`: the 1-based position.
    Position(usize),
}

/// The state of one match of `pattern` against `subject`: Lua's
/// `MatchState`, plus the step meter. Holds no heap data, so native code
/// may raise a Lua error (a `longjmp`) while one is alive.
pub(crate) struct MatchState<'a> {
    subject: &'a [u8],
    pattern: &'a [u8],
    depth_left: u32,
    level: usize,
    capture: [Capture; MAX_CAPTURES],
    steps: Steps,
}

impl<'a> MatchState<'a> {
    /// A state for matching `pattern` (without a leading `^` anchor, which
    /// the caller handles) in `subject`.
    pub(crate) fn new(subject: &'a [u8], pattern: &'a [u8]) -> Self {
        MatchState {
            subject,
            pattern,
            depth_left: MAX_MATCH_DEPTH,
            level: 0,
            capture: [Capture { init: 0, len: 0 }; MAX_CAPTURES],
            steps: Steps::start(),
        }
    }

    /// Ends the matching: the steps not yet charged carry over to the next
    /// native call.
    pub(crate) fn finish(self) {
        self.steps.finish();
    }

    /// Lua's `reprepstate`: ready for another match attempt.
    pub(crate) fn reset(&mut self) {
        self.depth_left = MAX_MATCH_DEPTH;
        self.level = 0;
    }

    /// Number of captures (finished or not).
    pub(crate) fn level(&self) -> usize {
        self.level
    }

    /// Counts one step; polls the watch every
    /// [`STEPS_PER_POLL`](crate::watch::STEPS_PER_POLL) steps.
    #[inline]
    fn step(&mut self) -> Result<(), MatchError> {
        self.charge(1)
    }

    #[inline]
    fn charge(&mut self, steps: u32) -> Result<(), MatchError> {
        self.steps
            .charge(steps)
            .map_err(|()| MatchError::Interrupted)
    }

    /// The pattern byte at `i`, 0 at (or past) the end, as C reads the NUL.
    #[inline]
    fn pat(&self, i: usize) -> u8 {
        self.pattern.get(i).copied().unwrap_or(0)
    }

    /// The subject byte at `i`, 0 at (or past) the end.
    #[inline]
    fn sub(&self, i: usize) -> u8 {
        self.subject.get(i).copied().unwrap_or(0)
    }

    /// Lua's `match`: the end of a match of `pattern[p..]` starting at
    /// `subject[s..]`, if there is one.
    pub(crate) fn do_match(&mut self, s: usize, p: usize) -> Result<Option<usize>, MatchError> {
        self.match_at(s, p)
    }

    fn match_at(&mut self, s: usize, p: usize) -> Result<Option<usize>, MatchError> {
        if self.depth_left == 0 {
            return Err(MatchError::Lua(c"pattern too complex"));
        }
        // Make sure of native stack every few levels (the recursion is at
        // most MAX_MATCH_DEPTH levels of a few small frames each).
        if (MAX_MATCH_DEPTH - self.depth_left).is_multiple_of(STACK_CHECK_LEVELS) {
            polyscript_core::data::with_stack(|| self.match_level(s, p))
        } else {
            self.match_level(s, p)
        }
    }

    /// One level of `match` (the body of the C function).
    fn match_level(&mut self, mut s: usize, mut p: usize) -> Result<Option<usize>, MatchError> {
        self.depth_left -= 1;
        let end = self.pattern.len();
        let result = loop {
            self.step()?;
            if p == end {
                break Some(s);
            }
            match self.pattern[p] {
                b'(' => {
                    break if self.pat(p + 1) == b')' {
                        self.start_capture(s, p + 2, CAP_POSITION)?
                    } else {
                        self.start_capture(s, p + 1, CAP_UNFINISHED)?
                    };
                }
                b')' => break self.end_capture(s, p + 1)?,
                b'$' if p + 1 == end => {
                    break if s == self.subject.len() {
                        Some(s)
                    } else {
                        None
                    };
                }
                L_ESC if self.pat(p + 1) == b'b' => match self.match_balance(s, p + 2)? {
                    Some(next) => {
                        s = next;
                        p += 4;
                    }
                    None => break None,
                },
                L_ESC if self.pat(p + 1) == b'f' => {
                    p += 2;
                    if self.pat(p) != b'[' {
                        return Err(MatchError::Lua(c"missing '[' after '%f' in pattern"));
                    }
                    let ep = self.class_end(p)?;
                    let previous = if s == 0 { 0 } else { self.sub(s - 1) };
                    if !self.match_bracket_class(previous, p, ep - 1)
                        && self.match_bracket_class(self.sub(s), p, ep - 1)
                    {
                        p = ep;
                    } else {
                        break None;
                    }
                }
                L_ESC if self.pat(p + 1).is_ascii_digit() => {
                    match self.match_capture(s, self.pat(p + 1))? {
                        Some(next) => {
                            s = next;
                            p += 2;
                        }
                        None => break None,
                    }
                }
                _ => {
                    // A single-character class with an optional suffix.
                    let ep = self.class_end(p)?;
                    let suffix = self.pat(ep);
                    if !self.single_match(s, p, ep) {
                        if matches!(suffix, b'*' | b'?' | b'-') {
                            p = ep + 1;
                            continue;
                        }
                        break None;
                    }
                    match suffix {
                        b'?' => match self.match_at(s + 1, ep + 1)? {
                            Some(res) => break Some(res),
                            None => p = ep + 1,
                        },
                        b'+' => break self.max_expand(s + 1, p, ep)?,
                        b'*' => break self.max_expand(s, p, ep)?,
                        b'-' => break self.min_expand(s, p, ep)?,
                        _ => {
                            s += 1;
                            p = ep;
                        }
                    }
                }
            }
        };
        self.depth_left += 1;
        Ok(result)
    }

    /// Lua's `classend`: the index just past the single-character class at `p`.
    fn class_end(&self, mut p: usize) -> Result<usize, MatchError> {
        let end = self.pattern.len();
        let c = self.pattern[p];
        p += 1;
        match c {
            L_ESC => {
                if p == end {
                    return Err(MatchError::Lua(c"malformed pattern (ends with '%')"));
                }
                Ok(p + 1)
            }
            b'[' => {
                if self.pat(p) == b'^' {
                    p += 1;
                }
                // Look for the closing ']'; the first character is always
                // part of the set (so "[]]" holds a ']').
                loop {
                    if p == end {
                        return Err(MatchError::Lua(c"malformed pattern (missing ']')"));
                    }
                    let c = self.pattern[p];
                    p += 1;
                    if c == L_ESC && p < end {
                        p += 1; // skip escapes such as '%]'
                    }
                    if self.pat(p) == b']' {
                        break;
                    }
                }
                Ok(p + 1)
            }
            _ => Ok(p),
        }
    }

    /// Lua's `singlematch`: whether `subject[s]` matches the class `pattern[p..ep]`.
    fn single_match(&self, s: usize, p: usize, ep: usize) -> bool {
        let Some(&c) = self.subject.get(s) else {
            return false;
        };
        match self.pattern[p] {
            b'.' => true,
            L_ESC => match_class(c, self.pat(p + 1)),
            b'[' => self.match_bracket_class(c, p, ep - 1),
            literal => literal == c,
        }
    }

    /// Lua's `matchbracketclass`: `p` is the '[', `ec` the closing ']'.
    fn match_bracket_class(&self, c: u8, mut p: usize, ec: usize) -> bool {
        let mut sig = true;
        if self.pat(p + 1) == b'^' {
            sig = false;
            p += 1;
        }
        loop {
            p += 1;
            if p >= ec {
                break;
            }
            if self.pat(p) == L_ESC {
                p += 1;
                if match_class(c, self.pat(p)) {
                    return sig;
                }
            } else if self.pat(p + 1) == b'-' && p + 2 < ec {
                p += 2;
                if self.pat(p - 2) <= c && c <= self.pat(p) {
                    return sig;
                }
            } else if self.pat(p) == c {
                return sig;
            }
        }
        !sig
    }

    /// Lua's `matchbalance` (`%bxy` with `p` at `x`).
    fn match_balance(&mut self, s: usize, p: usize) -> Result<Option<usize>, MatchError> {
        if p + 1 >= self.pattern.len() {
            return Err(MatchError::Lua(
                c"malformed pattern (missing arguments to '%b')",
            ));
        }
        if self.sub(s) != self.pattern[p] {
            return Ok(None);
        }
        let (open, close) = (self.pattern[p], self.pattern[p + 1]);
        let mut depth = 1u64;
        let mut i = s + 1;
        while i < self.subject.len() {
            self.step()?;
            let c = self.subject[i];
            if c == close {
                depth -= 1;
                if depth == 0 {
                    return Ok(Some(i + 1));
                }
            } else if c == open {
                depth += 1;
            }
            i += 1;
        }
        Ok(None)
    }

    /// Lua's `max_expand`: as many repetitions as possible, then back off.
    fn max_expand(&mut self, s: usize, p: usize, ep: usize) -> Result<Option<usize>, MatchError> {
        let mut i = 0;
        while self.single_match(s + i, p, ep) {
            self.step()?;
            i += 1;
        }
        loop {
            if let Some(res) = self.match_at(s + i, ep + 1)? {
                return Ok(Some(res));
            }
            if i == 0 {
                return Ok(None);
            }
            i -= 1;
        }
    }

    /// Lua's `min_expand`: as few repetitions as possible.
    fn min_expand(
        &mut self,
        mut s: usize,
        p: usize,
        ep: usize,
    ) -> Result<Option<usize>, MatchError> {
        loop {
            if let Some(res) = self.match_at(s, ep + 1)? {
                return Ok(Some(res));
            }
            if self.single_match(s, p, ep) {
                s += 1;
            } else {
                return Ok(None);
            }
        }
    }

    fn start_capture(
        &mut self,
        s: usize,
        p: usize,
        what: isize,
    ) -> Result<Option<usize>, MatchError> {
        let level = self.level;
        if level >= MAX_CAPTURES {
            return Err(MatchError::Lua(c"too many captures"));
        }
        self.capture[level] = Capture { init: s, len: what };
        self.level = level + 1;
        let res = self.match_at(s, p)?;
        if res.is_none() {
            self.level -= 1;
        }
        Ok(res)
    }

    fn end_capture(&mut self, s: usize, p: usize) -> Result<Option<usize>, MatchError> {
        let l = self.capture_to_close()?;
        self.capture[l].len = (s - self.capture[l].init) as isize;
        let res = self.match_at(s, p)?;
        if res.is_none() {
            self.capture[l].len = CAP_UNFINISHED;
        }
        Ok(res)
    }

    fn capture_to_close(&self) -> Result<usize, MatchError> {
        (0..self.level)
            .rev()
            .find(|&l| self.capture[l].len == CAP_UNFINISHED)
            .ok_or(MatchError::Lua(c"invalid pattern capture"))
    }

    /// Lua's `check_capture`: `%1`..`%9` names a finished capture.
    fn check_capture(&self, digit: u8) -> Result<usize, MatchError> {
        let l = i32::from(digit) - i32::from(b'1');
        if l < 0 || l as usize >= self.level || self.capture[l as usize].len == CAP_UNFINISHED {
            return Err(MatchError::CaptureIndex(l + 1));
        }
        Ok(l as usize)
    }

    /// Lua's `match_capture`: a back-reference `%N`.
    fn match_capture(&mut self, s: usize, digit: u8) -> Result<Option<usize>, MatchError> {
        let l = self.check_capture(digit)?;
        let Capture { init, len } = self.capture[l];
        // A position capture has no text: as in C (its length, read as an
        // unsigned size, is larger than anything left), it never matches.
        let Ok(len) = usize::try_from(len) else {
            return Ok(None);
        };
        // Comparing is cheap but proportional to the length: charge it.
        self.charge(
            u32::try_from(len / 32)
                .unwrap_or(u32::MAX)
                .saturating_add(1),
        )?;
        if self.subject.len() - s >= len
            && self.subject[init..init + len] == self.subject[s..s + len]
        {
            Ok(Some(s + len))
        } else {
            Ok(None)
        }
    }

    /// Lua's `get_onecapture`: capture `i` of a match of `s..e` (capture 0
    /// of a pattern without captures is the whole match).
    pub(crate) fn capture(&self, i: usize, s: usize, e: usize) -> Result<Captured, MatchError> {
        if i >= self.level {
            if i != 0 {
                return Err(MatchError::CaptureIndex(i as i32 + 1));
            }
            return Ok(Captured::Text(s, e));
        }
        let Capture { init, len } = self.capture[i];
        match len {
            CAP_UNFINISHED => Err(MatchError::Lua(c"unfinished capture")),
            CAP_POSITION => Ok(Captured::Position(init + 1)),
            len => Ok(Captured::Text(init, init + len as usize)),
        }
    }
}

/// Lua's `match_class` in the C locale: `%a %c %d %g %l %p %s %u %w %x`
/// (and the deprecated `%z`), upper case for the complement; any other
/// character stands for itself.
pub(crate) fn match_class(c: u8, class: u8) -> bool {
    let res = match class.to_ascii_lowercase() {
        b'a' => c.is_ascii_alphabetic(),
        b'c' => c.is_ascii_control(),
        b'd' => c.is_ascii_digit(),
        b'g' => c.is_ascii_graphic(),
        b'l' => c.is_ascii_lowercase(),
        b'p' => c.is_ascii_punctuation(),
        // C's isspace: space, \t, \n, \v, \f, \r (Rust's is_ascii_whitespace
        // leaves out \v).
        b's' => c == b' ' || (b'\t'..=b'\r').contains(&c),
        b'u' => c.is_ascii_uppercase(),
        b'w' => c.is_ascii_alphanumeric(),
        b'x' => c.is_ascii_hexdigit(),
        b'z' => c == 0,
        _ => return class == c,
    };
    if class.is_ascii_lowercase() {
        res
    } else {
        !res
    }
}

/// Lua's `nospecials`: whether `pattern` has none of the magic characters,
/// so `string.find` can search for it as plain text.
pub(crate) fn no_specials(pattern: &[u8]) -> bool {
    !pattern.iter().any(|c| SPECIALS.contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(subject: &str, pattern: &str) -> Result<Option<(usize, usize)>, MatchError> {
        let (anchor, pattern) = match pattern.strip_prefix('^') {
            Some(rest) => (true, rest),
            None => (false, pattern),
        };
        let mut ms = MatchState::new(subject.as_bytes(), pattern.as_bytes());
        for start in 0..=subject.len() {
            ms.reset();
            if let Some(end) = ms.do_match(start, 0)? {
                return Ok(Some((start + 1, end)));
            }
            if anchor {
                break;
            }
        }
        Ok(None)
    }

    #[test]
    fn basics_match_lua() {
        assert_eq!(find("hello world", "o w"), Ok(Some((5, 7))));
        assert_eq!(find("hello", "l+"), Ok(Some((3, 4))));
        assert_eq!(find("hello", "^h.-o$"), Ok(Some((1, 5))));
        assert_eq!(find("f(a(b)c)", "%b()"), Ok(Some((2, 8))));
        assert_eq!(find("THE (quick) fox", "%f[%a]%a+"), Ok(Some((1, 3))));
        assert_eq!(find("abcabc", "(abc)%1"), Ok(Some((1, 6))));
        assert_eq!(find("x", "[]]"), Ok(None));
        assert_eq!(find("]", "[]]"), Ok(Some((1, 1))));
    }

    #[test]
    fn malformed_patterns_have_lua_messages() {
        assert_eq!(
            find("a", "%"),
            Err(MatchError::Lua(c"malformed pattern (ends with '%')"))
        );
        assert_eq!(
            find("a", "[a"),
            Err(MatchError::Lua(c"malformed pattern (missing ']')"))
        );
        assert_eq!(
            find("a", "%b"),
            Err(MatchError::Lua(
                c"malformed pattern (missing arguments to '%b')"
            ))
        );
        assert_eq!(
            find("a", "%f"),
            Err(MatchError::Lua(c"missing '[' after '%f' in pattern"))
        );
        assert_eq!(find("a", "%1"), Err(MatchError::CaptureIndex(1)));
        assert_eq!(
            find("a", "a)"),
            Err(MatchError::Lua(c"invalid pattern capture"))
        );
        assert_eq!(
            find(&"a".repeat(300), &"a?".repeat(300)),
            Err(MatchError::Lua(c"pattern too complex"))
        );
    }

    #[test]
    fn classes_follow_the_c_locale() {
        assert!(match_class(0x0b, b's'), "\\v is a space in C");
        assert!(!match_class(0xe9, b'a'), "no letters above 127");
        assert!(match_class(b'.', b'p') && !match_class(b'.', b'P'));
        assert!(match_class(b'%', b'%'));
    }
}
