//! Hints that ask the processor to start loading memory that an event is about to read.
//!
//! At 100,000 nodes an event touches records scattered over arrays of tens of megabytes:
//! the node's own record (several cache lines), its random streams, the link a message came
//! over. Read one after another as the handler reaches them, each costs a full trip to
//! memory; asked for together when the event is taken, their trips overlap. A prefetch is
//! only a hint: it changes no value the program reads, so runs stay byte-identical, and off
//! x86-64 it does nothing.

/// Asks for every cache line of `value` (a hint only; see the module docs).
#[inline]
pub fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        let start = std::ptr::from_ref(value).cast::<i8>();
        let mut offset = 0;
        while offset < size_of::<T>().max(1) {
            // SAFETY: `start + offset` lies inside `value` (offset < its size), and a
            // prefetch reads nothing the program sees.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(start.add(offset)) };
            offset += 64;
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}
