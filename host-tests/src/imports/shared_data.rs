//! Shared data: the key-value store shared by the plugin's contexts, with compare-and-swap.

use super::memory::{copy_out, read, status, write_u32};
use super::table::{Hostcalls, Res, C};
use crate::abi::Status;

pub(super) fn define(env: &mut Hostcalls<'_>) -> Res<()> {
    env.add("proxy_get_shared_data", get_shared_data)?
        .add("proxy_set_shared_data", set_shared_data)?;
    Ok(())
}

fn get_shared_data(
    caller: &mut C<'_>,
    kp: i32,
    ks: i32,
    ptr_ptr: i32,
    size_ptr: i32,
    cas_ptr: i32,
) -> Res<i32> {
    let Some(key) = read(caller, kp, ks) else {
        return Ok(Status::InvalidMemoryAccess.code());
    };
    let Some((value, cas)) = caller.data().shared_data.get(&key).cloned() else {
        return Ok(Status::NotFound.code());
    };
    let st = copy_out(caller, &value, ptr_ptr, size_ptr)?;
    if st != Status::Ok.code() {
        return Ok(st);
    }
    Ok(status(write_u32(caller, cas_ptr, cas)))
}

fn set_shared_data(caller: &mut C<'_>, kp: i32, ks: i32, vp: i32, vs: i32, cas: i32) -> i32 {
    let (Some(key), Some(value)) = (read(caller, kp, ks), read(caller, vp, vs)) else {
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
}
