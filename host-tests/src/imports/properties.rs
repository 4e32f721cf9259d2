//! Properties: `request.path` and the like, the stream's own first, then the plugin-wide ones.

use super::memory::{copy_out, read, read_path};
use super::table::{Hostcalls, Res, C};
use crate::abi::Status;

pub(super) fn define(env: &mut Hostcalls<'_>) -> Res<()> {
    env.add("proxy_get_property", get_property)?
        .add("proxy_set_property", set_property)?;
    Ok(())
}

fn get_property(
    caller: &mut C<'_>,
    path_ptr: i32,
    path_size: i32,
    ptr_ptr: i32,
    size_ptr: i32,
) -> Res<i32> {
    let Some(path) = read_path(caller, path_ptr, path_size) else {
        return Ok(Status::InvalidMemoryAccess.code());
    };
    match caller.data().property(&path) {
        Some(value) => copy_out(caller, &value, ptr_ptr, size_ptr),
        None => Ok(Status::NotFound.code()),
    }
}

fn set_property(
    caller: &mut C<'_>,
    path_ptr: i32,
    path_size: i32,
    value_ptr: i32,
    value_size: i32,
) -> i32 {
    let (Some(path), Some(value)) = (
        read_path(caller, path_ptr, path_size),
        read(caller, value_ptr, value_size),
    ) else {
        return Status::InvalidMemoryAccess.code();
    };
    match caller.data_mut().stream_mut() {
        Some(stream) => {
            stream.properties.insert(path, value);
            Status::Ok.code()
        }
        None => Status::NotFound.code(),
    }
}
