//! Which entries of `ctx` a compiled script can read, found once at compile
//! time, so that an eval converts only those from a large input.
//!
//! rhai has no lazy map (a custom type standing in for `ctx` would change
//! `type_of(ctx)` and every map function scripts call on it), but its `AST`
//! can be walked. When every use of the name `ctx` anywhere in the script
//! (its statements and its functions' bodies) is a read of a named entry —
//! `ctx.name`, `ctx?.name`, `ctx["name"]`, and chains going on from them
//! (`ctx.user.address`, `ctx.list[0]`, `ctx.name.len()`) — the script can
//! only ever see those entries, and [`CtxReads::Keys`] lists them. Any other
//! use — `ctx` itself, `ctx[k]` with a computed key, a method on `ctx`
//! (`ctx.keys()`, `ctx.f()`, which sees the map as `this`), `ctx` passed to
//! a function, interpolated, iterated, switched on, captured by a closure or
//! exported — is [`CtxReads::All`]: the whole input is converted, as before.
//!
//! The walk matches the *name*: a local variable, parameter or `global::ctx`
//! named `ctx` counts like the input, which can only make the set larger
//! (never drop an entry the script reads). Where code the walk cannot see
//! could read `ctx` — `eval` of a string, or engine configuration (custom
//! syntax and variable resolvers can reach the scope) — the engine asks for
//! [`CtxReads::All`] without walking.

use rhai::{AST, ASTNode, Expr, Stmt};

use crate::engine::CTX;

/// The entries of `ctx` a script can read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CtxReads {
    /// Any of them: the whole input is converted.
    All,
    /// Only these (sorted, without duplicates; possibly none).
    Keys(Box<[String]>),
}

impl CtxReads {
    /// What `ast` can read of `ctx`.
    pub(crate) fn of(ast: &AST) -> CtxReads {
        let mut keys = Vec::new();
        let mut whole = false;
        ast.walk(&mut |path: &[ASTNode]| {
            match use_of_ctx(path) {
                Use::None => {}
                Use::Key(key) => keys.push(key.to_owned()),
                Use::Whole => whole = true,
            }
            // Stop walking once the answer is "all".
            !whole
        });
        if whole {
            return CtxReads::All;
        }
        keys.sort_unstable();
        keys.dedup();
        CtxReads::Keys(keys.into_boxed_slice())
    }
}

/// How the node at the end of `path` uses `ctx`.
enum Use<'a> {
    /// Not at all.
    None,
    /// It reads this entry.
    Key(&'a str),
    /// It can see the whole map.
    Whole,
}

fn use_of_ctx<'a>(path: &[ASTNode<'a>]) -> Use<'a> {
    match path.last() {
        Some(ASTNode::Expr(expr @ Expr::Variable(var, ..))) if var.1 == CTX => {
            match path.len().checked_sub(2).map(|parent| &path[parent]) {
                Some(ASTNode::Expr(Expr::Dot(chain, ..) | Expr::Index(chain, ..)))
                    if std::ptr::eq(&chain.lhs, *expr) =>
                {
                    entry_read(path, &chain.rhs)
                }
                _ => Use::Whole,
            }
        }
        // `export ctx` and a closure's capture of `ctx` name it without a
        // variable expression.
        Some(ASTNode::Stmt(Stmt::Export(names, ..))) if names.0.name == CTX => Use::Whole,
        Some(ASTNode::Stmt(Stmt::Share(names))) if names.iter().any(|(n, _)| n.name == CTX) => {
            Use::Whole
        }
        _ => Use::None,
    }
}

/// The entry a chain on `ctx` reads first: `rhs` is what follows `ctx.` or
/// sits in `ctx[..]` (a chain continues inside it, as its left side).
fn entry_read<'a>(path: &[ASTNode<'a>], rhs: &'a Expr) -> Use<'a> {
    let is_dot = matches!(path[path.len() - 2], ASTNode::Expr(Expr::Dot(..)));
    let first = match rhs {
        Expr::Dot(next, ..) | Expr::Index(next, ..) => &next.lhs,
        other => other,
    };
    match first {
        Expr::Property(property, ..) if is_dot => Use::Key(property.2.as_str()),
        Expr::StringConstant(key, ..) if !is_dot => Use::Key(key.as_str()),
        _ => Use::Whole,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reads(script: &str) -> CtxReads {
        let engine = rhai::Engine::new();
        let mut scope = rhai::Scope::new();
        scope.push_dynamic(CTX, rhai::Dynamic::UNIT);
        let ast = engine.compile_with_scope(&scope, script).expect("compiles");
        CtxReads::of(&ast)
    }

    fn keys(list: &[&str]) -> CtxReads {
        CtxReads::Keys(list.iter().map(|k| k.to_string()).collect())
    }

    #[test]
    fn named_reads_list_their_keys() {
        assert_eq!(reads("1 + 2"), keys(&[]));
        assert_eq!(reads("ctx.name"), keys(&["name"]));
        assert_eq!(reads(r#"ctx["b"] + ctx.a + ctx.a"#), keys(&["a", "b"]));
        assert_eq!(reads("ctx?.a ?? ctx?[\"b\"]"), keys(&["a", "b"]));
        assert_eq!(
            reads("ctx.user.address.city + ctx.list[0] + ctx.s.len()"),
            keys(&["list", "s", "user"])
        );
        assert_eq!(reads(r#"ctx["m"]["n"].o"#), keys(&["m"]));
        assert_eq!(reads("ctx[ctx.k]"), CtxReads::All);
        assert_eq!(
            reads("let x = ctx.a; if x > 1 { ctx.b } else { 0 }"),
            keys(&["a", "b"])
        );
        assert_eq!(reads("fn f(x) { x.z } f(ctx.y)"), keys(&["y"]));
    }

    #[test]
    fn every_other_use_is_all() {
        for script in [
            "ctx",
            "ctx[k]",
            "let k = \"a\"; ctx[k]",
            "ctx.keys()",
            "ctx.len()",
            "ctx.f()",
            "type_of(ctx)",
            "`${ctx}`",
            "for x in ctx { }",
            "switch ctx { _ => 1 }",
            "let c = ctx; c.a",
            "[ctx]",
            "#{ a: ctx }",
            "\"a\" in ctx",
            "ctx == ctx",
            "let f = || ctx.a; f.call()",
            "fn f() { global::ctx } f()",
            "fn f(ctx) { ctx } f(1)",
            "ctx.a + ctx",
            "ctx[0]",
            "ctx.a ?? ctx",
        ] {
            assert_eq!(reads(script), CtxReads::All, "{script}");
        }
    }
}
