//! Why a command failed, how that is shown, and which exit code it gives.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use codespan_reporting::diagnostic::{Diagnostic, Label};
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term::{
    self,
    termcolor::{ColorChoice, StandardStream},
};
use polyscript::Error;
use serde_json::{Value, json};

/// Exit code of a script that failed (compile, runtime, timeout, limit).
pub(crate) const SCRIPT_FAILED: u8 = 1;
/// Exit code of a usage or input error.
pub(crate) const USAGE: u8 = 2;

/// A failure of a command.
#[derive(Debug)]
pub(crate) enum Failure {
    /// polyscript refused or failed the script (`file` is where it came from).
    Script { error: Error, file: PathBuf },
    /// The command line or the input is wrong.
    Input(String),
}

impl Failure {
    /// A usage or input error.
    pub(crate) fn input(message: impl Into<String>) -> Self {
        Failure::Input(message.into())
    }

    /// An error of polyscript's about `file`: input errors (a missing file,
    /// data refused before any script ran) exit 2, the rest 1.
    pub(crate) fn of(error: Error, file: &Path) -> Self {
        Failure::Script {
            error,
            file: file.to_path_buf(),
        }
    }

    /// The exit code.
    pub(crate) fn code(&self) -> u8 {
        match self {
            Failure::Input(_) => USAGE,
            Failure::Script { error, .. } => exit_code(error),
        }
    }

    /// Writes the failure to stderr (as JSON with `json`) and gives the
    /// exit code.
    pub(crate) fn report(self, json: bool) -> ExitCode {
        let code = self.code();
        if json {
            let _ = writeln!(std::io::stderr(), "{}", self.to_json());
        } else {
            match &self {
                Failure::Input(message) => eprintln!("error: {message}"),
                Failure::Script { error, file } => render(error, file),
            }
        }
        ExitCode::from(code)
    }

    /// The failure as a JSON object `{"error": {...}}`.
    pub(crate) fn to_json(&self) -> Value {
        match self {
            Failure::Input(message) => json!({"error": {"kind": "input", "message": message}}),
            Failure::Script { error, file } => json!({ "error": error_json(error, Some(file)) }),
        }
    }
}

/// 1 for a script that failed, 2 for what is the caller's fault.
pub(crate) fn exit_code(error: &Error) -> u8 {
    match error {
        Error::Load { .. } | Error::Unsupported { .. } => USAGE,
        // Data refused before it reached a script is the caller's input.
        Error::InvalidData { path, .. }
            if path.as_deref().is_none_or(|p| !p.starts_with("result")) =>
        {
            USAGE
        }
        _ => SCRIPT_FAILED,
    }
}

/// What kind of error, as one word.
fn kind(error: &Error) -> &'static str {
    match error {
        Error::Compile { .. } => "compile",
        Error::Runtime { .. } => "runtime",
        Error::Timeout { .. } => "timeout",
        Error::Cancelled { .. } => "cancelled",
        Error::LimitExceeded { .. } => "limit",
        Error::Load { .. } => "load",
        Error::InvalidData { .. } => "invalid_data",
        Error::EntryPointNotFound { .. } => "entry_point_not_found",
        Error::PoolExhausted { .. } => "pool_exhausted",
        Error::EnginePanic { .. } => "engine_panic",
        Error::Step { .. } => "step",
        Error::Unsupported { .. } => "unsupported",
        _ => "other",
    }
}

/// An error as a JSON object: kind, message, engine, script id, location.
pub(crate) fn error_json(error: &Error, file: Option<&Path>) -> Value {
    let mut object = json!({
        "kind": kind(error),
        "message": full_message(error),
    });
    if let Some(file) = file {
        object["file"] = json!(file.display().to_string());
    }
    if let Some(engine) = error.engine() {
        object["engine"] = json!(engine.to_string());
    }
    if let Some(id) = error.script_id() {
        object["script_id"] = json!(id.to_string());
    }
    if let Some(location) = error.location() {
        object["line"] = json!(location.line);
        if let Some(column) = location.column {
            object["column"] = json!(column);
        }
    }
    if let Error::LimitExceeded { limit, .. } = error {
        object["limit"] = json!(limit.to_string());
    }
    object
}

/// Writes `error` like rustc: for an error with a location in a text file,
/// the offending line with a caret under the column.
pub(crate) fn render(error: &Error, file: &Path) {
    let shown = file.display().to_string();
    let text = std::fs::read_to_string(file).ok();
    match (error.location(), text) {
        (Some(location), Some(text)) => {
            let start = offset(&text, location.line, location.column.unwrap_or(1));
            let end = (start + 1).min(text.len()).max(start);
            let files = SimpleFile::new(shown.clone(), text);
            let label = match error {
                Error::Compile { .. } => "here",
                _ => "while running this",
            };
            let diagnostic = Diagnostic::error()
                .with_message(headline(error))
                .with_labels(vec![Label::primary((), start..end).with_message(label)])
                .with_notes(vec![full_message(error)]);
            // termcolor's `Auto` looks at TERM only: no colours when stderr
            // is a pipe or a file.
            let colors = if std::io::stderr().is_terminal() {
                ColorChoice::Auto
            } else {
                ColorChoice::Never
            };
            let mut writer = StandardStream::stderr(colors);
            let config = term::Config::default();
            if term::emit_to_write_style(&mut writer, &config, &files, &diagnostic).is_err() {
                eprintln!("error: {shown}: {}", full_message(error));
            }
        }
        _ => eprintln!("error: {shown}: {}", full_message(error)),
    }
}

/// `error`'s text followed by its sources' (a failed step's own error, the
/// I/O error behind a load error), each after `: `: polyscript's errors say
/// their cause once, as the source, not in their own text.
pub(crate) fn full_message(error: &Error) -> String {
    let mut text = error.to_string();
    let mut next = std::error::Error::source(error);
    while let Some(cause) = next {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        next = cause.source();
    }
    text
}

/// The first line of a diagnostic: what kind of error, in which engine.
fn headline(error: &Error) -> String {
    let engine = error.engine().map(|e| e.to_string()).unwrap_or_default();
    match error {
        Error::Compile { message, .. } => format!("{engine} compile error: {message}"),
        Error::Runtime { message, .. } => format!("{engine} runtime error: {message}"),
        other => other.to_string(),
    }
}

/// The byte offset of 1-based `line`/`column` in `text` (clamped).
fn offset(text: &str, line: u32, column: u32) -> usize {
    let mut at = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line as usize {
            let col = l
                .char_indices()
                .nth(column.saturating_sub(1) as usize)
                .map_or(l.trim_end_matches('\n').len(), |(b, _)| b);
            return at + col;
        }
        at += l.len();
    }
    text.len()
}
