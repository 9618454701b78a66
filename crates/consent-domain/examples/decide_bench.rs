//! In-process micro-benchmark of `decide_with_texts`, both text modes,
//! over a fixed generated workload: the cases of the domain tests'
//! generator (`tests/support/generate.rs`) drawn by proptest's
//! deterministic runner, so every run decides the same questions on the
//! same facts.
//!
//! ```text
//! cargo run --release -p consent-domain --example decide_bench -- [CASES] [SECONDS|<N>x] [included|omitted|both]
//! ```
//!
//! For each text mode it prints the decisions per second over whole passes
//! of the workload (at least SECONDS of them, after one warm-up pass), the
//! allocations a decision makes (counted by a wrapper around the system
//! allocator, in the warm-up pass) and a digest of every decision's `Debug`
//! text: equal digests before and after a change mean the same decisions,
//! byte for byte.

use consent_domain::rules::{decide_with_texts, DecisionTexts};
use consent_domain::vocabulary::MessageClass;
use consent_testkit::scenario::Inputs;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::BTreeMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The system allocator, counting allocations (the same small cost before
/// and after a change), so that the allocations per decision are known.
struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded as given.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as given.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded as given.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

fn main() {
    let mut args = std::env::args().skip(1);
    let cases: usize = args
        .next()
        .map_or(2_000, |a| a.parse().expect("CASES: a count"));
    // SECONDS, or `<N>x` for exactly N passes (for `perf stat`, whose
    // counts then cover the same work in every run).
    let length = args.next().unwrap_or_else(|| "3".to_owned());
    let (seconds, passes_wanted): (f64, Option<u64>) = match length.strip_suffix('x') {
        Some(n) => (0.0, Some(n.parse().expect("<N>x: a count of passes"))),
        None => (length.parse().expect("SECONDS: a number"), None),
    };
    let modes = match args.next().as_deref() {
        None | Some("both") => vec![DecisionTexts::Included, DecisionTexts::Omitted],
        Some("included") => vec![DecisionTexts::Included],
        Some("omitted") => vec![DecisionTexts::Omitted],
        Some(other) => panic!("TEXTS: included, omitted or both, not {other}"),
    };

    let mut runner = TestRunner::deterministic();
    let strategy = consent_testkit::scenario::generate::case();
    let workload: Vec<Inputs> = (0..cases)
        .map(|_| {
            let case = strategy
                .new_tree(&mut runner)
                .expect("a generated case")
                .current();
            case.scenario.inputs(&case.check)
        })
        .collect();
    let mut mix: BTreeMap<String, usize> = BTreeMap::new();
    for inputs in &workload {
        let request = &inputs.request;
        let marketing =
            request.message_class == MessageClass::Marketing || request.promotional_content;
        let class = if marketing { "marketing" } else { "service" };
        *mix.entry(format!("{:?} {class}", request.channel))
            .or_default() += 1;
    }
    let facts: usize = workload
        .iter()
        .map(|i| i.subject.facts.len() + i.organisation.facts.len())
        .sum();
    println!(
        "workload: {cases} cases, {:.1} subject and organisation facts each; {mix:?}",
        facts as f64 / cases as f64
    );

    for texts in modes {
        let decide = |inputs: &Inputs| {
            decide_with_texts(
                &inputs.rule_set,
                &inputs.organisation,
                &inputs.subject,
                &inputs.addresses,
                &inputs.request,
                texts,
            )
        };
        let mut digest = DefaultHasher::new();
        let mut allocations = 0;
        for inputs in &workload {
            let before = ALLOCATIONS.load(Ordering::Relaxed);
            let decision = decide(inputs);
            allocations += ALLOCATIONS.load(Ordering::Relaxed) - before;
            format!("{decision:?}").hash(&mut digest);
        }
        let budget = Duration::from_secs_f64(seconds);
        let started = Instant::now();
        let mut passes = 0u64;
        let mut kept = 0usize;
        while match passes_wanted {
            Some(wanted) => passes < wanted,
            None => passes == 0 || started.elapsed() < budget,
        } {
            for inputs in &workload {
                kept += std::hint::black_box(decide(inputs)).rules.len();
            }
            passes += 1;
        }
        let elapsed = started.elapsed().as_secs_f64();
        let decisions = passes as f64 * cases as f64;
        println!(
            "{texts:?}: {decisions:.0} decisions in {elapsed:.2} s: {:.0} decisions/s, \
             {:.1} allocations (and reallocations) each (digest {:016x}, {kept} rules)",
            decisions / elapsed,
            allocations as f64 / cases as f64,
            digest.finish()
        );
    }
}
