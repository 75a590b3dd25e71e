use super::*;

#[test]
fn string_and_bytes_loaders_give_content_ids() {
    let s = StringLoader::new("1 + 1").load().unwrap();
    assert_eq!(s.text().unwrap(), "1 + 1");
    assert_eq!(*s.origin(), Origin::Inline);
    let b = BytesLoader::new(b"1 + 1".to_vec()).load().unwrap();
    assert_eq!(b.id(), s.id());
    assert_eq!(*b.origin(), Origin::Bytes);
}

#[test]
fn file_loader_reads_and_names_the_path_on_error() {
    let dir = std::env::temp_dir().join(format!("polyscript-loader-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("greet.lua");
    std::fs::write(&path, "return 1").unwrap();
    let source = FileLoader::new(&path).load().unwrap();
    assert_eq!(source.bytes(), b"return 1");
    assert_eq!(source.name(), "greet.lua");

    let missing = dir.join("missing.lua");
    let err = FileLoader::new(&missing).load().unwrap_err();
    assert!(matches!(err, Error::Load { .. }));
    assert!(err.to_string().contains("missing.lua"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn reader_loader_reads_once_and_repeats() {
    let loader = ReaderLoader::new(std::io::Cursor::new(b"ctx.x".to_vec()));
    let a = loader.load().unwrap();
    let b = loader.load().unwrap();
    assert_eq!(a.bytes(), b"ctx.x");
    assert_eq!(a.id(), b.id());
}

#[test]
fn reader_errors_are_load_errors() {
    struct Broken;
    impl Read for Broken {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk on fire"))
        }
    }
    let err = ReaderLoader::new(Broken).load().unwrap_err();
    // The I/O error is the source, said once (not also in the text).
    assert!(err.to_string().contains("cannot read it"), "{err}");
    assert!(!err.to_string().contains("disk on fire"), "{err}");
    let source = std::error::Error::source(&err).expect("the io error");
    assert_eq!(source.to_string(), "disk on fire");
}

#[test]
fn infer_picks_file_for_paths_and_file_urls() {
    let dir = std::env::temp_dir().join(format!("polyscript-infer-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("x.rhai");
    std::fs::write(&path, "40 + 2").unwrap();
    let by_path = infer(path.to_str().unwrap()).unwrap().load().unwrap();
    let by_url = infer(&format!("file://{}", path.display()))
        .unwrap()
        .load()
        .unwrap();
    assert_eq!(by_path.bytes(), b"40 + 2");
    assert_eq!(by_url.id(), by_path.id());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn infer_rejects_empty_and_unknown_schemes() {
    assert!(matches!(infer("  "), Err(Error::Load { .. })));
    assert!(matches!(infer("ftp://host/x"), Err(Error::Load { .. })));
    assert!(matches!(infer("file://"), Err(Error::Load { .. })));
}

#[cfg(not(feature = "http"))]
#[test]
fn infer_names_the_feature_for_urls_without_http() {
    let err = infer("https://example.invalid/x.lua").unwrap_err();
    assert!(err.to_string().contains("`http` feature"), "{err}");
}

#[test]
fn endless_files_and_readers_stop_at_the_cap() {
    // /dev/zero never ends: without a cap the loader would take all memory.
    let err = FileLoader::new("/dev/zero")
        .max_bytes(1 << 20)
        .load()
        .unwrap_err();
    assert!(err.to_string().contains("cap of 1048576 bytes"), "{err}");
    let err = ReaderLoader::new(std::io::repeat(b'x'))
        .max_bytes(1000)
        .load()
        .unwrap_err();
    assert!(matches!(err, Error::Load { .. }), "{err}");
    let ok = ReaderLoader::new(&b"12345"[..])
        .max_bytes(5)
        .load()
        .unwrap();
    assert_eq!(ok.bytes(), b"12345");
}
