//! The load generator every API benchmark uses: `concurrency` tasks, each
//! calling as fast as answers come back for `duration`, counting decisions
//! (one per unary call, many per batch) and timing each call.

use crate::measure::Latencies;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct Load {
    pub decisions: u64,
    pub calls: u64,
    pub seconds: f64,
    pub latencies: Latencies,
}

impl Load {
    pub fn rate(&self) -> f64 {
        self.decisions as f64 / self.seconds
    }
}

/// Runs `call(task, n)` in `concurrency` tasks until `duration` has passed;
/// each call returns how many decisions it got.
pub async fn drive<F, Fut>(concurrency: usize, duration: Duration, call: F) -> anyhow::Result<Load>
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<u64>> + Send + 'static,
{
    let call = Arc::new(call);
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::with_capacity(concurrency);
    for task in 0..concurrency {
        let call = call.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Latencies::with_capacity(1 << 14);
            let (mut decisions, mut calls) = (0u64, 0u64);
            let mut n = task as u64 * 1_000_003;
            while Instant::now() < deadline {
                let at = Instant::now();
                decisions += call(task, n).await?;
                latencies.record(at.elapsed());
                calls += 1;
                n += 1;
            }
            Ok::<_, anyhow::Error>((decisions, calls, latencies))
        }));
    }
    let mut load = Load {
        decisions: 0,
        calls: 0,
        seconds: 0.0,
        latencies: Latencies::default(),
    };
    for task in tasks {
        let (decisions, calls, latencies) = task.await??;
        load.decisions += decisions;
        load.calls += calls;
        load.latencies.extend(latencies);
    }
    load.seconds = started.elapsed().as_secs_f64();
    Ok(load)
}

/// Item `n` of `items`, cycling (`items` must not be empty).
pub fn nth<T>(items: &[T], n: u64) -> &T {
    let len = u64::try_from(items.len()).unwrap_or(u64::MAX).max(1);
    &items[usize::try_from(n % len).unwrap_or(0)]
}
