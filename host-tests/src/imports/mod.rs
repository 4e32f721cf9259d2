//! The host functions: module `env` (proxy-wasm ABI 0.2.1) and the WASI preview1 subset
//! that Envoy provides and Rust std on `wasm32-wasip1` imports, one file per ABI section.
//!
//! Status codes and edge cases follow Envoy's `context.cc` and proxy-wasm-cpp-host's
//! `exports.cc`: a missing header is `NOT_FOUND`, a header map that does not exist yet is
//! `BAD_ARGUMENT`, an empty answer writes a null pointer and a zero size, and body writes use
//! Envoy's `Buffer::copyFrom` rules.
//!
//! Every call is registered through [`Hostcalls`], which counts it by name
//! ([`HostState::count`], reported per request in `Outcome::hostcalls`) before it runs.

use wasmtime::Linker;

use crate::state::HostState;

mod buffers;
mod context;
mod headers;
mod memory;
mod metrics;
mod properties;
mod shared_data;
mod streams;
mod table;
mod unserved;
mod wasi;

use table::{Hostcalls, Res};

/// The proxy-wasm module name.
const ENV: &str = "env";

/// A linker with every host function defined.
pub(crate) fn linker(engine: &wasmtime::Engine) -> Res<Linker<HostState>> {
    let mut linker = Linker::new(engine);
    let mut env = Hostcalls {
        linker: &mut linker,
        module: ENV,
    };
    headers::define(&mut env)?;
    buffers::define(&mut env)?;
    metrics::define(&mut env)?;
    context::define(&mut env)?;
    streams::define(&mut env)?;
    properties::define(&mut env)?;
    shared_data::define(&mut env)?;
    unserved::define(&mut env)?;
    let mut wasi = Hostcalls {
        linker: &mut linker,
        module: wasi::MODULE,
    };
    wasi::define(&mut wasi)?;
    Ok(linker)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::Status;
    use wasmtime::Val;
    use wasmtime::{Engine, Store};

    /// Calls every defined hostcall once with zero arguments (no guest memory: reads fail,
    /// writes fail), and returns (module, name, first result or `None` for a trap or no result).
    fn call_each_once(store: &mut Store<HostState>) -> Vec<(String, String, Option<i32>)> {
        let linker = linker(store.engine()).expect("linker");
        let defined: Vec<_> = linker
            .iter(&mut *store)
            .map(|(module, name, item)| (module.to_string(), name.to_string(), item))
            .collect();
        defined
            .into_iter()
            .map(|(module, name, item)| {
                let func = item.into_func().expect("a function");
                let ty = func.ty(&*store);
                let params: Vec<Val> = ty
                    .params()
                    .map(|t| Val::default_for_ty(&t).unwrap())
                    .collect();
                let mut results = vec![Val::I32(0); ty.results().len()];
                let answer = func
                    .call(&mut *store, &params, &mut results)
                    .ok()
                    .and_then(|()| results.first().and_then(Val::i32));
                (module, name, answer)
            })
            .collect()
    }

    #[test]
    fn every_hostcall_counts_its_own_name_once() {
        let engine = Engine::default();
        let mut store = Store::new(&engine, HostState::new(0, Vec::new(), Vec::new()));
        let calls = call_each_once(&mut store);
        assert_eq!(calls.len(), 58, "{calls:?}");
        let counts = &store.data().hostcalls;
        for (module, name, _) in &calls {
            assert_eq!(counts.get(name.as_str()), Some(&1), "{module}.{name}");
        }
        assert_eq!(counts.len(), calls.len());
        assert_eq!(counts.values().sum::<u32>(), calls.len() as u32);
    }

    #[test]
    fn unserved_and_fixed_calls_answer_as_envoy() {
        let engine = Engine::default();
        let mut store = Store::new(&engine, HostState::new(0, Vec::new(), Vec::new()));
        let calls = call_each_once(&mut store);
        let answer = |name: &str| {
            calls
                .iter()
                .find(|(_, n, _)| n == name)
                .unwrap_or_else(|| panic!("{name} is not defined"))
                .2
        };
        assert_eq!(answer("proxy_grpc_call"), Some(Status::ParseFailure.code()));
        assert_eq!(
            answer("proxy_register_shared_queue"),
            Some(Status::Unimplemented.code())
        );
        assert_eq!(
            answer("proxy_call_foreign_function"),
            Some(Status::NotFound.code())
        );
        assert_eq!(answer("proxy_done"), Some(Status::Ok.code()));
        // No guest memory: an http call cannot read its arguments.
        assert_eq!(
            answer("proxy_http_call"),
            Some(Status::InvalidMemoryAccess.code())
        );
        assert_eq!(answer("path_open"), Some(52));
        assert_eq!(answer("sched_yield"), Some(0));
        assert_eq!(answer("fd_prestat_get"), Some(8));
        // `proc_exit` traps.
        assert_eq!(answer("proc_exit"), None);
    }
}
