//! Large arrays in transparent huge pages (Linux).
//!
//! A run with 100,000 nodes spends most of its time waiting on memory: every message reads
//! a link's record (64 bytes in a table of 1.6 million links, 100 MB), its receiver's state
//! for the block and the node's own record, each at a random place in an array of tens of
//! megabytes. With 4 KiB pages nearly every such read also misses the processor's address
//! translation cache (its reach is a few megabytes), and the page-table walk costs about as
//! much as the read itself. With 2 MiB pages the same translation cache covers gigabytes.
//!
//! The kernel hands out huge pages only where the program asks (`madvise(MADV_HUGEPAGE)`;
//! the usual `transparent_hugepage=madvise` setting) and glibc's allocator does not ask by
//! default. So this allocator, installed as the process's global allocator, asks for every
//! allocation of at least [`THRESHOLD`] bytes, right after the system allocator returns
//! it (before the array is first written, so its pages are huge from the first touch).
//! Smaller allocations, and every other platform, are left exactly as they were. The
//! advice changes neither contents nor addresses, so runs stay byte-identical; where the
//! kernel has no huge page to give, it falls back to small pages.

use std::alloc::{GlobalAlloc, Layout, System};

/// Allocations from this size on are advised to use huge pages: two huge pages, so that at
/// least one whole, aligned huge page lies inside (smaller arrays gain little, and a 1000-node
/// run keeps the allocator's default behaviour).
pub const THRESHOLD: usize = 4 << 20;

/// The size of a transparent huge page on x86-64 and most aarch64 kernels.
const HUGE_PAGE: usize = 2 << 20;

/// The system allocator, advising huge pages for large allocations (see the module docs).
pub struct HugePageAlloc;

#[global_allocator]
static GLOBAL: HugePageAlloc = HugePageAlloc;

/// Asks the kernel to back the whole huge pages inside `[ptr, ptr + size)` with huge pages.
/// Failure (an old kernel, huge pages disabled) changes nothing, so it is ignored.
#[inline]
fn advise(ptr: *mut u8, size: usize) {
    #[cfg(target_os = "linux")]
    if size >= THRESHOLD && !ptr.is_null() {
        let start = (ptr as usize).next_multiple_of(HUGE_PAGE);
        let end = (ptr as usize + size) & !(HUGE_PAGE - 1);
        if end > start {
            // SAFETY: the range lies inside an allocation the system allocator just gave
            // us; MADV_HUGEPAGE only changes how its pages are backed, never its contents.
            unsafe {
                libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (ptr, size);
}

/// Hands the memory freed so far back to the system (glibc's `malloc_trim`), so that what is
/// allocated next (the figures drawn after a run) does not come on top of pages the allocator
/// still holds for the run's dropped state. Changes no content; elsewhere it does nothing.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages of the allocator's heaps to the kernel.
    unsafe {
        libc::malloc_trim(0);
    }
}

// SAFETY: every call is forwarded to `System` with the same arguments; `advise` only adds
// advice about pages of the returned block.
unsafe impl GlobalAlloc for HugePageAlloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout.
        let ptr = unsafe { System.alloc(layout) };
        advise(ptr, layout.size());
        ptr
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        advise(ptr, layout.size());
        ptr
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` (through this allocator) with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` came from `System` (through this allocator) with `layout`.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        advise(new, new_size);
        new
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_and_small_allocations_work_and_keep_their_contents() {
        let mut big = vec![7u8; THRESHOLD + 12_345];
        big[THRESHOLD] = 9;
        big.resize(3 * THRESHOLD, 1);
        assert_eq!((big[0], big[THRESHOLD], big[3 * THRESHOLD - 1]), (7, 9, 1));
        let zeroed = vec![0u64; THRESHOLD];
        assert!(zeroed.iter().all(|&x| x == 0));
        let small: Vec<u32> = (0..100).collect();
        assert_eq!(small.iter().sum::<u32>(), 4950);
    }
}
