//! Many fetches at once, within a concurrency limit and an overall time limit.

use futures_util::StreamExt;
use std::future::Future;
use std::time::Duration;

/// Runs `jobs` with at most `concurrency` in flight, and returns their outputs in order. With a
/// `limit`, waiting stops then: what finished is kept, and each job still queued or running
/// gives `None`.
pub async fn within<T, F>(
    jobs: Vec<F>,
    concurrency: usize,
    limit: Option<Duration>,
) -> Vec<Option<T>>
where
    F: Future<Output = T>,
{
    let mut outputs: Vec<Option<T>> = jobs.iter().map(|_| None).collect();
    // Unordered: an ordered buffer would hold finished slots behind one slow job.
    let mut stream = futures_util::stream::iter(jobs.into_iter().enumerate())
        .map(|(index, job)| async move { (index, job.await) })
        .buffer_unordered(concurrency.max(1));
    let collect = async {
        while let Some((index, output)) = stream.next().await {
            outputs[index] = Some(output);
        }
    };
    match limit {
        Some(limit) => {
            let _ = tokio::time::timeout(limit, collect).await;
        }
        None => collect.await,
    }
    outputs
}
