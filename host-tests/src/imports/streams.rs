//! HTTP streams: local replies, resuming or closing the stream, and http calls.

use super::memory::{read, read_string, status, write_u32};
use super::table::{Hostcalls, Res, C};
use crate::abi::{self, Status};
use crate::headers::HeaderMap;
use crate::state::{HttpCall, LocalReply};

pub(super) fn define(env: &mut Hostcalls<'_>) -> Res<()> {
    env.add("proxy_send_local_response", send_local_response)?
        .add("proxy_continue_stream", continue_stream)?
        .add("proxy_close_stream", close_stream)?
        .add("proxy_http_call", http_call)?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn send_local_response(
    caller: &mut C<'_>,
    status_code: i32,
    details_ptr: i32,
    details_size: i32,
    body_ptr: i32,
    body_size: i32,
    headers_ptr: i32,
    headers_size: i32,
    grpc_status: i32,
) -> i32 {
    let (Some(details), Some(body), Some(headers)) = (
        read_string(caller, details_ptr, details_size),
        read(caller, body_ptr, body_size),
        read(caller, headers_ptr, headers_size),
    ) else {
        return Status::InvalidMemoryAccess.code();
    };
    let Some(headers) = abi::deserialize_pairs(&headers) else {
        return Status::BadArgument.code();
    };
    let Some(stream) = caller.data_mut().stream_mut() else {
        // A root context has no stream to answer: Envoy records it and does nothing.
        return Status::Ok.code();
    };
    if stream.local_reply.is_some() {
        // Envoy: "avoid calling sendLocalReply() twice".
        return Status::BadArgument.code();
    }
    stream.local_reply = Some(LocalReply {
        status: status_code as u32,
        details,
        body,
        headers: headers
            .into_iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect(),
        grpc_status,
        by_envoy: false,
    });
    Status::Ok.code()
}

fn continue_stream(caller: &mut C<'_>, stream_type: i32) -> i32 {
    let Some(stream) = caller.data_mut().stream_mut() else {
        return Status::BadArgument.code();
    };
    match stream_type {
        abi::stream::HTTP_REQUEST => stream.continue_request = true,
        abi::stream::HTTP_RESPONSE => stream.continue_response = true,
        _ => return Status::BadArgument.code(),
    }
    Status::Ok.code()
}

fn close_stream(caller: &mut C<'_>, stream_type: i32) -> i32 {
    let Some(stream) = caller.data_mut().stream_mut() else {
        return Status::BadArgument.code();
    };
    match stream_type {
        abi::stream::HTTP_REQUEST | abi::stream::HTTP_RESPONSE => {
            stream.closed = true;
            Status::Ok.code()
        }
        _ => Status::BadArgument.code(),
    }
}

/// `dispatch_http_call`: Envoy checks the cluster and the three pseudo-headers, then answers
/// later through `proxy_on_http_call_response` (see `Filter::settle`).
#[allow(clippy::too_many_arguments)]
fn http_call(
    caller: &mut C<'_>,
    up: i32,
    up_len: i32,
    hp: i32,
    hs: i32,
    bp: i32,
    bs: i32,
    tp: i32,
    ts: i32,
    timeout: i32,
    token_ptr: i32,
) -> i32 {
    let (Some(upstream), Some(headers), Some(body), Some(_trailers)) = (
        read_string(caller, up, up_len),
        read(caller, hp, hs),
        read(caller, bp, bs),
        read(caller, tp, ts),
    ) else {
        return Status::InvalidMemoryAccess.code();
    };
    let Some(pairs) = abi::deserialize_pairs(&headers) else {
        return Status::SerializationFailure.code();
    };
    let headers = HeaderMap::from_pairs(&pairs);
    let known = caller.data().clusters.contains(&upstream);
    let complete = [":method", ":path", ":authority"]
        .iter()
        .all(|k| headers.get(k).is_some_and(|v| !v.is_empty()));
    if !known || !complete {
        return Status::BadArgument.code();
    }
    let state = caller.data_mut();
    let token = state.next_call_token;
    state.next_call_token += 1;
    state.pending_calls.push(HttpCall {
        token,
        upstream,
        headers,
        body,
        timeout_ms: timeout as u32,
    });
    status(write_u32(caller, token_ptr, token))
}
