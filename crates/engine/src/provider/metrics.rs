//! A scan's EXPLAIN ANALYZE metrics about the API: requests sent and responses
//! served from the cache, fed by the client clone the scan fetches through.

use std::sync::Arc;

use datafusion::physical_plan::metrics::{Count, ExecutionPlanMetricsSet, MetricBuilder};

use crate::stripe::CallObserver;

/// Counters of one scan partition (`api_requests`, `cache_hits`).
#[derive(Debug, Clone)]
pub struct ScanCounters {
    requests: Count,
    cache_hits: Count,
}

impl ScanCounters {
    /// Registers the counters of `partition` in `metrics`.
    pub fn new(metrics: &ExecutionPlanMetricsSet, partition: usize) -> Self {
        ScanCounters {
            requests: MetricBuilder::new(metrics).counter("api_requests", partition),
            cache_hits: MetricBuilder::new(metrics).counter("cache_hits", partition),
        }
    }

    /// The counters as a client observer.
    pub fn observer(&self) -> Arc<dyn CallObserver> {
        Arc::new(self.clone())
    }
}

impl CallObserver for ScanCounters {
    fn on_request(&self) {
        self.requests.add(1);
    }

    fn on_cache_hit(&self) {
        self.cache_hits.add(1);
    }
}
