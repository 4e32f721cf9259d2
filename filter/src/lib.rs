//! mistype proxy-wasm filter (being built).
