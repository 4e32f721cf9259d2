//! The host functions: module `env` (proxy-wasm ABI 0.2.1) and the WASI preview1 subset
//! that Envoy provides and Rust std on `wasm32-wasip1` imports.
//!
//! Status codes and edge cases follow Envoy's `context.cc` and proxy-wasm-cpp-host's
//! `exports.cc`: a missing header is `NOT_FOUND`, a header map that does not exist yet is
//! `BAD_ARGUMENT`, an empty answer writes a null pointer and a zero size, and body writes use
//! Envoy's `Buffer::copyFrom` rules.

use wasmtime::{Caller, Linker};

use crate::abi::{self, LogLevel, MetricType, Status};
use crate::headers::HeaderMap;
use crate::state::{HostState, LocalReply, MetricValue};

type C<'a> = Caller<'a, HostState>;
type Res<T> = wasmtime::Result<T>;

// ---------------------------------------------------------------------------------------------
// Guest memory helpers

fn read(caller: &mut C<'_>, ptr: i32, len: i32) -> Option<Vec<u8>> {
    let memory = caller.data().memory?;
    let data = memory.data(&*caller);
    let start = ptr as u32 as usize;
    let end = start.checked_add(len as u32 as usize)?;
    data.get(start..end).map(<[u8]>::to_vec)
}

fn read_string(caller: &mut C<'_>, ptr: i32, len: i32) -> Option<String> {
    read(caller, ptr, len).map(|b| String::from_utf8_lossy(&b).into_owned())
}

fn write(caller: &mut C<'_>, ptr: i32, bytes: &[u8]) -> bool {
    let Some(memory) = caller.data().memory else {
        return false;
    };
    memory
        .write(&mut *caller, ptr as u32 as usize, bytes)
        .is_ok()
}

fn write_u32(caller: &mut C<'_>, ptr: i32, value: u32) -> bool {
    write(caller, ptr, &value.to_le_bytes())
}

fn write_u64(caller: &mut C<'_>, ptr: i32, value: u64) -> bool {
    write(caller, ptr, &value.to_le_bytes())
}

fn status(ok: bool) -> i32 {
    if ok {
        Status::Ok.code()
    } else {
        Status::InvalidMemoryAccess.code()
    }
}

/// Hand bytes to the guest: allocate with `proxy_on_memory_allocate` (or `malloc`), copy,
/// and write pointer and size. Empty data writes a null pointer and a zero size, as
/// cpp-host's `copyToPointerSize` does.
fn copy_out(caller: &mut C<'_>, bytes: &[u8], ptr_ptr: i32, size_ptr: i32) -> Res<i32> {
    let mut ptr = 0i32;
    if !bytes.is_empty() {
        let Some(alloc) = caller.data().alloc.clone() else {
            return Ok(Status::InternalFailure.code());
        };
        ptr = alloc.call(&mut *caller, bytes.len() as i32)?;
        if ptr == 0 || !write(caller, ptr, bytes) {
            return Ok(Status::InvalidMemoryAccess.code());
        }
    }
    Ok(status(
        write_u32(caller, ptr_ptr, ptr as u32) && write_u32(caller, size_ptr, bytes.len() as u32),
    ))
}

// ---------------------------------------------------------------------------------------------
// Header maps

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

fn define_header_calls(linker: &mut Linker<HostState>) -> Res<()> {
    linker.func_wrap(
        "env",
        "proxy_get_header_map_pairs",
        |mut caller: C<'_>, map_type: i32, ptr_ptr: i32, size_ptr: i32| -> Res<i32> {
            caller.data_mut().count("proxy_get_header_map_pairs");
            if !(0..=abi::map::MAX).contains(&map_type) {
                return Ok(Status::BadArgument.code());
            }
            // A missing map reads as an empty one (Envoy's headerMapToPairs(nullptr)).
            let bytes = map_ref(caller.data_mut(), map_type)
                .map(|m| abi::serialize_pairs(m.pairs()))
                .unwrap_or_default();
            copy_out(&mut caller, &bytes, ptr_ptr, size_ptr)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_set_header_map_pairs",
        |mut caller: C<'_>, map_type: i32, ptr: i32, size: i32| -> i32 {
            caller.data_mut().count("proxy_set_header_map_pairs");
            let Some(data) = read(&mut caller, ptr, size) else {
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
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_get_header_map_size",
        |mut caller: C<'_>, map_type: i32, size_ptr: i32| -> i32 {
            caller.data_mut().count("proxy_get_header_map_size");
            match map_ref(caller.data_mut(), map_type).map(|m| m.byte_size()) {
                Some(size) => status(write_u32(&mut caller, size_ptr, size as u32)),
                None => Status::BadArgument.code(),
            }
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_get_header_map_value",
        |mut caller: C<'_>,
         map_type: i32,
         key_ptr: i32,
         key_size: i32,
         ptr_ptr: i32,
         size_ptr: i32|
         -> Res<i32> {
            caller.data_mut().count("proxy_get_header_map_value");
            let Some(key) = read_string(&mut caller, key_ptr, key_size) else {
                return Ok(Status::InvalidMemoryAccess.code());
            };
            let value = match map_ref(caller.data_mut(), map_type) {
                None => return Ok(Status::BadArgument.code()),
                Some(map) => map.get(&key).map(str::to_string),
            };
            match value {
                None => Ok(Status::NotFound.code()),
                Some(v) => copy_out(&mut caller, v.as_bytes(), ptr_ptr, size_ptr),
            }
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_add_header_map_value",
        |mut caller: C<'_>, map_type: i32, kp: i32, ks: i32, vp: i32, vs: i32| -> i32 {
            caller.data_mut().count("proxy_add_header_map_value");
            let (Some(k), Some(v)) = (
                read_string(&mut caller, kp, ks),
                read_string(&mut caller, vp, vs),
            ) else {
                return Status::InvalidMemoryAccess.code();
            };
            match map_ref(caller.data_mut(), map_type) {
                Some(map) => {
                    map.add(&k, &v);
                    Status::Ok.code()
                }
                None => Status::BadArgument.code(),
            }
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_replace_header_map_value",
        |mut caller: C<'_>, map_type: i32, kp: i32, ks: i32, vp: i32, vs: i32| -> i32 {
            caller.data_mut().count("proxy_replace_header_map_value");
            let (Some(k), Some(v)) = (
                read_string(&mut caller, kp, ks),
                read_string(&mut caller, vp, vs),
            ) else {
                return Status::InvalidMemoryAccess.code();
            };
            match map_ref(caller.data_mut(), map_type) {
                Some(map) => {
                    map.replace(&k, &v);
                    Status::Ok.code()
                }
                None => Status::BadArgument.code(),
            }
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_remove_header_map_value",
        |mut caller: C<'_>, map_type: i32, kp: i32, ks: i32| -> i32 {
            caller.data_mut().count("proxy_remove_header_map_value");
            let Some(k) = read_string(&mut caller, kp, ks) else {
                return Status::InvalidMemoryAccess.code();
            };
            match map_ref(caller.data_mut(), map_type) {
                Some(map) => {
                    map.remove(&k);
                    Status::Ok.code()
                }
                None => Status::BadArgument.code(),
            }
        },
    )?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Buffers

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

fn define_buffer_calls(linker: &mut Linker<HostState>) -> Res<()> {
    linker.func_wrap(
        "env",
        "proxy_get_buffer_bytes",
        |mut caller: C<'_>,
         buffer_type: i32,
         start: i32,
         max_size: i32,
         ptr_ptr: i32,
         size_ptr: i32|
         -> Res<i32> {
            caller.data_mut().count("proxy_get_buffer_bytes");
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
            copy_out(&mut caller, &data[start..end], ptr_ptr, size_ptr)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_set_buffer_bytes",
        |mut caller: C<'_>, buffer_type: i32, start: i32, size: i32, ptr: i32, len: i32| -> i32 {
            caller.data_mut().count("proxy_set_buffer_bytes");
            if !(0..=abi::buffer::MAX).contains(&buffer_type) {
                return Status::BadArgument.code();
            }
            let Some(data) = read(&mut caller, ptr, len) else {
                return Status::InvalidMemoryAccess.code();
            };
            let (start, size) = (start as u32 as usize, size as u32 as usize);
            let state = caller.data_mut();
            let target = match buffer_type {
                abi::buffer::HTTP_REQUEST_BODY => {
                    state.stream_mut().and_then(|s| s.request_body.as_mut())
                }
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
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_get_buffer_status",
        |mut caller: C<'_>, buffer_type: i32, len_ptr: i32, flags_ptr: i32| -> i32 {
            caller.data_mut().count("proxy_get_buffer_status");
            if !(0..=abi::buffer::MAX).contains(&buffer_type) {
                return Status::BadArgument.code();
            }
            match buffer_snapshot(caller.data_mut(), buffer_type) {
                BufferRef::Missing => Status::NotFound.code(),
                BufferRef::Bytes(data) => status(
                    write_u32(&mut caller, len_ptr, data.len() as u32)
                        && write_u32(&mut caller, flags_ptr, 0),
                ),
            }
        },
    )?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Metrics (Envoy: ids carry the type in the low two bits; a name defined twice shares one stat)

const METRIC_TYPE_MASK: u32 = 0x3;
const METRIC_INCREMENT: u32 = 0x4;

fn define_metric_calls(linker: &mut Linker<HostState>) -> Res<()> {
    linker.func_wrap(
        "env",
        "proxy_define_metric",
        |mut caller: C<'_>, metric_type: i32, name_ptr: i32, name_size: i32, id_ptr: i32| -> i32 {
            caller.data_mut().count("proxy_define_metric");
            let Some(kind) = MetricType::from_raw(metric_type) else {
                return Status::BadArgument.code();
            };
            let Some(name) = read_string(&mut caller, name_ptr, name_size) else {
                return Status::InvalidMemoryAccess.code();
            };
            let metrics = &mut caller.data_mut().metrics;
            metrics.next += METRIC_INCREMENT;
            let id = metrics.next | metric_type as u32;
            metrics.ids.insert(id, (kind, name.clone()));
            metrics.values.entry(name).or_insert(match kind {
                MetricType::Counter => MetricValue::Counter(0),
                MetricType::Gauge => MetricValue::Gauge(0),
                MetricType::Histogram => MetricValue::Histogram(Vec::new()),
            });
            status(write_u32(&mut caller, id_ptr, id))
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_increment_metric",
        |mut caller: C<'_>, id: i32, delta: i64| -> i32 {
            caller.data_mut().count("proxy_increment_metric");
            let metrics = &mut caller.data_mut().metrics;
            let id = id as u32;
            let Some((kind, name)) = metrics.ids.get(&id).cloned() else {
                return match id & METRIC_TYPE_MASK {
                    0 | 1 => Status::NotFound.code(),
                    _ => Status::BadArgument.code(),
                };
            };
            let Some(value) = metrics.values.get_mut(&name) else {
                return Status::NotFound.code();
            };
            match (kind, value) {
                (MetricType::Counter, MetricValue::Counter(v)) => {
                    if delta > 0 {
                        *v += delta as u64;
                        Status::Ok.code()
                    } else {
                        Status::BadArgument.code()
                    }
                }
                (MetricType::Gauge, MetricValue::Gauge(v)) => {
                    *v += delta;
                    Status::Ok.code()
                }
                _ => Status::BadArgument.code(),
            }
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_record_metric",
        |mut caller: C<'_>, id: i32, value: i64| -> i32 {
            caller.data_mut().count("proxy_record_metric");
            let metrics = &mut caller.data_mut().metrics;
            let Some((_, name)) = metrics.ids.get(&(id as u32)).cloned() else {
                return Status::NotFound.code();
            };
            match metrics.values.get_mut(&name) {
                Some(MetricValue::Counter(v)) => *v += value as u64,
                Some(MetricValue::Gauge(v)) => *v = value,
                Some(MetricValue::Histogram(v)) => v.push(value as u64),
                None => return Status::NotFound.code(),
            }
            Status::Ok.code()
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_get_metric",
        |mut caller: C<'_>, id: i32, value_ptr: i32| -> i32 {
            caller.data_mut().count("proxy_get_metric");
            let metrics = &caller.data().metrics;
            let Some((_, name)) = metrics.ids.get(&(id as u32)) else {
                return Status::NotFound.code();
            };
            let value = match metrics.values.get(name) {
                Some(MetricValue::Counter(v)) => *v,
                Some(MetricValue::Gauge(v)) => *v as u64,
                Some(MetricValue::Histogram(_)) => return Status::BadArgument.code(),
                None => return Status::NotFound.code(),
            };
            status(write_u64(&mut caller, value_ptr, value))
        },
    )?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Everything else in `env`

fn define_misc_calls(linker: &mut Linker<HostState>) -> Res<()> {
    linker.func_wrap(
        "env",
        "proxy_log",
        |mut caller: C<'_>, level: i32, ptr: i32, size: i32| -> i32 {
            caller.data_mut().count("proxy_log");
            let Some(level) = LogLevel::from_raw(level) else {
                return Status::BadArgument.code();
            };
            let Some(message) = read_string(&mut caller, ptr, size) else {
                return Status::InvalidMemoryAccess.code();
            };
            caller.data_mut().log(level, message);
            Status::Ok.code()
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_get_log_level",
        |mut caller: C<'_>, level_ptr: i32| -> i32 {
            caller.data_mut().count("proxy_get_log_level");
            let level = caller.data().log_level.raw() as u32;
            status(write_u32(&mut caller, level_ptr, level))
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_get_current_time_nanoseconds",
        |mut caller: C<'_>, time_ptr: i32| -> i32 {
            caller
                .data_mut()
                .count("proxy_get_current_time_nanoseconds");
            let now = caller.data().now_nanos;
            status(write_u64(&mut caller, time_ptr, now))
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_set_tick_period_milliseconds",
        |mut caller: C<'_>, period: i32| -> i32 {
            caller
                .data_mut()
                .count("proxy_set_tick_period_milliseconds");
            caller.data_mut().tick_period_ms = period as u32;
            Status::Ok.code()
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_send_local_response",
        |mut caller: C<'_>,
         status_code: i32,
         details_ptr: i32,
         details_size: i32,
         body_ptr: i32,
         body_size: i32,
         headers_ptr: i32,
         headers_size: i32,
         grpc_status: i32|
         -> i32 {
            caller.data_mut().count("proxy_send_local_response");
            let (Some(details), Some(body), Some(headers)) = (
                read_string(&mut caller, details_ptr, details_size),
                read(&mut caller, body_ptr, body_size),
                read(&mut caller, headers_ptr, headers_size),
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
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_continue_stream",
        |mut caller: C<'_>, stream_type: i32| -> i32 {
            caller.data_mut().count("proxy_continue_stream");
            let Some(stream) = caller.data_mut().stream_mut() else {
                return Status::BadArgument.code();
            };
            match stream_type {
                abi::stream::HTTP_REQUEST => stream.continue_request = true,
                abi::stream::HTTP_RESPONSE => stream.continue_response = true,
                _ => return Status::BadArgument.code(),
            }
            Status::Ok.code()
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_close_stream",
        |mut caller: C<'_>, stream_type: i32| -> i32 {
            caller.data_mut().count("proxy_close_stream");
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
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_get_property",
        |mut caller: C<'_>,
         path_ptr: i32,
         path_size: i32,
         ptr_ptr: i32,
         size_ptr: i32|
         -> Res<i32> {
            caller.data_mut().count("proxy_get_property");
            let Some(path) = read(&mut caller, path_ptr, path_size) else {
                return Ok(Status::InvalidMemoryAccess.code());
            };
            let path: Vec<String> = path
                .split(|b| *b == 0)
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .collect();
            match caller.data().property(&path) {
                Some(value) => copy_out(&mut caller, &value, ptr_ptr, size_ptr),
                None => Ok(Status::NotFound.code()),
            }
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_set_property",
        |mut caller: C<'_>,
         path_ptr: i32,
         path_size: i32,
         value_ptr: i32,
         value_size: i32|
         -> i32 {
            caller.data_mut().count("proxy_set_property");
            let (Some(path), Some(value)) = (
                read(&mut caller, path_ptr, path_size),
                read(&mut caller, value_ptr, value_size),
            ) else {
                return Status::InvalidMemoryAccess.code();
            };
            let path: Vec<String> = path
                .split(|b| *b == 0)
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .collect();
            match caller.data_mut().stream_mut() {
                Some(stream) => {
                    stream.properties.insert(path, value);
                    Status::Ok.code()
                }
                None => Status::NotFound.code(),
            }
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_set_effective_context",
        |mut caller: C<'_>, context_id: i32| -> i32 {
            caller.data_mut().count("proxy_set_effective_context");
            let id = context_id as u32;
            let state = caller.data_mut();
            let known = id == state.root_id || state.stream.as_ref().is_some_and(|s| s.ctx == id);
            if !known {
                return Status::BadArgument.code();
            }
            state.effective_context = Some(id);
            Status::Ok.code()
        },
    )?;
    linker.func_wrap("env", "proxy_done", |mut caller: C<'_>| -> i32 {
        caller.data_mut().count("proxy_done");
        Status::Ok.code()
    })?;
    linker.func_wrap(
        "env",
        "proxy_get_shared_data",
        |mut caller: C<'_>,
         kp: i32,
         ks: i32,
         ptr_ptr: i32,
         size_ptr: i32,
         cas_ptr: i32|
         -> Res<i32> {
            caller.data_mut().count("proxy_get_shared_data");
            let Some(key) = read(&mut caller, kp, ks) else {
                return Ok(Status::InvalidMemoryAccess.code());
            };
            let Some((value, cas)) = caller.data().shared_data.get(&key).cloned() else {
                return Ok(Status::NotFound.code());
            };
            let st = copy_out(&mut caller, &value, ptr_ptr, size_ptr)?;
            if st != Status::Ok.code() {
                return Ok(st);
            }
            Ok(status(write_u32(&mut caller, cas_ptr, cas)))
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_set_shared_data",
        |mut caller: C<'_>, kp: i32, ks: i32, vp: i32, vs: i32, cas: i32| -> i32 {
            caller.data_mut().count("proxy_set_shared_data");
            let (Some(key), Some(value)) = (read(&mut caller, kp, ks), read(&mut caller, vp, vs))
            else {
                return Status::InvalidMemoryAccess.code();
            };
            let data = &mut caller.data_mut().shared_data;
            let current = data.get(&key).map(|(_, c)| *c);
            if cas != 0 && current.is_some_and(|c| c != cas as u32) {
                return Status::CasMismatch.code();
            }
            let next = current.unwrap_or(0).wrapping_add(1).max(1);
            data.insert(key, (value, next));
            Status::Ok.code()
        },
    )?;
    // `dispatch_http_call`: Envoy checks the cluster and the three pseudo-headers, then answers
    // later through `proxy_on_http_call_response` (see `Filter::settle`).
    linker.func_wrap(
        "env",
        "proxy_http_call",
        |mut caller: C<'_>,
         up: i32,
         up_len: i32,
         hp: i32,
         hs: i32,
         bp: i32,
         bs: i32,
         tp: i32,
         ts: i32,
         timeout: i32,
         token_ptr: i32|
         -> i32 {
            caller.data_mut().count("proxy_http_call");
            let (Some(upstream), Some(headers), Some(body), Some(_trailers)) = (
                read_string(&mut caller, up, up_len),
                read(&mut caller, hp, hs),
                read(&mut caller, bp, bs),
                read(&mut caller, tp, ts),
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
            state.pending_calls.push(crate::state::HttpCall {
                token,
                upstream,
                headers,
                body,
                timeout_ms: timeout as u32,
            });
            status(write_u32(&mut caller, token_ptr, token))
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_call_foreign_function",
        |mut caller: C<'_>, _a: i32, _b: i32, _c: i32, _d: i32, _e: i32, _f: i32| -> i32 {
            caller.data_mut().count("proxy_call_foreign_function");
            Status::NotFound.code()
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_get_status",
        |mut caller: C<'_>, _a: i32, _b: i32, _c: i32| -> i32 {
            caller.data_mut().count("proxy_get_status");
            Status::NotFound.code()
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_register_shared_queue",
        |mut caller: C<'_>, _a: i32, _b: i32, _c: i32| -> i32 {
            caller.data_mut().count("proxy_register_shared_queue");
            Status::Unimplemented.code()
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_resolve_shared_queue",
        |mut caller: C<'_>, _a: i32, _b: i32, _c: i32, _d: i32, _e: i32| -> i32 {
            caller.data_mut().count("proxy_resolve_shared_queue");
            Status::NotFound.code()
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_enqueue_shared_queue",
        |mut caller: C<'_>, _a: i32, _b: i32, _c: i32| -> i32 {
            caller.data_mut().count("proxy_enqueue_shared_queue");
            Status::NotFound.code()
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_dequeue_shared_queue",
        |mut caller: C<'_>, _a: i32, _b: i32, _c: i32| -> i32 {
            caller.data_mut().count("proxy_dequeue_shared_queue");
            Status::NotFound.code()
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_grpc_call",
        |mut caller: C<'_>,
         _a: i32,
         _b: i32,
         _c: i32,
         _d: i32,
         _e: i32,
         _f: i32,
         _g: i32,
         _h: i32,
         _i: i32,
         _j: i32,
         _k: i32,
         _l: i32|
         -> i32 {
            caller.data_mut().count("proxy_grpc_call");
            Status::ParseFailure.code()
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_grpc_stream",
        |mut caller: C<'_>,
         _a: i32,
         _b: i32,
         _c: i32,
         _d: i32,
         _e: i32,
         _f: i32,
         _g: i32,
         _h: i32,
         _i: i32|
         -> i32 {
            caller.data_mut().count("proxy_grpc_stream");
            Status::ParseFailure.code()
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_grpc_send",
        |mut caller: C<'_>, _a: i32, _b: i32, _c: i32, _d: i32| -> i32 {
            caller.data_mut().count("proxy_grpc_send");
            Status::NotFound.code()
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_grpc_cancel",
        |mut caller: C<'_>, _a: i32| -> i32 {
            caller.data_mut().count("proxy_grpc_cancel");
            Status::NotFound.code()
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_grpc_close",
        |mut caller: C<'_>, _a: i32| -> i32 {
            caller.data_mut().count("proxy_grpc_close");
            Status::NotFound.code()
        },
    )?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// WASI preview1: the functions Envoy's cpp-host provides.

const WASI: &str = "wasi_snapshot_preview1";
const ERRNO_SUCCESS: i32 = 0;
const ERRNO_BADF: i32 = 8;
const ERRNO_INVAL: i32 = 28;
const ERRNO_NOSYS: i32 = 52;
const ERRNO_SPIPE: i32 = 70;

fn define_wasi(linker: &mut Linker<HostState>) -> Res<()> {
    linker.func_wrap(
        WASI,
        "fd_write",
        |mut caller: C<'_>, fd: i32, iovs: i32, iovs_len: i32, nwritten: i32| -> i32 {
            caller.data_mut().count("fd_write");
            if fd != 1 && fd != 2 {
                return ERRNO_BADF;
            }
            let mut written = Vec::new();
            for i in 0..iovs_len.max(0) {
                let Some(iov) = read(&mut caller, iovs.wrapping_add(i * 8), 8) else {
                    return ERRNO_INVAL;
                };
                let ptr = u32::from_le_bytes([iov[0], iov[1], iov[2], iov[3]]) as i32;
                let len = u32::from_le_bytes([iov[4], iov[5], iov[6], iov[7]]) as i32;
                let Some(bytes) = read(&mut caller, ptr, len) else {
                    return ERRNO_INVAL;
                };
                written.extend_from_slice(&bytes);
            }
            let n = written.len() as u32;
            let state = caller.data_mut();
            if state.echo_logs {
                eprint!("[wasm fd {fd}] {}", String::from_utf8_lossy(&written));
            }
            if fd == 1 {
                state.stdout.extend_from_slice(&written);
            } else {
                state.stderr.extend_from_slice(&written);
            }
            if write_u32(&mut caller, nwritten, n) {
                ERRNO_SUCCESS
            } else {
                ERRNO_INVAL
            }
        },
    )?;
    linker.func_wrap(
        WASI,
        "fd_read",
        |mut caller: C<'_>, fd: i32, _iovs: i32, _len: i32, nread: i32| -> i32 {
            caller.data_mut().count("fd_read");
            if fd != 0 {
                return ERRNO_BADF;
            }
            // stdin is empty.
            if write_u32(&mut caller, nread, 0) {
                ERRNO_SUCCESS
            } else {
                ERRNO_INVAL
            }
        },
    )?;
    linker.func_wrap(
        WASI,
        "fd_seek",
        |mut caller: C<'_>, fd: i32, _offset: i64, _whence: i32, _newoffset: i32| -> i32 {
            caller.data_mut().count("fd_seek");
            if (0..=2).contains(&fd) {
                ERRNO_SPIPE
            } else {
                ERRNO_BADF
            }
        },
    )?;
    linker.func_wrap(WASI, "fd_close", |mut caller: C<'_>, fd: i32| -> i32 {
        caller.data_mut().count("fd_close");
        if (0..=2).contains(&fd) {
            ERRNO_SUCCESS
        } else {
            ERRNO_BADF
        }
    })?;
    linker.func_wrap(
        WASI,
        "fd_fdstat_get",
        |mut caller: C<'_>, fd: i32, stat_ptr: i32| -> i32 {
            caller.data_mut().count("fd_fdstat_get");
            if !(0..=2).contains(&fd) {
                return ERRNO_BADF;
            }
            // fdstat: filetype u8 (2 = character device), flags u16, rights u64 x2.
            let mut stat = [0u8; 24];
            stat[0] = 2;
            let rights: u64 = if fd == 0 { 1 << 1 } else { 1 << 6 };
            stat[8..16].copy_from_slice(&rights.to_le_bytes());
            if write(&mut caller, stat_ptr, &stat) {
                ERRNO_SUCCESS
            } else {
                ERRNO_INVAL
            }
        },
    )?;
    linker.func_wrap(
        WASI,
        "fd_fdstat_set_flags",
        |mut caller: C<'_>, _fd: i32, _flags: i32| -> i32 {
            caller.data_mut().count("fd_fdstat_set_flags");
            ERRNO_NOSYS
        },
    )?;
    linker.func_wrap(
        WASI,
        "fd_prestat_get",
        |mut caller: C<'_>, _fd: i32, _buf: i32| -> i32 {
            caller.data_mut().count("fd_prestat_get");
            ERRNO_BADF
        },
    )?;
    linker.func_wrap(
        WASI,
        "fd_prestat_dir_name",
        |mut caller: C<'_>, _fd: i32, _path: i32, _len: i32| -> i32 {
            caller.data_mut().count("fd_prestat_dir_name");
            ERRNO_BADF
        },
    )?;
    linker.func_wrap(
        WASI,
        "path_open",
        |mut caller: C<'_>,
         _fd: i32,
         _dirflags: i32,
         _path: i32,
         _path_len: i32,
         _oflags: i32,
         _rights_base: i64,
         _rights_inheriting: i64,
         _fdflags: i32,
         _opened: i32|
         -> i32 {
            caller.data_mut().count("path_open");
            ERRNO_NOSYS
        },
    )?;
    linker.func_wrap(
        WASI,
        "environ_sizes_get",
        |mut caller: C<'_>, count_ptr: i32, size_ptr: i32| -> i32 {
            caller.data_mut().count("environ_sizes_get");
            if write_u32(&mut caller, count_ptr, 0) && write_u32(&mut caller, size_ptr, 0) {
                ERRNO_SUCCESS
            } else {
                ERRNO_INVAL
            }
        },
    )?;
    linker.func_wrap(
        WASI,
        "environ_get",
        |mut caller: C<'_>, _environ: i32, _buf: i32| -> i32 {
            caller.data_mut().count("environ_get");
            ERRNO_SUCCESS
        },
    )?;
    linker.func_wrap(
        WASI,
        "args_sizes_get",
        |mut caller: C<'_>, count_ptr: i32, size_ptr: i32| -> i32 {
            caller.data_mut().count("args_sizes_get");
            if write_u32(&mut caller, count_ptr, 0) && write_u32(&mut caller, size_ptr, 0) {
                ERRNO_SUCCESS
            } else {
                ERRNO_INVAL
            }
        },
    )?;
    linker.func_wrap(
        WASI,
        "args_get",
        |mut caller: C<'_>, _argv: i32, _buf: i32| -> i32 {
            caller.data_mut().count("args_get");
            ERRNO_SUCCESS
        },
    )?;
    linker.func_wrap(
        WASI,
        "clock_time_get",
        |mut caller: C<'_>, clock: i32, _precision: i64, time_ptr: i32| -> i32 {
            caller.data_mut().count("clock_time_get");
            let state = caller.data();
            let now = match clock {
                0 => state.now_nanos,
                // Monotonic and CPU clocks: time since the plugin started, on the same
                // settable clock.
                1..=3 => state.now_nanos.saturating_sub(state.monotonic_start),
                _ => return ERRNO_INVAL,
            };
            if write_u64(&mut caller, time_ptr, now) {
                ERRNO_SUCCESS
            } else {
                ERRNO_INVAL
            }
        },
    )?;
    linker.func_wrap(
        WASI,
        "clock_res_get",
        |mut caller: C<'_>, clock: i32, res_ptr: i32| -> i32 {
            caller.data_mut().count("clock_res_get");
            if !(0..=3).contains(&clock) {
                return ERRNO_INVAL;
            }
            if write_u64(&mut caller, res_ptr, 1) {
                ERRNO_SUCCESS
            } else {
                ERRNO_INVAL
            }
        },
    )?;
    linker.func_wrap(
        WASI,
        "random_get",
        |mut caller: C<'_>, buf: i32, len: i32| -> i32 {
            caller.data_mut().count("random_get");
            let mut bytes = Vec::with_capacity(len.max(0) as usize);
            while bytes.len() < len.max(0) as usize {
                let r = caller.data_mut().next_random();
                bytes.extend_from_slice(&r.to_le_bytes());
            }
            bytes.truncate(len.max(0) as usize);
            if write(&mut caller, buf, &bytes) {
                ERRNO_SUCCESS
            } else {
                ERRNO_INVAL
            }
        },
    )?;
    linker.func_wrap(
        WASI,
        "proc_exit",
        |mut caller: C<'_>, code: i32| -> Res<()> {
            caller.data_mut().count("proc_exit");
            caller.data_mut().exit_code = Some(code);
            Err(wasmtime::Error::msg(format!("proc_exit({code})")))
        },
    )?;
    linker.func_wrap(WASI, "sched_yield", |mut caller: C<'_>| -> i32 {
        caller.data_mut().count("sched_yield");
        ERRNO_SUCCESS
    })?;
    linker.func_wrap(
        WASI,
        "poll_oneoff",
        |mut caller: C<'_>, _in: i32, _out: i32, _n: i32, _nevents: i32| -> i32 {
            caller.data_mut().count("poll_oneoff");
            ERRNO_NOSYS
        },
    )?;
    Ok(())
}

/// A linker with every host function defined.
pub(crate) fn linker(engine: &wasmtime::Engine) -> Res<Linker<HostState>> {
    let mut linker = Linker::new(engine);
    define_header_calls(&mut linker)?;
    define_buffer_calls(&mut linker)?;
    define_metric_calls(&mut linker)?;
    define_misc_calls(&mut linker)?;
    define_wasi(&mut linker)?;
    Ok(linker)
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
