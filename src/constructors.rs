//! The one shape every engine's `from_*` constructors have, so each engine
//! gets the same set (from a string or bytes, a file, any loader; each also
//! `_with_data`) with the same docs, and a new engine is one invocation.
//!
//! The names are spelled out at each invocation rather than pasted together
//! from the engine's name, so a search for `from_lua_str` finds where it is
//! made (and no identifier-pasting crate is needed).

/// Defines a private module `$root` holding the engine's constructors and
/// re-exporting `$export` (the names the facade's root shows too), and
/// re-exports all of it from the module it is invoked in.
///
/// * `what`: what the constructors compile, for the docs ("Rhai script").
/// * `input`: the first argument's name and type, and how it becomes a
///   `Source` (`script: impl AsRef<str> => Source::from_text`).
/// * `args`: further arguments every constructor takes (the Extism entry
///   point), with `note`, a doc fragment saying what they do.
/// * `engine`: the engine value, built from `args`.
#[allow(unused_macros)] // unused when every engine feature is off
macro_rules! engine_constructors {
    (
        root: $root:ident,
        what: $what:literal,
        input: $input:ident: $input_ty:ty => $make_source:expr,
        args: ($($arg:ident: $arg_ty:ty),* $(,)?),
        note: $note:literal,
        engine: $engine:expr,
        export: [$($export:ident),* $(,)?],
        fns: [
            $str:ident, $str_data:ident,
            $file:ident, $file_data:ident,
            $loader:ident, $loader_data:ident $(,)?
        ] $(,)?
    ) => {
        pub(crate) mod $root {
            use std::path::Path;

            use polyscript_core::{AnyEvaluator, FileLoader, Loader, Result, Source};

            pub use super::{$($export),*};

            #[doc = concat!("Compiles the ", $what, " in `", stringify!($input), "`", $note,
                "; per-call data comes from the context.")]
            pub fn $str($input: $input_ty, $($arg: $arg_ty),*) -> Result<AnyEvaluator> {
                $crate::build($engine, $make_source($input))
            }

            #[doc = concat!("Like [`", stringify!($str), "`], with fixed `data` every eval \
                sees (merged under per-call data, which wins).")]
            pub fn $str_data(
                $input: $input_ty,
                $($arg: $arg_ty,)*
                data: impl serde::Serialize,
            ) -> Result<AnyEvaluator> {
                $crate::build_with_data($engine, $make_source($input), data)
            }

            #[doc = concat!("Loads the ", $what, " at `path` and compiles it", $note,
                " (errors name the file).")]
            pub fn $file(path: impl AsRef<Path>, $($arg: $arg_ty),*) -> Result<AnyEvaluator> {
                let source = FileLoader::new(path.as_ref()).load()?;
                $crate::build($engine, source)
            }

            #[doc = concat!("Like [`", stringify!($file), "`], with fixed `data` every eval \
                sees (merged under per-call data, which wins).")]
            pub fn $file_data(
                path: impl AsRef<Path>,
                $($arg: $arg_ty,)*
                data: impl serde::Serialize,
            ) -> Result<AnyEvaluator> {
                let source = FileLoader::new(path.as_ref()).load()?;
                $crate::build_with_data($engine, source, data)
            }

            #[doc = concat!("Compiles the ", $what, " any [`Loader`] produces (a string, \
                bytes, a reader, a file, an HTTP URL with the `http` feature)", $note, ".")]
            pub fn $loader(loader: &dyn Loader, $($arg: $arg_ty),*) -> Result<AnyEvaluator> {
                $crate::build($engine, loader.load()?)
            }

            #[doc = concat!("Like [`", stringify!($loader), "`], with fixed `data` every eval \
                sees (merged under per-call data, which wins).")]
            pub fn $loader_data(
                loader: &dyn Loader,
                $($arg: $arg_ty,)*
                data: impl serde::Serialize,
            ) -> Result<AnyEvaluator> {
                $crate::build_with_data($engine, loader.load()?, data)
            }
        }

        pub use $root::*;
    };
}

/// For each engine: its public module (behind its feature, named like it),
/// the module's constructors and `export`s at the crate root, and the file
/// extensions [`from_file`](crate::from_file) opens with which function.
macro_rules! engines {
    ($($feature:literal => $module:ident, [$($ext:literal),+] => $open:ident;)+) => {
        $(
            #[cfg(feature = $feature)]
            #[cfg_attr(docsrs, doc(cfg(feature = $feature)))]
            pub mod $module;
            #[cfg(feature = $feature)]
            #[cfg_attr(docsrs, doc(cfg(feature = $feature)))]
            pub use $module::root::*;
        )+

        /// Every extension [`from_file`](crate::from_file) knows, for its
        /// error message.
        const KNOWN_EXTENSIONS: &[&str] = &[$($(concat!(".", $ext)),+),+];

        /// Opens `path` with the engine that owns `ext` (lowercase, no dot),
        /// or `None` when no engine does.
        fn open_by_extension(ext: &str, path: &std::path::Path) -> Option<Result<AnyEvaluator>> {
            $(
                if [$($ext),+].contains(&ext) {
                    #[cfg(feature = $feature)]
                    return Some($module::$open(path));
                    #[cfg(not(feature = $feature))]
                    return Some(Err(Error::Unsupported {
                        message: format!(
                            "{} needs the `{}` feature of polyscript, which is not enabled",
                            path.display(),
                            $feature,
                        ),
                    }));
                }
            )+
            None
        }
    };
}
