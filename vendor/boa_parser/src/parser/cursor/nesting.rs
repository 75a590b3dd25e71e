//! polyscript patch: bounded nesting and host interrupts while parsing.
//!
//! The parser is recursive descent, and the passes after it (scope
//! analysis, the bytecode compiler, dropping the AST) recurse over the AST,
//! so source nested too deeply (`((((…))))` ten thousand times, a long
//! `a || a || …`, `!!!!…`, a left-deep `a + a + …` chain) used to overflow the
//! native stack and abort the process. Every construct that can nest takes
//! one level of [`Nesting`] while it is parsed: past the limit the parse
//! ends with a syntax error at that position. Left-deep chains (binary
//! operators, `a.b.c`, `f()()`) are built in loops, not by recursion, but
//! their AST is as deep as the chain is long, so each link of a chain takes
//! a level too ([`Chain`]).
//!
//! The same points look at the host's interrupt flag, so a parse the host
//! wants stopped (a deadline, a memory limit) ends with an error as well.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use boa_ast::Position;

use crate::Error;
use crate::parser::ParseResult;

/// Default for [`Nesting::limit`]: how many levels of nesting a source may
/// have. See `Parser::set_max_nesting`.
pub const DEFAULT_MAX_NESTING: u32 = 1024;

/// Native stack that must be left to nest one level deeper: the parse fails
/// (with a syntax error) rather than overflow a stack too small for the
/// nesting limit. One level takes a few tens of KiB in unoptimised builds.
const STACK_RED_ZONE: usize = 512 * 1024;

/// The nesting depth of one parse and what bounds it.
#[derive(Debug)]
pub(crate) struct Nesting {
    depth: Rc<Cell<u32>>,
    limit: u32,
    interrupt: Option<Arc<AtomicBool>>,
}

impl Default for Nesting {
    fn default() -> Self {
        Self {
            depth: Rc::new(Cell::new(0)),
            limit: DEFAULT_MAX_NESTING,
            interrupt: None,
        }
    }
}

impl Nesting {
    pub(crate) fn set_limit(&mut self, limit: u32) {
        self.limit = limit;
    }

    pub(crate) fn set_interrupt_flag(&mut self, flag: Option<Arc<AtomicBool>>) {
        self.interrupt = flag;
    }

    pub(crate) fn interrupt_flag(&self) -> Option<Arc<AtomicBool>> {
        self.interrupt.clone()
    }

    /// Takes one level at `position` until the guard is dropped.
    pub(crate) fn enter(&self, position: Position) -> ParseResult<NestingGuard> {
        self.take(position)?;
        Ok(NestingGuard {
            depth: Rc::clone(&self.depth),
        })
    }

    /// A chain whose links each take one level until the chain is dropped.
    pub(crate) fn chain(&self) -> Chain {
        Chain {
            depth: Rc::clone(&self.depth),
            limit: self.limit,
            interrupt: self.interrupt.clone(),
            links: 0,
        }
    }

    fn take(&self, position: Position) -> ParseResult<()> {
        take(&self.depth, self.limit, self.interrupt.as_deref(), position)
    }
}

fn take(
    depth: &Cell<u32>,
    limit: u32,
    interrupt: Option<&AtomicBool>,
    position: Position,
) -> ParseResult<()> {
    let next = depth.get().saturating_add(1);
    if next > limit {
        return Err(Error::general(
            format!("the code is nested too deeply (more than {limit} levels)"),
            position,
        ));
    }
    if stacker::remaining_stack().is_some_and(|left| left < STACK_RED_ZONE) {
        return Err(Error::general(
            format!("the code is nested too deeply for the native stack left ({next} levels)"),
            position,
        ));
    }
    if interrupt.is_some_and(|flag| flag.load(Ordering::Relaxed)) {
        return Err(Error::general(
            "parsing was interrupted by the host",
            position,
        ));
    }
    depth.set(next);
    Ok(())
}

/// One level of nesting, given back when dropped.
#[derive(Debug)]
pub(crate) struct NestingGuard {
    depth: Rc<Cell<u32>>,
}

impl Drop for NestingGuard {
    fn drop(&mut self) {
        self.depth.set(self.depth.get().saturating_sub(1));
    }
}

/// The links of a left-deep chain, each one level, given back when dropped.
#[derive(Debug)]
pub(crate) struct Chain {
    depth: Rc<Cell<u32>>,
    limit: u32,
    interrupt: Option<Arc<AtomicBool>>,
    links: u32,
}

impl Chain {
    /// One more link, at `position`.
    pub(crate) fn link(&mut self, position: Position) -> ParseResult<()> {
        take(&self.depth, self.limit, self.interrupt.as_deref(), position)?;
        self.links += 1;
        Ok(())
    }
}

impl Drop for Chain {
    fn drop(&mut self) {
        self.depth.set(self.depth.get().saturating_sub(self.links));
    }
}
