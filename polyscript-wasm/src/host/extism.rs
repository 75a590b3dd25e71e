//! Host functions as Extism imports: `polyscript::NAME`, taking and
//! returning Extism memory offsets as the PDKs expect.
//!
//! The argument is the offset of a JSON array (the positional arguments);
//! the result is the offset of a JSON object, exactly `{"ok":RESULT}` or
//! `{"error":"NAME: MESSAGE"}` (no white space, so a guest can slice the
//! result out without a JSON parser). A call that must end the eval (its
//! deadline passed, it was cancelled) traps instead of returning.

use std::panic::{AssertUnwindSafe, catch_unwind};

use extism::{CurrentPlugin, Function, PTR, UserData, Val};
use polyscript_core::host::HostFunctions;
use polyscript_core::{EngineKind, ScriptId};

use super::call::{self, Reply, Stopped};
use super::scope;

/// The import namespace of host functions in Extism plugins.
pub const EXTISM_HOST_NAMESPACE: &str = "polyscript";

/// One Extism function per name in `names` (host functions the module
/// imports, all in `registry`), each calling its function.
pub(crate) fn functions<'a>(
    registry: &HostFunctions,
    names: impl IntoIterator<Item = &'a str>,
    script_id: ScriptId,
) -> Vec<Function> {
    names
        .into_iter()
        .filter_map(|name| registry.get(name).cloned().map(|function| (name, function)))
        .map(|(name, function)| {
            let fn_name = name.to_owned();
            Function::new(
                name,
                [PTR],
                [PTR],
                UserData::new(()),
                move |plugin: &mut CurrentPlugin, inputs: &[Val], outputs: &mut [Val], _| {
                    // A panic must not unwind through wasm frames; the
                    // registry catches the function's own, this catches ours.
                    let reply = catch_unwind(AssertUnwindSafe(|| {
                        let args = match inputs.first() {
                            Some(offset) => plugin
                                .memory_get_val::<&[u8]>(offset)
                                .map_err(stopped_or)?
                                .to_vec(),
                            None => Vec::new(),
                        };
                        Ok::<_, extism::Error>(call::call(
                            &function,
                            &args,
                            EngineKind::Extism,
                            script_id,
                        ))
                    }))
                    .unwrap_or_else(|_| Ok(Ok(Reply::Failed(format!("{fn_name}: panicked")))))?;
                    let envelope = match reply {
                        Ok(Reply::Ok(json)) => wrap(b"{\"ok\":", &json),
                        Ok(Reply::Failed(message)) => {
                            let text = serde_json::to_vec(&message).unwrap_or_default();
                            wrap(b"{\"error\":", &text)
                        }
                        Err(Stopped) => return Err(extism::Error::new(Stopped)),
                    };
                    match outputs.first_mut() {
                        Some(out) => plugin
                            .memory_set_val(out, envelope.as_slice())
                            .map_err(stopped_or),
                        None => Ok(()),
                    }
                },
            )
            .with_namespace(EXTISM_HOST_NAMESPACE)
        })
        .collect()
}

/// A failed access to the guest's memory, or the stop that caused it.
/// Extism's memory functions run its kernel, which is WebAssembly too: when
/// the eval's deadline passes or it is cancelled during the access, the
/// kernel call traps on the interrupt check and the access fails with the
/// kernel's message ("invalid memory offset"). That ends the eval as the
/// stop it is (`Cancelled`, `Timeout`), not as a runtime error.
fn stopped_or(error: extism::Error) -> extism::Error {
    match scope::with_current(|guard| guard.and_then(|guard| guard.check().err())) {
        Some(stop) => {
            scope::stop_with(stop);
            extism::Error::new(Stopped)
        }
        None => error,
    }
}

fn wrap(head: &[u8], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(head.len() + body.len() + 1);
    out.extend_from_slice(head);
    out.extend_from_slice(body);
    out.push(b'}');
    out
}
