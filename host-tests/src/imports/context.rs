//! Logging, clocks, timers and the context a call acts for.

use super::memory::{read_string, status, write_u32, write_u64};
use super::table::{Hostcalls, Res, C};
use crate::abi::{LogLevel, Status};

pub(super) fn define(env: &mut Hostcalls<'_>) -> Res<()> {
    env.add("proxy_log", log)?
        .add("proxy_get_log_level", get_log_level)?
        .add("proxy_get_current_time_nanoseconds", current_time)?
        .add("proxy_set_tick_period_milliseconds", set_tick_period)?
        .add("proxy_set_effective_context", set_effective_context)?
        .add("proxy_done", done)?;
    Ok(())
}

fn log(caller: &mut C<'_>, level: i32, ptr: i32, size: i32) -> i32 {
    let Some(level) = LogLevel::from_raw(level) else {
        return Status::BadArgument.code();
    };
    let Some(message) = read_string(caller, ptr, size) else {
        return Status::InvalidMemoryAccess.code();
    };
    caller.data_mut().log(level, message);
    Status::Ok.code()
}

fn get_log_level(caller: &mut C<'_>, level_ptr: i32) -> i32 {
    let level = caller.data().log_level.raw() as u32;
    status(write_u32(caller, level_ptr, level))
}

fn current_time(caller: &mut C<'_>, time_ptr: i32) -> i32 {
    let now = caller.data().now_nanos;
    status(write_u64(caller, time_ptr, now))
}

fn set_tick_period(caller: &mut C<'_>, period: i32) -> i32 {
    caller.data_mut().tick_period_ms = period as u32;
    Status::Ok.code()
}

fn set_effective_context(caller: &mut C<'_>, context_id: i32) -> i32 {
    let id = context_id as u32;
    let state = caller.data_mut();
    let known = id == state.root_id || state.stream.as_ref().is_some_and(|s| s.ctx == id);
    if !known {
        return Status::BadArgument.code();
    }
    state.effective_context = Some(id);
    Status::Ok.code()
}

fn done(_caller: &mut C<'_>) -> i32 {
    Status::Ok.code()
}
