//! Zero heap allocations on the parse path (issue 2 / DESIGN.md "zero-copy parsing"):
//! a counting global allocator counts this thread's allocations while the four benchmark
//! messages are parsed and their typed headers read.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::hint::black_box;
use tipring_sip::Message;

struct Counting;

thread_local! {
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_during(f: impl FnOnce()) -> usize {
    let before = ALLOCS.with(Cell::get);
    f();
    ALLOCS.with(Cell::get) - before
}

const MESSAGES: [(&str, &[u8]); 4] = [
    (
        "INVITE with SDP",
        include_bytes!("data/samples/invite_sdp.sip"),
    ),
    (
        "180 with Record-Route",
        include_bytes!("data/samples/ringing_rr.sip"),
    ),
    (
        "REGISTER with Authorization",
        include_bytes!("data/samples/register_auth.sip"),
    ),
    ("BYE", include_bytes!("data/samples/bye.sip")),
];

#[test]
fn counter_sees_allocations() {
    // The check below could not fail if the counter were blind.
    let n = allocations_during(|| {
        black_box(vec![1u8; 64]);
    });
    assert_eq!(n, 1);
}

#[test]
fn parsing_the_benchmark_messages_allocates_nothing() {
    for (name, bytes) in MESSAGES {
        let n = allocations_during(|| {
            let m = Message::parse(black_box(bytes)).expect(name);
            // Read what a gateway reads; iterators must not allocate either.
            black_box(m.top_via().map(|v| (v.branch(), v.received(), v.rport())));
            black_box(m.via().count());
            black_box(m.from().and_then(|f| f.tag()));
            black_box(m.to().and_then(|t| t.tag()));
            black_box((m.call_id(), m.cseq(), m.max_forwards(), m.content_length()));
            black_box(m.contacts().count());
            black_box(m.record_routes().count() + m.routes().count());
            black_box(m.authorization().and_then(|a| a.param("response")));
            black_box(m.content_type());
            black_box(m.body().len());
            assert!(m.validate().is_ok());
        });
        println!("{name}: {n} heap allocations");
        assert_eq!(n, 0, "{name} allocated {n} times while parsing");
    }
}
