//! proxy-wasm host (being built).
