//! `--data`: JSON text, `@FILE` or `-` (stdin), as an `EvalContext`.

use std::io::Read;

use polyscript::EvalContext;
use serde_json::Value;

use crate::failure::Failure;

/// The context for `--data` (empty without it).
pub(crate) fn context(data: Option<&str>) -> Result<EvalContext, Failure> {
    let Some(data) = data else {
        return Ok(EvalContext::new());
    };
    let (text, from) = if data == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Failure::input(format!("cannot read the data from stdin: {e}")))?;
        (text, "stdin".to_owned())
    } else if let Some(path) = data.strip_prefix('@') {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Failure::input(format!("cannot read the data file {path}: {e}")))?;
        (text, path.to_owned())
    } else {
        (data.to_owned(), "--data".to_owned())
    };
    parse(&text, &from)
}

/// One JSON object as a context; `from` names where it came from.
pub(crate) fn parse(text: &str, from: &str) -> Result<EvalContext, Failure> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| Failure::input(format!("{from} is not valid JSON: {e}")))?;
    if !value.is_object() {
        return Err(Failure::input(format!(
            "{from} must be a JSON object (the script's ctx), got {}",
            polyscript::ValueType::of(&value)
        )));
    }
    EvalContext::with_data(&value).map_err(|e| Failure::input(format!("{from}: {e}")))
}
