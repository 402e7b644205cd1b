//! The round runner's resident memory while the agent works: the code it still runs, not the
//! start-up's.
//!
//! A read fault in a file mapping maps far more than the page: the cached pages around it (64 KiB)
//! and, since the page cache holds large folios, the whole folio (often 128 KiB). Start-up runs a
//! little code scattered over megabytes of text (argument parsing, configuration, checks, the
//! spawn), so ~300 faults leave ~7 MB of the binary and its libraries mapped. Neither can be turned
//! off per process (`MADV_RANDOM` does not stop it on Linux 6.18, measured), but mapped code can
//! be unmapped: the pages stay in the page cache, and what runs again is mapped again by a minor
//! fault. While the agent works the runner only waits and copies output, for as long as the round
//! lasts (hours, maybe); unmapping the start-up's pages when that begins leaves it holding ~2 MB
//! instead of ~8 MB, and lets the kernel reclaim code no runner is using. Doing the same between
//! the start-up's steps would lower the peak too, but the re-faults cost milliseconds on the way
//! to the agent's start (measured), so it is not done.

use std::ffi::{c_int, c_void};
use std::ops::Range;

use nix::libc;

/// Unmaps the pages of every loaded object's read-only segments (the binary's code and constants,
/// libc's, the loader's), keeping them in the page cache; the next use maps them again. Failure
/// only costs memory, so it is ignored.
pub(crate) fn drop_mapped_code() {
    for pages in read_only_segments() {
        let _ = forget(&pages);
    }
}

/// The whole pages inside the read-only `PT_LOAD` segments of every loaded object, read from the
/// loader's own list (no file read, no /proc). Writable segments are left out: their pages may
/// hold relocations or data, which dropping would lose.
fn read_only_segments() -> Vec<Range<usize>> {
    let mut segments: Vec<Range<usize>> = Vec::new();
    // SAFETY: dl_iterate_phdr calls `collect_read_only` synchronously, once per loaded object,
    // passing back the `data` pointer given here, which points at `segments`: alive and not
    // otherwise borrowed until dl_iterate_phdr returns.
    #[allow(unsafe_code)] // reason: the loader's list of loaded objects has no safe interface
    unsafe {
        libc::dl_iterate_phdr(Some(collect_read_only), (&raw mut segments).cast());
    }
    segments
}

/// `DT_TEXTREL`, and `DF_TEXTREL` in `DT_FLAGS`: the object's code was patched when loaded.
const DT_TEXTREL: i64 = 22;
const DT_FLAGS: i64 = 30;
const DF_TEXTREL: u64 = 0x4;

#[allow(unsafe_code)] // reason: a C callback of dl_iterate_phdr reads the loader's raw headers
unsafe extern "C" fn collect_read_only(
    info: *mut libc::dl_phdr_info,
    _size: usize,
    data: *mut c_void,
) -> c_int {
    // SAFETY: the loader passes a valid `info` whose `dlpi_phdr` points at `dlpi_phnum` program
    // headers for the duration of this call; `data` is the `Vec` of `read_only_segments`; a
    // PT_DYNAMIC header locates the object's mapped dynamic section, a (tag, value) array that
    // ends with a zero tag.
    let (info, segments, headers) = unsafe {
        let info = &*info;
        let headers = std::slice::from_raw_parts(info.dlpi_phdr, usize::from(info.dlpi_phnum));
        (info, &mut *data.cast::<Vec<Range<usize>>>(), headers)
    };
    let base = usize::try_from(info.dlpi_addr).unwrap_or(0);
    let at = |vaddr: u64| usize::try_from(vaddr).map(|v| base.wrapping_add(v));
    let dynamic = headers.iter().find(|h| h.p_type == libc::PT_DYNAMIC);
    if let Some(Ok(dynamic)) = dynamic.map(|h| at(h.p_vaddr)) {
        // SAFETY: see above; the loader itself read this array to load the object.
        if unsafe { has_text_relocations(std::ptr::with_exposed_provenance(dynamic)) } {
            // Its read-only pages hold patched code: dropping them would lose the patches.
            return 0;
        }
    }
    let read_only =
        |h: &&libc::Elf64_Phdr| h.p_type == libc::PT_LOAD && h.p_flags & libc::PF_W == 0;
    for header in headers.iter().filter(read_only) {
        if let (Ok(start), Ok(size)) = (at(header.p_vaddr), usize::try_from(header.p_filesz)) {
            segments.extend(whole_pages(start, size, page_size()));
        }
    }
    0
}

/// Whether a dynamic section (pairs of tag and value, ending with tag 0) marks text relocations.
///
/// # Safety
/// `entries` must point at a mapped dynamic section that ends with a zero tag.
#[allow(unsafe_code)] // reason: walks the loader's raw dynamic section
unsafe fn has_text_relocations(mut entries: *const [u64; 2]) -> bool {
    loop {
        // SAFETY: the caller's promise: every entry up to the zero tag is mapped and readable.
        let [tag, value] = unsafe { entries.read() };
        match tag.cast_signed() {
            0 => return false,
            DT_TEXTREL => return true,
            DT_FLAGS if value & DF_TEXTREL != 0 => return true,
            // SAFETY: the zero tag has not been reached, so the next entry exists.
            _ => entries = unsafe { entries.add(1) },
        }
    }
}

fn page_size() -> usize {
    nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
        .ok()
        .flatten()
        .and_then(|p| usize::try_from(p).ok())
        .unwrap_or(4096)
}

/// The pages wholly inside `size` bytes from `start`; none if no page is. Rounded inwards, so
/// that a page shared with a writable neighbour is never dropped.
fn whole_pages(start: usize, size: usize, page: usize) -> Option<Range<usize>> {
    let first = start.checked_next_multiple_of(page)?;
    let end = start.checked_add(size)? & !(page - 1);
    (first < end).then_some(first..end)
}

/// Unmaps `pages` of a read-only file mapping; they come back from the page cache when touched.
fn forget(pages: &Range<usize>) -> std::io::Result<()> {
    // SAFETY: `pages` lie in read-only segments of loaded objects, which are private mappings of
    // their files never written to: after MADV_DONTNEED the next access maps the same file
    // contents again, so every reference into them stays valid and sees the same bytes.
    #[allow(unsafe_code)] // reason: madvise has no safe wrapper in the crates we use
    let rc = unsafe {
        libc::madvise(
            std::ptr::without_provenance_mut(pages.start),
            pages.len(),
            libc::MADV_DONTNEED,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn this_code() -> usize {
        this_code as fn() -> usize as usize
    }

    #[test]
    fn the_segment_holding_this_code_is_found_and_can_be_dropped() {
        let segments = read_only_segments();
        let text = segments
            .iter()
            .find(|s| s.contains(&this_code()))
            .expect("a read-only segment holds the test's own code");
        let before = this_code();
        forget(text).expect("madvise(MADV_DONTNEED) on the binary's code");
        // Dropped pages come back on use: the code still runs.
        assert_eq!(this_code(), before);
    }

    #[test]
    fn the_shared_libraries_are_found_too() {
        let write = libc::write as *const () as usize;
        let segments = read_only_segments();
        let libc_code = segments.iter().find(|s| s.contains(&write));
        assert!(libc_code.is_some_and(|s| !s.contains(&this_code())));
    }

    #[test]
    fn writable_data_is_left_alone() {
        static WRITTEN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);
        WRITTEN.store(7, std::sync::atomic::Ordering::Relaxed);
        let data = (&raw const WRITTEN).addr();
        assert!(!read_only_segments().iter().any(|s| s.contains(&data)));
        drop_mapped_code();
        assert_eq!(WRITTEN.load(std::sync::atomic::Ordering::Relaxed), 7);
    }

    #[test]
    fn text_relocations_are_recognised() {
        let plain: [[u64; 2]; 3] = [[1, 5], [DT_FLAGS.cast_unsigned(), 0x8], [0, 0]];
        let textrel: [[u64; 2]; 2] = [[DT_TEXTREL.cast_unsigned(), 0], [0, 0]];
        let flagged: [[u64; 2]; 2] = [[DT_FLAGS.cast_unsigned(), DF_TEXTREL | 0x8], [0, 0]];
        #[allow(unsafe_code)] // reason: the arrays end with a zero tag, as the function needs
        let found = unsafe {
            [
                has_text_relocations(plain.as_ptr()),
                has_text_relocations(textrel.as_ptr()),
                has_text_relocations(flagged.as_ptr()),
            ]
        };
        assert_eq!(found, [false, true, true]);
    }

    #[test]
    fn pages_round_inwards() {
        assert_eq!(whole_pages(4097, 8192, 4096), Some(8192..12288));
        assert_eq!(whole_pages(8192, 4096, 4096), Some(8192..12288));
        assert_eq!(whole_pages(4097, 4096, 4096), None);
    }
}
