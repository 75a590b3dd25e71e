//! `infer` and the in-memory loaders over arbitrary input: a loader or a
//! typed error; loaded bytes are exactly what was given and the script id is
//! their content hash.

use polyscript::{BytesLoader, Error, Loader, ReaderLoader, ScriptId, StringLoader};

pub fn loaders(data: &[u8]) {
    let bytes = BytesLoader::new(data.to_vec()).load().expect("bytes load");
    assert_eq!(bytes.bytes(), data);
    assert_eq!(bytes.id(), ScriptId::of(data));
    let read = ReaderLoader::new(std::io::Cursor::new(data.to_vec()))
        .max_bytes(data.len() as u64)
        .load()
        .expect("a reader within its cap loads");
    assert_eq!(read.bytes(), data);
    if !data.is_empty() {
        let capped = ReaderLoader::new(std::io::Cursor::new(data.to_vec()))
            .max_bytes(data.len() as u64 - 1)
            .load();
        assert!(matches!(capped, Err(Error::Load { .. })));
    }
    let id: ScriptId = bytes.id();
    assert_eq!(id.as_str().parse::<ScriptId>().ok(), Some(id));
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let source = StringLoader::new(text).load().expect("text loads");
    assert_eq!(source.text().expect("utf-8"), text);
    // `infer` never touches the network or the disk: it only picks a loader.
    match polyscript::infer(text) {
        Ok(_) => {}
        Err(Error::Load { .. } | Error::Unsupported { .. }) => {}
        Err(other) => panic!("infer({text:?}) gave {other}"),
    }
}
