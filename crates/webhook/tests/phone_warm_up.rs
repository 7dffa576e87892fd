//! After [`PhoneNumber::load_metadata`] (init), parsing any number the sample events carry, and telling its kind
//! of line (send-text does, for every text), compiles nothing: a first parse that compiles patterns allocates
//! megabytes (~2.9 MB for the first `+1…` number, ~1 ms of CPU), a parse alone about a kilobyte. Counted by an allocator of this test binary's own, which runs nothing else.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use webhook::phone::{CountryCode, PhoneNumber};
use webhook_test_support::events::sample_body;

/// Counts the bytes every allocation asks for.
struct CountingAllocator;

static ALLOCATED_BYTES: AtomicUsize = AtomicUsize::new(0);

// SAFETY: passes every call through to the system allocator unchanged.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATED_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract for `alloc` is the system allocator's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract for `dealloc` is the system allocator's.
        unsafe { System.dealloc(pointer, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Far above a parse's own allocations, far below a pattern compilation's.
const AT_MOST_BYTES: usize = 64 * 1024;

fn allocated_by_parsing(raw: &str) -> usize {
    let before = ALLOCATED_BYTES.load(Ordering::Relaxed);
    if let Ok(number) = PhoneNumber::parse(raw, CountryCode::US) {
        let _ = number.line_type();
    }
    ALLOCATED_BYTES.load(Ordering::Relaxed) - before
}

#[test]
fn after_loading_the_metadata_no_sample_number_compiles_a_pattern() {
    PhoneNumber::load_metadata(CountryCode::US);
    let events = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../../events")).expect("events/");
    let mut numbers: Vec<String> = events
        .filter_map(|entry| entry.ok()?.path().file_stem()?.to_str().map(str::to_owned))
        .filter_map(|name| {
            let body = sample_body(&name);
            let number = &body["record_phone_number"];
            number.as_str().map(str::to_owned).or_else(|| number.as_u64().map(|digits| digits.to_string()))
        })
        .collect();
    assert!(numbers.iter().any(|number| number.starts_with("+1")), "{numbers:?}");
    assert!(numbers.iter().any(|number| !number.starts_with('+')), "{numbers:?}");
    numbers.push("+1 (202) 555-0143".into());
    for number in &numbers {
        let bytes = allocated_by_parsing(number);
        assert!(bytes <= AT_MOST_BYTES, "parsing {number:?} allocated {bytes} bytes: it compiled patterns");
    }
}
