//! Buffers: the request and response bodies, an http call's answer, and the VM and plugin
//! configuration.

use super::memory::{copy_out, read, status, write_u32};
use super::table::{Hostcalls, Res, C};
use crate::abi::{self, Status};
use crate::state::HostState;

pub(super) fn define(env: &mut Hostcalls<'_>) -> Res<()> {
    env.add("proxy_get_buffer_bytes", get_bytes)?
        .add("proxy_set_buffer_bytes", set_bytes)?
        .add("proxy_get_buffer_status", get_status)?;
    Ok(())
}

enum BufferRef {
    /// Readable bytes.
    Bytes(Vec<u8>),
    /// Envoy's `getBuffer` answered null.
    Missing,
}

fn buffer_snapshot(state: &mut HostState, buffer_type: i32) -> BufferRef {
    match buffer_type {
        abi::buffer::VM_CONFIGURATION => BufferRef::Bytes(state.vm_config.clone()),
        abi::buffer::PLUGIN_CONFIGURATION if state.configuring => {
            BufferRef::Bytes(state.plugin_config.clone())
        }
        abi::buffer::HTTP_REQUEST_BODY => match state.stream_mut() {
            Some(s) => match &s.request_body {
                Some(b) => BufferRef::Bytes(b.clone()),
                None => BufferRef::Bytes(Vec::new()),
            },
            None => BufferRef::Bytes(Vec::new()),
        },
        abi::buffer::HTTP_CALL_RESPONSE_BODY => match &state.call_response {
            Some((_, body)) => BufferRef::Bytes(body.clone()),
            None => BufferRef::Missing,
        },
        abi::buffer::HTTP_RESPONSE_BODY => match state.stream_mut() {
            Some(s) => match &s.response_body {
                Some(b) => BufferRef::Bytes(b.clone()),
                None => BufferRef::Bytes(Vec::new()),
            },
            None => BufferRef::Bytes(Vec::new()),
        },
        _ => BufferRef::Missing,
    }
}

/// Envoy's `Buffer::copyFrom(start, length, data)`.
fn copy_from(buffer: &mut Vec<u8>, start: usize, length: usize, data: &[u8]) -> Status {
    if start == 0 {
        if length == 0 {
            buffer.splice(0..0, data.iter().copied());
            Status::Ok
        } else if length >= buffer.len() {
            buffer.clear();
            buffer.extend_from_slice(data);
            Status::Ok
        } else {
            Status::BadArgument
        }
    } else if start >= buffer.len() {
        buffer.extend_from_slice(data);
        Status::Ok
    } else {
        Status::BadArgument
    }
}

fn get_bytes(
    caller: &mut C<'_>,
    buffer_type: i32,
    start: i32,
    max_size: i32,
    ptr_ptr: i32,
    size_ptr: i32,
) -> Res<i32> {
    if !(0..=abi::buffer::MAX).contains(&buffer_type) {
        return Ok(Status::BadArgument.code());
    }
    if buffer_type == abi::buffer::HTTP_REQUEST_BODY {
        caller.data_mut().request_body_reads += 1;
    }
    let BufferRef::Bytes(data) = buffer_snapshot(caller.data_mut(), buffer_type) else {
        return Ok(Status::NotFound.code());
    };
    let start = start as u32 as usize;
    let max = max_size as u32 as usize;
    if start >= data.len() {
        // Nothing to read: cpp-host leaves the out-pointers untouched and says Ok.
        return Ok(Status::Ok.code());
    }
    let end = start.saturating_add(max).min(data.len());
    if end == start {
        return Ok(Status::Ok.code());
    }
    copy_out(caller, &data[start..end], ptr_ptr, size_ptr)
}

fn set_bytes(
    caller: &mut C<'_>,
    buffer_type: i32,
    start: i32,
    size: i32,
    ptr: i32,
    len: i32,
) -> i32 {
    if !(0..=abi::buffer::MAX).contains(&buffer_type) {
        return Status::BadArgument.code();
    }
    let Some(data) = read(caller, ptr, len) else {
        return Status::InvalidMemoryAccess.code();
    };
    let (start, size) = (start as u32 as usize, size as u32 as usize);
    let state = caller.data_mut();
    let target = match buffer_type {
        abi::buffer::HTTP_REQUEST_BODY => state.stream_mut().and_then(|s| s.request_body.as_mut()),
        abi::buffer::HTTP_RESPONSE_BODY => {
            state.stream_mut().and_then(|s| s.response_body.as_mut())
        }
        _ => {
            return match buffer_snapshot(state, buffer_type) {
                BufferRef::Missing => Status::NotFound.code(),
                BufferRef::Bytes(_) => Status::BadArgument.code(),
            };
        }
    };
    match target {
        Some(buffer) => copy_from(buffer, start, size, &data).code(),
        None => Status::BadArgument.code(),
    }
}

fn get_status(caller: &mut C<'_>, buffer_type: i32, len_ptr: i32, flags_ptr: i32) -> i32 {
    if !(0..=abi::buffer::MAX).contains(&buffer_type) {
        return Status::BadArgument.code();
    }
    match buffer_snapshot(caller.data_mut(), buffer_type) {
        BufferRef::Missing => Status::NotFound.code(),
        BufferRef::Bytes(data) => {
            status(write_u32(caller, len_ptr, data.len() as u32) && write_u32(caller, flags_ptr, 0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envoy_copy_from() {
        let mut b = b"hello".to_vec();
        assert_eq!(copy_from(&mut b, 0, 0, b">"), Status::Ok);
        assert_eq!(b, b">hello");
        assert_eq!(copy_from(&mut b, 100, 0, b"<"), Status::Ok);
        assert_eq!(b, b">hello<");
        assert_eq!(copy_from(&mut b, 0, 3, b"x"), Status::BadArgument);
        assert_eq!(copy_from(&mut b, 2, 1, b"x"), Status::BadArgument);
        assert_eq!(copy_from(&mut b, 0, u32::MAX as usize, b"new"), Status::Ok);
        assert_eq!(b, b"new");
    }
}
