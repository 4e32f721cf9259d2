//! Calls out of the VM that this host does not serve: answered the way Envoy answers an
//! unknown cluster, service or function, so a plugin sees a clean error, not a link failure.

use wasmtime::ValType;

use super::table::{Hostcalls, Res};
use crate::abi::Status;

/// (name, number of `i32` arguments, answer).
const UNSERVED: &[(&str, usize, Status)] = &[
    ("proxy_call_foreign_function", 6, Status::NotFound),
    ("proxy_get_status", 3, Status::NotFound),
    ("proxy_register_shared_queue", 3, Status::Unimplemented),
    ("proxy_resolve_shared_queue", 5, Status::NotFound),
    ("proxy_enqueue_shared_queue", 3, Status::NotFound),
    ("proxy_dequeue_shared_queue", 3, Status::NotFound),
    ("proxy_grpc_call", 12, Status::ParseFailure),
    ("proxy_grpc_stream", 9, Status::ParseFailure),
    ("proxy_grpc_send", 4, Status::NotFound),
    ("proxy_grpc_cancel", 1, Status::NotFound),
    ("proxy_grpc_close", 1, Status::NotFound),
];

pub(super) fn define(env: &mut Hostcalls<'_>) -> Res<()> {
    for &(name, arity, answer) in UNSERVED {
        env.answer(name, &vec![ValType::I32; arity], answer.code())?;
    }
    Ok(())
}
