//! One value kept per thread between requests: the buffers a finished reader or document leaves
//! for the next one (in the filter, the next request of the same Wasm VM, which runs one at a
//! time), so that reading a send allocates no buffer once one of its size has been read.

use std::cell::RefCell;
use std::thread::LocalKey;

/// A thread's slot for one kept value.
pub(super) type Slot<T> = LocalKey<RefCell<Option<T>>>;

/// The value kept in `slot`, if any (taken out).
pub(super) fn take<T>(slot: &'static Slot<T>) -> Option<T> {
    slot.try_with(|s| s.try_borrow_mut().ok().and_then(|mut kept| kept.take()))
        .ok()
        .flatten()
}

/// Keeps `value` in `slot` if it holds nothing (else, or while the thread ends, it is dropped).
pub(super) fn keep<T>(slot: &'static Slot<T>, value: T) {
    let _ = slot.try_with(|s| {
        if let Ok(mut kept) = s.try_borrow_mut() {
            if kept.is_none() {
                *kept = Some(value);
            }
        }
    });
}
