//! HTTP fields: the header and trailer maps of the stream, and the headers of an http call's
//! answer.

use super::memory::{copy_out, read, read_string, status, write_u32};
use super::table::{Hostcalls, Res, C};
use crate::abi::{self, Status};
use crate::headers::HeaderMap;
use crate::state::HostState;

pub(super) fn define(env: &mut Hostcalls<'_>) -> Res<()> {
    env.add("proxy_get_header_map_pairs", get_pairs)?
        .add("proxy_set_header_map_pairs", set_pairs)?
        .add("proxy_get_header_map_size", get_size)?
        .add("proxy_get_header_map_value", get_value)?
        .add("proxy_add_header_map_value", add_value)?
        .add("proxy_replace_header_map_value", replace_value)?
        .add("proxy_remove_header_map_value", remove_value)?;
    Ok(())
}

/// Read access to a map: `None` when it does not exist (yet), as Envoy's null map pointer.
fn map_ref(state: &mut HostState, map_type: i32) -> Option<&mut HeaderMap> {
    // An http call's answer is readable only while `proxy_on_http_call_response` runs.
    if map_type == abi::map::HTTP_CALL_RESPONSE_HEADERS {
        return state.call_response.as_mut().map(|(h, _)| h);
    }
    let stream = state.stream_mut()?;
    match map_type {
        abi::map::HTTP_REQUEST_HEADERS => stream.request_headers.as_mut(),
        abi::map::HTTP_REQUEST_TRAILERS => {
            // Envoy creates request trailers on demand in the last body callback.
            if stream.request_trailers.is_none() && stream.in_request_body && stream.end_of_stream {
                stream.request_trailers = Some(HeaderMap::new());
            }
            stream.request_trailers.as_mut()
        }
        abi::map::HTTP_RESPONSE_HEADERS => stream.response_headers.as_mut(),
        abi::map::HTTP_RESPONSE_TRAILERS => stream.response_trailers.as_mut(),
        _ => None,
    }
}

/// Reads the key and, for an add or a replace, the value; then applies `edit` to the map.
fn edit(
    caller: &mut C<'_>,
    map_type: i32,
    key: (i32, i32),
    value: Option<(i32, i32)>,
    edit: impl FnOnce(&mut HeaderMap, &str, &str),
) -> i32 {
    let k = read_string(caller, key.0, key.1);
    let v = match value {
        Some((vp, vs)) => read_string(caller, vp, vs),
        None => Some(String::new()),
    };
    let (Some(k), Some(v)) = (k, v) else {
        return Status::InvalidMemoryAccess.code();
    };
    match map_ref(caller.data_mut(), map_type) {
        Some(map) => {
            edit(map, &k, &v);
            Status::Ok.code()
        }
        None => Status::BadArgument.code(),
    }
}

fn get_pairs(caller: &mut C<'_>, map_type: i32, ptr_ptr: i32, size_ptr: i32) -> Res<i32> {
    if !(0..=abi::map::MAX).contains(&map_type) {
        return Ok(Status::BadArgument.code());
    }
    // A missing map reads as an empty one (Envoy's headerMapToPairs(nullptr)).
    let bytes = map_ref(caller.data_mut(), map_type)
        .map(|m| abi::serialize_pairs(m.pairs()))
        .unwrap_or_default();
    copy_out(caller, &bytes, ptr_ptr, size_ptr)
}

fn set_pairs(caller: &mut C<'_>, map_type: i32, ptr: i32, size: i32) -> i32 {
    let Some(data) = read(caller, ptr, size) else {
        return Status::InvalidMemoryAccess.code();
    };
    let Some(pairs) = abi::deserialize_pairs(&data) else {
        return Status::BadArgument.code();
    };
    match map_ref(caller.data_mut(), map_type) {
        Some(map) => {
            map.set_all(&pairs);
            Status::Ok.code()
        }
        None => Status::BadArgument.code(),
    }
}

fn get_size(caller: &mut C<'_>, map_type: i32, size_ptr: i32) -> i32 {
    match map_ref(caller.data_mut(), map_type).map(|m| m.byte_size()) {
        Some(size) => status(write_u32(caller, size_ptr, size as u32)),
        None => Status::BadArgument.code(),
    }
}

fn get_value(
    caller: &mut C<'_>,
    map_type: i32,
    key_ptr: i32,
    key_size: i32,
    ptr_ptr: i32,
    size_ptr: i32,
) -> Res<i32> {
    let Some(key) = read_string(caller, key_ptr, key_size) else {
        return Ok(Status::InvalidMemoryAccess.code());
    };
    let value = match map_ref(caller.data_mut(), map_type) {
        None => return Ok(Status::BadArgument.code()),
        Some(map) => map.get(&key).map(str::to_string),
    };
    match value {
        None => Ok(Status::NotFound.code()),
        Some(v) => copy_out(caller, v.as_bytes(), ptr_ptr, size_ptr),
    }
}

fn add_value(caller: &mut C<'_>, map_type: i32, kp: i32, ks: i32, vp: i32, vs: i32) -> i32 {
    edit(caller, map_type, (kp, ks), Some((vp, vs)), HeaderMap::add)
}

fn replace_value(caller: &mut C<'_>, map_type: i32, kp: i32, ks: i32, vp: i32, vs: i32) -> i32 {
    edit(
        caller,
        map_type,
        (kp, ks),
        Some((vp, vs)),
        HeaderMap::replace,
    )
}

fn remove_value(caller: &mut C<'_>, map_type: i32, kp: i32, ks: i32) -> i32 {
    edit(caller, map_type, (kp, ks), None, |m, k, _| m.remove(k))
}
