//! Compile step: validate the script once and prepare the text every
//! instance parses (see the crate docs, "Compile once, isolate every eval").

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use boa_engine::ast::declaration::Declaration;
use boa_engine::ast::expression::literal::LiteralKind;
use boa_engine::ast::operations::{annex_b_function_declarations_names, var_declared_names};
use boa_engine::ast::scope::Scope;
use boa_engine::ast::{Expression, Position, Statement, StatementList, StatementListItem};
use boa_engine::interner::Interner;
use boa_engine::parser::{Error as ParseError, Parser, Source as JsSource};
use polyscript_core::alloc::MemoryMeter;
use polyscript_core::{EngineKind, Error, Limits, Location, Result, ScriptId, Source};

use crate::engine::JsConfig;
use crate::stack;

/// Text put before the script on its first line: an opening block brace.
const OPEN: &str = "{";
/// Text put after the script when it has no `main`: closes the block.
const CLOSE: &str = "\n}";
/// Text put after the script when it declares `function main`.
const CLOSE_MAIN: &str = "\n;main(ctx);}";

/// A compiled (validated and wrapped) JavaScript program, shared by all
/// instances.
#[derive(Debug, Clone)]
pub struct JsProgram {
    /// The script as every instance parses it: the original body inside one
    /// block statement (plus a `main(ctx)` call when the script defines it).
    pub(crate) wrapped: String,
    /// Bytes added before the original text on line 1 (subtracted from
    /// columns reported on line 1).
    pub(crate) prefix_len: u32,
    /// Whether the script declares a top-level `function main`.
    pub(crate) has_main: bool,
    /// Where the script came from, for the bytecode's path.
    pub(crate) origin: String,
    /// The script's id.
    pub(crate) script_id: ScriptId,
    /// The global `var`s the wrapped script declares (its `var`
    /// statements outside functions and, in sloppy mode, the functions
    /// declared in blocks, Annex B), sorted: the only non-deletable globals
    /// an eval of it may leave, and so the key of the context it shares
    /// with other programs on a thread (see `local.rs`).
    pub(crate) global_vars: Arc<[String]>,
    /// Identity of this compilation, shared by its clones: the key under
    /// which threads cache runtimes of it (see `local.rs`).
    pub(crate) identity: Arc<()>,
}

impl JsProgram {
    /// A program of `source` whose instances parse `wrapped` (`prefix_len`
    /// bytes added before the script on line 1), declaring no global `var`s
    /// yet.
    fn new(source: &Source, wrapped: String, prefix_len: u32, has_main: bool) -> JsProgram {
        JsProgram {
            wrapped,
            prefix_len,
            has_main,
            origin: source.origin().to_string(),
            script_id: source.id(),
            global_vars: Arc::from(Vec::new()),
            identity: Arc::new(()),
        }
    }

    /// Whether the script defines `function main(ctx)` (called per eval).
    pub fn has_main(&self) -> bool {
        self.has_main
    }

    /// The text each instance parses once (the script wrapped in a block).
    pub fn wrapped_source(&self) -> &str {
        &self.wrapped
    }

    /// Maps a location in the wrapped text back to the original script.
    pub(crate) fn unwrap_location(&self, line: u32, column: u32) -> Location {
        let column = if line == 1 {
            column.saturating_sub(self.prefix_len).max(1)
        } else {
            column
        };
        Location::new(line, column)
    }
}

/// Parses `source`, reports syntax errors with their position, and builds the
/// wrapped text. Bounded: the source size by the engine's
/// `max_source_bytes`, nesting by boa's parser limit, the memory the parser
/// takes by `limits.memory_bytes` (with the accounting allocator), the
/// native stack by a dedicated segment.
pub(crate) fn compile(source: &Source, config: &JsConfig, limits: &Limits) -> Result<JsProgram> {
    let text = source.text()?;
    let compile_error = |message: String, location: Option<Location>| Error::Compile {
        engine: EngineKind::JavaScript,
        script_id: source.id(),
        message,
        location,
    };
    if text.len() > config.max_source_bytes {
        return Err(compile_error(
            format!(
                "the script is {} bytes, more than the {} bytes this engine accepts \
                 (JsEngineBuilder::max_source_bytes)",
                text.len(),
                config.max_source_bytes
            ),
            None,
        ));
    }

    // The common case in one parse: the wrapped text, when it parses as a
    // single block and its script has no directive prologue, stands for
    // the script as written (see `inspect_wrapped`).
    let (plain, plain_prefix) = wrap(text, false, false);
    match parse(&plain, limits, inspect_wrapped) {
        Ok(Some(Wrapped {
            has_main,
            global_vars,
        })) => {
            let (wrapped, prefix_len) = if has_main {
                wrap(text, false, true)
            } else {
                (plain, plain_prefix)
            };
            return Ok(JsProgram {
                global_vars,
                ..JsProgram::new(source, wrapped, prefix_len, has_main)
            });
        }
        Err(failure @ ParseFailure::Memory(_)) => {
            let (message, _) = describe(&failure, text);
            return Err(compile_error(message, None));
        }
        // A syntax error, or a shape the fast path does not decide: the
        // script is parsed as written, for its own errors and positions.
        Ok(None) | Err(ParseFailure::Syntax(_)) => {}
    }

    // 1. The script as written: its own syntax errors, and whether it
    //    declares `function main`.
    let (has_main, strict) = parse(text, limits, |script, interner| {
        (
            declares_main(script.statements(), interner),
            script.strict(),
        )
    })
    .map_err(|e| {
        let (message, position) = describe(&e, text);
        compile_error(message, position.map(|(l, c)| Location::new(l, c)))
    })?;

    // 2. The wrapped text must parse too: a block has a few early errors a
    //    script does not (e.g. two top-level functions with the same name).
    let (wrapped, prefix_len) = wrap(text, strict, has_main);
    let program = JsProgram::new(source, wrapped, prefix_len, has_main);
    let global_vars = parse(&program.wrapped, limits, global_var_names).map_err(|e| {
        let (message, position) = describe(&e, &program.wrapped);
        compile_error(
            format!("{message} (top-level declarations are block-scoped per eval)"),
            position.map(|(l, c)| program.unwrap_location(l, c)),
        )
    })?;
    Ok(JsProgram {
        global_vars,
        ..program
    })
}

/// The script's text as every instance parses it, and the bytes added
/// before it on line 1: the body inside one block statement (so top-level
/// declarations are scoped per eval), strict if the script is, with a
/// `main(ctx)` call when it declares `main`. A hashbang line is only valid
/// at the very start, so it becomes a comment of the same length.
fn wrap(text: &str, strict: bool, has_main: bool) -> (String, u32) {
    let body = match text.strip_prefix("#!") {
        Some(rest) => format!("//{rest}"),
        None => text.to_owned(),
    };
    let prefix = if strict {
        format!("'use strict';{OPEN}")
    } else {
        OPEN.to_owned()
    };
    let close = if has_main { CLOSE_MAIN } else { CLOSE };
    (format!("{prefix}{body}{close}"), prefix.len() as u32)
}

/// Whether `statements` declare a top-level `function main` (or `async
/// function main`, whose promise is awaited like any promise result).
fn declares_main(statements: &StatementList, interner: &Interner) -> bool {
    let is_main = |name: boa_engine::ast::expression::Identifier| {
        interner.resolve_expect(name.sym()).utf8() == Some("main")
    };
    statements.statements().iter().any(|item| {
        let StatementListItem::Declaration(decl) = item else {
            return false;
        };
        match decl.as_ref() {
            Declaration::FunctionDeclaration(f) => is_main(f.name()),
            Declaration::AsyncFunctionDeclaration(f) => is_main(f.name()),
            _ => false,
        }
    })
}

/// What the non-strict wrapped text (`{` script `\n}`) tells about the
/// script, if its parse can stand for the script's own: the parse has
/// exactly one top-level statement, the block, so the script's braces
/// balance inside it (a script cannot close the block early and leave
/// declarations at the top level), and the block starts with no string
/// statement, so the script has no directive prologue and is not strict.
/// Then the script parses as written too (a block accepts no statement a
/// script rejects), its top-level items are the block's, and appending
/// `;main(ctx);` adds no early error and no declared name. `None`: parse
/// the script as written instead.
fn inspect_wrapped(script: &boa_engine::ast::Script, interner: &Interner) -> Option<Wrapped> {
    let [StatementListItem::Statement(statement)] = script.statements().statements() else {
        return None;
    };
    let Statement::Block(block) = statement.as_ref() else {
        return None;
    };
    let body = block.statement_list();
    if let Some(StatementListItem::Statement(first)) = body.statements().first()
        && let Statement::Expression(Expression::Literal(literal)) = first.as_ref()
        && matches!(literal.kind(), LiteralKind::String(_))
    {
        return None;
    }
    Some(Wrapped {
        has_main: declares_main(body, interner),
        global_vars: global_var_names(script, interner),
    })
}

/// See [`inspect_wrapped`].
struct Wrapped {
    has_main: bool,
    global_vars: Arc<[String]>,
}

/// The names `GlobalDeclarationInstantiation` makes non-deletable global
/// properties for `script` (boa's own analysis, as its bytecompiler runs
/// it), sorted and without repeats.
fn global_var_names(script: &boa_engine::ast::Script, interner: &Interner) -> Arc<[String]> {
    let mut names: Vec<String> = var_declared_names(script)
        .into_iter()
        .chain(if script.strict() {
            Vec::new()
        } else {
            annex_b_function_declarations_names(script)
        })
        .map(|sym| interner.resolve_expect(sym).to_string())
        .collect();
    names.sort_unstable();
    names.dedup();
    Arc::from(names)
}

/// Why a parse failed: the parser's error, or the memory limit.
enum ParseFailure {
    Syntax(ParseError),
    Memory(u64),
}

impl std::fmt::Display for ParseFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParseFailure::Syntax(e) => e.fmt(f),
            ParseFailure::Memory(limit) => write!(
                f,
                "parsing the script needs more than the memory limit ({limit} bytes, Limits::memory_bytes)"
            ),
        }
    }
}

/// Parses `text` as a script and hands the AST to `inspect`, on a stack
/// segment big enough for the deepest nesting the parser allows, with the
/// parser's memory metered against `limits.memory_bytes`.
fn parse<T>(
    text: &str,
    limits: &Limits,
    inspect: impl FnOnce(&boa_engine::ast::Script, &Interner) -> T,
) -> std::result::Result<T, ParseFailure> {
    stack::for_compile(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let meter = limits
            .memory_bytes
            .and_then(|limit| MemoryMeter::start_with_flag(limit, Arc::clone(&flag)));
        let mut interner = Interner::default();
        let mut parser = Parser::new(JsSource::from_bytes(text));
        parser.set_interrupt_flag(Some(flag));
        let parsed = parser.parse_script(&Scope::new_global(), &mut interner);
        if let Some(meter) = &meter
            && meter.exceeded()
        {
            return Err(ParseFailure::Memory(meter.limit()));
        }
        let script = parsed.map_err(ParseFailure::Syntax)?;
        Ok(inspect(&script, &interner))
    })
}

/// A parse failure as a message without its location (which goes into the
/// error's `location`), and that location when the parser knows it.
fn describe(failure: &ParseFailure, text: &str) -> (String, Option<(u32, u32)>) {
    let error = match failure {
        ParseFailure::Syntax(error) => error,
        ParseFailure::Memory(_) => return (failure.to_string(), None),
    };
    let (message, position) = match error {
        ParseError::Expected {
            expected,
            found,
            context,
            span,
        } => {
            let expected = match &**expected {
                [single] => format!("token '{single}'"),
                many => format!(
                    "one of {}",
                    many.iter()
                        .map(|t| format!("'{t}'"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            (
                format!("expected {expected}, got '{found}' in {context}"),
                Some(span.start()),
            )
        }
        ParseError::Unexpected {
            found,
            span,
            message,
        } => (
            format!("unexpected token '{found}', {message}"),
            Some(span.start()),
        ),
        ParseError::General { message, position } => (message.to_string(), Some(*position)),
        ParseError::Lex {
            err: boa_engine::parser::lexer::Error::Syntax(message, position),
        } => (message.to_string(), Some(*position)),
        ParseError::AbruptEnd => {
            let end = end_of(text);
            (
                "unexpected end of the script".to_owned(),
                Some(Position::new(end.0, end.1)),
            )
        }
        other => (other.to_string(), None),
    };
    (
        format!("SyntaxError: {message}"),
        position.map(|p| (p.line_number(), p.column_number())),
    )
}

/// Line and column just past the end of `text`.
fn end_of(text: &str) -> (u32, u32) {
    let line = text.lines().count().max(1);
    let last = if text.ends_with('\n') {
        ""
    } else {
        text.lines().last().unwrap_or("")
    };
    let line = if text.ends_with('\n') { line + 1 } else { line };
    (
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(last.chars().count() + 1).unwrap_or(u32::MAX),
    )
}
