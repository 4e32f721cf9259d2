//! WASI preview1: the functions Envoy's cpp-host provides.

use wasmtime::ValType::{self, I32, I64};

use super::memory::{read, write, write_u32, write_u64};
use super::table::{Hostcalls, Res, C};

/// The WASI import module name.
pub(super) const MODULE: &str = "wasi_snapshot_preview1";

const ERRNO_SUCCESS: i32 = 0;
const ERRNO_BADF: i32 = 8;
const ERRNO_INVAL: i32 = 28;
const ERRNO_NOSYS: i32 = 52;
const ERRNO_SPIPE: i32 = 70;

/// Calls with a fixed answer: (name, parameter types, errno).
const FIXED: &[(&str, &[ValType], i32)] = &[
    ("fd_fdstat_set_flags", &[I32, I32], ERRNO_NOSYS),
    ("fd_prestat_get", &[I32, I32], ERRNO_BADF),
    ("fd_prestat_dir_name", &[I32, I32, I32], ERRNO_BADF),
    (
        "path_open",
        &[I32, I32, I32, I32, I32, I64, I64, I32, I32],
        ERRNO_NOSYS,
    ),
    ("environ_get", &[I32, I32], ERRNO_SUCCESS),
    ("args_get", &[I32, I32], ERRNO_SUCCESS),
    ("sched_yield", &[], ERRNO_SUCCESS),
    ("poll_oneoff", &[I32, I32, I32, I32], ERRNO_NOSYS),
];

pub(super) fn define(wasi: &mut Hostcalls<'_>) -> Res<()> {
    wasi.add("fd_write", fd_write)?
        .add("fd_read", fd_read)?
        .add("fd_seek", fd_seek)?
        .add("fd_close", fd_close)?
        .add("fd_fdstat_get", fd_fdstat_get)?
        .add("environ_sizes_get", empty_sizes)?
        .add("args_sizes_get", empty_sizes)?
        .add("clock_time_get", clock_time_get)?
        .add("clock_res_get", clock_res_get)?
        .add("random_get", random_get)?
        .add("proc_exit", proc_exit)?;
    for &(name, params, errno) in FIXED {
        wasi.answer(name, params, errno)?;
    }
    Ok(())
}

fn errno(ok: bool) -> i32 {
    if ok {
        ERRNO_SUCCESS
    } else {
        ERRNO_INVAL
    }
}

fn fd_write(caller: &mut C<'_>, fd: i32, iovs: i32, iovs_len: i32, nwritten: i32) -> i32 {
    if fd != 1 && fd != 2 {
        return ERRNO_BADF;
    }
    let mut written = Vec::new();
    for i in 0..iovs_len.max(0) {
        let Some(iov) = read(caller, iovs.wrapping_add(i * 8), 8) else {
            return ERRNO_INVAL;
        };
        let ptr = u32::from_le_bytes([iov[0], iov[1], iov[2], iov[3]]) as i32;
        let len = u32::from_le_bytes([iov[4], iov[5], iov[6], iov[7]]) as i32;
        let Some(bytes) = read(caller, ptr, len) else {
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
    errno(write_u32(caller, nwritten, n))
}

fn fd_read(caller: &mut C<'_>, fd: i32, _iovs: i32, _len: i32, nread: i32) -> i32 {
    if fd != 0 {
        return ERRNO_BADF;
    }
    // stdin is empty.
    errno(write_u32(caller, nread, 0))
}

fn fd_seek(_caller: &mut C<'_>, fd: i32, _offset: i64, _whence: i32, _newoffset: i32) -> i32 {
    if (0..=2).contains(&fd) {
        ERRNO_SPIPE
    } else {
        ERRNO_BADF
    }
}

fn fd_close(_caller: &mut C<'_>, fd: i32) -> i32 {
    if (0..=2).contains(&fd) {
        ERRNO_SUCCESS
    } else {
        ERRNO_BADF
    }
}

fn fd_fdstat_get(caller: &mut C<'_>, fd: i32, stat_ptr: i32) -> i32 {
    if !(0..=2).contains(&fd) {
        return ERRNO_BADF;
    }
    // fdstat: filetype u8 (2 = character device), flags u16, rights u64 x2.
    let mut stat = [0u8; 24];
    stat[0] = 2;
    let rights: u64 = if fd == 0 { 1 << 1 } else { 1 << 6 };
    stat[8..16].copy_from_slice(&rights.to_le_bytes());
    errno(write(caller, stat_ptr, &stat))
}

/// `environ_sizes_get` and `args_sizes_get`: no environment, no arguments.
fn empty_sizes(caller: &mut C<'_>, count_ptr: i32, size_ptr: i32) -> i32 {
    errno(write_u32(caller, count_ptr, 0) && write_u32(caller, size_ptr, 0))
}

fn clock_time_get(caller: &mut C<'_>, clock: i32, _precision: i64, time_ptr: i32) -> i32 {
    let state = caller.data();
    let now = match clock {
        0 => state.now_nanos,
        // Monotonic and CPU clocks: time since the plugin started, on the same settable clock.
        1..=3 => state.now_nanos.saturating_sub(state.monotonic_start),
        _ => return ERRNO_INVAL,
    };
    errno(write_u64(caller, time_ptr, now))
}

fn clock_res_get(caller: &mut C<'_>, clock: i32, res_ptr: i32) -> i32 {
    if !(0..=3).contains(&clock) {
        return ERRNO_INVAL;
    }
    errno(write_u64(caller, res_ptr, 1))
}

fn random_get(caller: &mut C<'_>, buf: i32, len: i32) -> i32 {
    let mut bytes = Vec::with_capacity(len.max(0) as usize);
    while bytes.len() < len.max(0) as usize {
        let r = caller.data_mut().next_random();
        bytes.extend_from_slice(&r.to_le_bytes());
    }
    bytes.truncate(len.max(0) as usize);
    errno(write(caller, buf, &bytes))
}

fn proc_exit(caller: &mut C<'_>, code: i32) -> Res<()> {
    caller.data_mut().exit_code = Some(code);
    Err(wasmtime::Error::msg(format!("proc_exit({code})")))
}
