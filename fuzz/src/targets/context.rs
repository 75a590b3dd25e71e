//! `EvalContext` from arbitrary bytes (JSON on the wire): a typed error or a
//! context whose data and limits survive a round trip exactly.

use polyscript::EvalContext;

use super::json::same;

pub fn context_serde(data: &[u8]) {
    let Ok(ctx) = serde_json::from_slice::<EvalContext>(data) else {
        return;
    };
    let wire = serde_json::to_vec(&ctx).expect("a context serializes");
    let back: EvalContext = serde_json::from_slice(&wire).expect("what was written reads back");
    assert_eq!(back.limits(), ctx.limits());
    match (back.data(), ctx.data()) {
        (Some(a), Some(b)) => assert!(same(&a.clone().into(), &b.clone().into()), "data changed"),
        (None, None) => {}
        _ => panic!("a slot appeared or vanished"),
    }
    // Every slot's data is within the bounds a context promises.
    if let Some(data) = ctx.data() {
        assert!(polyscript::data::check_map(data, polyscript::Limits::MAX_DATA_DEPTH).is_ok());
    }
}
