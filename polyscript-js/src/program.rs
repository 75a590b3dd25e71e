//! Compile step: validate the script once and prepare the text every
//! instance parses (see the crate docs, "Isolation").

use std::sync::Arc;

use boa_engine::ast::declaration::Declaration;
use boa_engine::ast::scope::Scope;
use boa_engine::ast::{Position, StatementListItem};
use boa_engine::interner::Interner;
use boa_engine::parser::{Error as ParseError, Parser, Source as JsSource};
use polyscript_core::{EngineKind, Error, Location, Result, ScriptId, Source};

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
    /// Identity of this compilation, shared by its clones: the key under
    /// which threads cache runtimes of it (see `local.rs`).
    pub(crate) identity: Arc<()>,
}

impl JsProgram {
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
/// wrapped text.
pub(crate) fn compile(source: &Source) -> Result<JsProgram> {
    let text = source.text()?;
    let compile_error = |message: String, location: Option<Location>| Error::Compile {
        engine: EngineKind::JavaScript,
        script_id: source.id(),
        message,
        location,
    };

    // 1. The script as written: its own syntax errors, and whether it
    //    declares `function main`.
    let mut interner = Interner::default();
    let script = Parser::new(JsSource::from_bytes(text))
        .parse_script(&Scope::new_global(), &mut interner)
        .map_err(|e| {
            let location = parse_error_location(&e).map(|p| Location::new(p.0, p.1));
            compile_error(format!("SyntaxError: {e}"), location)
        })?;
    let has_main = script.statements().statements().iter().any(|item| {
        matches!(item, StatementListItem::Declaration(decl)
            if matches!(decl.as_ref(), Declaration::FunctionDeclaration(f)
                if interner.resolve_expect(f.name().sym()).utf8() == Some("main")))
    });

    // 2. The wrapped text. A hashbang line is only valid at the very start,
    //    so it becomes a comment of the same length.
    let body = match text.strip_prefix("#!") {
        Some(rest) => format!("//{rest}"),
        None => text.to_owned(),
    };
    let strict = script.strict();
    let prefix = if strict {
        format!("'use strict';{OPEN}")
    } else {
        OPEN.to_owned()
    };
    let close = if has_main { CLOSE_MAIN } else { CLOSE };
    let wrapped = format!("{prefix}{body}{close}");
    let program = JsProgram {
        prefix_len: prefix.len() as u32,
        wrapped,
        has_main,
        origin: source.origin().to_string(),
        script_id: source.id(),
        identity: Arc::new(()),
    };

    // 3. The wrapped text must parse too: a block has a few early errors a
    //    script does not (e.g. two top-level functions with the same name).
    let mut interner = Interner::default();
    Parser::new(JsSource::from_bytes(&program.wrapped))
        .parse_script(&Scope::new_global(), &mut interner)
        .map_err(|e| {
            let location = parse_error_location(&e).map(|(l, c)| program.unwrap_location(l, c));
            compile_error(
                format!("SyntaxError: {e} (top-level declarations are block-scoped per eval)"),
                location,
            )
        })?;
    Ok(program)
}

/// Line and column of a parser error, where it has one.
fn parse_error_location(error: &ParseError) -> Option<(u32, u32)> {
    let position: Position = match error {
        ParseError::Expected { span, .. } | ParseError::Unexpected { span, .. } => span.start(),
        ParseError::General { position, .. } => *position,
        ParseError::Lex {
            err: boa_engine::parser::lexer::Error::Syntax(_, position),
        } => *position,
        _ => return None,
    };
    Some((position.line_number(), position.column_number()))
}
