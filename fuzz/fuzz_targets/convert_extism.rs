#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| polyscript_fuzz::targets::run("convert_extism", data));
