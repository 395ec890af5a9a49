//! The UniFFI bindings generator, built from this crate so that it matches the uniffi version
//! the library was built with: `cargo run --features uniffi-cli --bin uniffi-bindgen -- generate
//! --library <libsipher.so> --language kotlin --config uniffi.toml --out-dir <dir>`
//! (scripts/kotlin-jvm.sh runs it).

fn main() {
    uniffi::uniffi_bindgen_main()
}
