//! The build-time import check: a module whose imports the evaluator cannot
//! satisfy is refused when the evaluator is built, naming every missing
//! import, instead of failing its first eval with wasmtime's "unknown
//! import" for the first one.

use wasmtime::{ExternType, ImportType, Module};

/// The functions of WASI preview 1 (`wasi_snapshot_preview1`), the frozen
/// snapshot both engines link (wasmtime-wasi's for WASI modules, Extism's
/// `wasi-common` for plugins); a unit test checks the list against both.
pub(crate) const WASI_PREVIEW1: &[&str] = &[
    "args_get",
    "args_sizes_get",
    "environ_get",
    "environ_sizes_get",
    "clock_res_get",
    "clock_time_get",
    "fd_advise",
    "fd_allocate",
    "fd_close",
    "fd_datasync",
    "fd_fdstat_get",
    "fd_fdstat_set_flags",
    "fd_fdstat_set_rights",
    "fd_filestat_get",
    "fd_filestat_set_size",
    "fd_filestat_set_times",
    "fd_pread",
    "fd_prestat_get",
    "fd_prestat_dir_name",
    "fd_pwrite",
    "fd_read",
    "fd_readdir",
    "fd_renumber",
    "fd_seek",
    "fd_sync",
    "fd_tell",
    "fd_write",
    "path_create_directory",
    "path_filestat_get",
    "path_filestat_set_times",
    "path_link",
    "path_open",
    "path_readlink",
    "path_remove_directory",
    "path_rename",
    "path_symlink",
    "path_unlink_file",
    "poll_oneoff",
    "proc_exit",
    "proc_raise",
    "sched_yield",
    "random_get",
    "sock_accept",
    "sock_recv",
    "sock_send",
    "sock_shutdown",
];

/// The WASI preview 1 import namespace.
pub(crate) const WASI_NAMESPACE: &str = "wasi_snapshot_preview1";

/// Whether `name` is a WASI preview 1 function.
pub(crate) fn is_wasi_function(name: &str) -> bool {
    WASI_PREVIEW1.contains(&name)
}

/// Checks every import of `module` with `resolve` (`Err(reason)`: the
/// evaluator cannot provide it) and lists all the unresolved ones.
pub(crate) fn check(
    module: &Module,
    mut resolve: impl FnMut(&ImportType<'_>) -> Result<(), String>,
) -> Result<(), String> {
    let missing: Vec<String> = module
        .imports()
        .filter_map(|import| {
            resolve(&import).err().map(|why| {
                format!(
                    "{} `{}::{}` ({why})",
                    kind(&import.ty()),
                    import.module(),
                    import.name()
                )
            })
        })
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the module imports {} this evaluator does not provide: {}",
            if missing.len() == 1 {
                "one thing"
            } else {
                "things"
            },
            missing.join("; ")
        ))
    }
}

/// A word for an import's kind.
pub(crate) fn kind(ty: &ExternType) -> &'static str {
    match ty {
        ExternType::Func(_) => "function",
        ExternType::Global(_) => "global",
        ExternType::Table(_) => "table",
        ExternType::Memory(_) => "memory",
        ExternType::Tag(_) => "tag",
    }
}

/// The reason for a WASI import when WASI is off or the name is unknown.
pub(crate) fn wasi_reason(
    import: &ImportType<'_>,
    wasi_on: bool,
    how_to_enable: &str,
) -> Result<(), String> {
    if !matches!(import.ty(), ExternType::Func(_)) {
        return Err("WASI preview 1 exports only functions".into());
    }
    if !is_wasi_function(import.name()) {
        return Err("not a WASI preview 1 function".into());
    }
    if wasi_on {
        Ok(())
    } else {
        Err(format!("WASI is off: {how_to_enable}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use polyscript_core::{EvalContext, Evaluator, Source};

    /// The list is what both engines' WASI implementations provide: a
    /// module importing every name (with the type the WASI spec gives it)
    /// links in both.
    #[test]
    fn the_wasi_name_list_matches_both_wasi_implementations() {
        let types = include_str!("../tests/wasi_preview1_types.txt");
        let lines: Vec<_> = types.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), WASI_PREVIEW1.len());
        let mut module = String::from("(module\n");
        for line in lines {
            let (name, ty) = line.split_once(' ').unwrap();
            assert!(is_wasi_function(name), "{name} is not in the list");
            module += &format!("  (import \"wasi_snapshot_preview1\" \"{name}\" (func {ty}))\n");
        }
        module += "  (memory (export \"memory\") 1)\n";
        #[cfg(feature = "wasi")]
        {
            let command = format!("{module}  (func (export \"_start\")))");
            Evaluator::new(crate::WasiEngine::new(), Source::from_bytes(command))
                .expect("wasmtime-wasi links them all");
        }
        #[cfg(feature = "extism")]
        {
            let plugin = format!("{module}  (func (export \"main\") (result i32) (i32.const 0)))");
            let ev = Evaluator::new(
                crate::ExtismEngine::builder().wasi(true).build(),
                Source::from_bytes(plugin),
            )
            .expect("the name check passes");
            // Extism links WASI when it makes an instance: run one.
            ev.eval(&EvalContext::new())
                .expect("Extism's wasi-common links them all");
        }
        let _ = (module, EvalContext::new());
    }
}
