//! Reading and writing guest memory, and handing bytes to the guest.

use super::table::{Res, C};
use crate::abi::Status;

/// `len` bytes at `ptr`, or `None` when the range is outside the guest's memory.
pub(super) fn read(caller: &mut C<'_>, ptr: i32, len: i32) -> Option<Vec<u8>> {
    let memory = caller.data().memory?;
    let data = memory.data(&*caller);
    let start = ptr as u32 as usize;
    let end = start.checked_add(len as u32 as usize)?;
    data.get(start..end).map(<[u8]>::to_vec)
}

/// [`read`], as text (invalid UTF-8 replaced).
pub(super) fn read_string(caller: &mut C<'_>, ptr: i32, len: i32) -> Option<String> {
    read(caller, ptr, len).map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// The NUL-separated segments of a property path.
pub(super) fn read_path(caller: &mut C<'_>, ptr: i32, len: i32) -> Option<Vec<String>> {
    let path = read(caller, ptr, len)?;
    Some(
        path.split(|b| *b == 0)
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .collect(),
    )
}

pub(super) fn write(caller: &mut C<'_>, ptr: i32, bytes: &[u8]) -> bool {
    let Some(memory) = caller.data().memory else {
        return false;
    };
    memory
        .write(&mut *caller, ptr as u32 as usize, bytes)
        .is_ok()
}

pub(super) fn write_u32(caller: &mut C<'_>, ptr: i32, value: u32) -> bool {
    write(caller, ptr, &value.to_le_bytes())
}

pub(super) fn write_u64(caller: &mut C<'_>, ptr: i32, value: u64) -> bool {
    write(caller, ptr, &value.to_le_bytes())
}

/// `OK` when the writes succeeded, else `INVALID_MEMORY_ACCESS`.
pub(super) fn status(ok: bool) -> i32 {
    if ok {
        Status::Ok.code()
    } else {
        Status::InvalidMemoryAccess.code()
    }
}

/// Hand bytes to the guest: allocate with `proxy_on_memory_allocate` (or `malloc`), copy,
/// and write pointer and size. Empty data writes a null pointer and a zero size, as
/// cpp-host's `copyToPointerSize` does.
pub(super) fn copy_out(caller: &mut C<'_>, bytes: &[u8], ptr_ptr: i32, size_ptr: i32) -> Res<i32> {
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
