//! What the log scrubber costs per line, beside the cost of copying the line unscrubbed.
//!
//! Every log line passes through the scrubber, so its cost on clean lines (the common case) and
//! on lines carrying a phone number and an email is what matters. Prints `name: value unit`.

#![allow(clippy::print_stdout)]

use std::hint::black_box;
use std::time::Instant;

use diala_redact::{Scrubber, TokenKey};

const CLEAN: &str = "call ended call_id=4f2a9c tenant=acme trunk=pbx-main duration_ms=48213";
const WITH_PII: &str = "call from +1 415 555 0134 for jane.doe@example.com on trunk pbx-main";
const ROUNDS: u32 = 200_000;

fn per_line_ns(mut work: impl FnMut()) -> f64 {
    for _ in 0..ROUNDS / 10 {
        work();
    }
    let start = Instant::now();
    for _ in 0..ROUNDS {
        work();
    }
    start.elapsed().as_nanos() as f64 / f64::from(ROUNDS)
}

fn main() {
    let scrubber = Scrubber::new(TokenKey::ephemeral());
    for (name, line) in [("clean", CLEAN), ("pii", WITH_PII)] {
        let baseline = per_line_ns(|| {
            black_box(black_box(line).to_owned());
        });
        let scrubbed = per_line_ns(|| {
            black_box(scrubber.scrub(black_box(line)).into_owned());
        });
        println!("scrub_{name}_line: {scrubbed:.0} ns");
        println!("copy_{name}_line_baseline: {baseline:.0} ns");
        println!("scrub_{name}_overhead: {:.1} x", scrubbed / baseline);
    }
}
