//! The gen_ai instruments, created once per [`Llm`](super::Llm), and the
//! bounded set of task labels.

use opentelemetry::metrics::{Counter, Histogram, Meter};
use opentelemetry::StringValue;

use super::bound::{BoundCache, CostSet, Shape};
use crate::capped::Capped;
use crate::names;
use crate::telemetry::buckets;
use crate::text::prefix_bytes;

/// Longer task labels are cut: they are meant to be words like `coach`.
const TASK_MAX_LEN: usize = 64;

pub(crate) struct Instruments {
    pub(crate) duration: Histogram<f64>,
    pub(crate) tokens: Histogram<u64>,
    pub(crate) time_to_first_chunk: Histogram<f64>,
    pub(crate) time_per_output_chunk: Histogram<f64>,
    pub(crate) cost: Counter<f64>,
    pub(crate) unpriced: Counter<u64>,
    /// Bound histograms per call shape.
    pub(crate) shapes: BoundCache<Shape>,
    /// Bound cost counters per (requested model, answering model, task).
    pub(crate) costs: BoundCache<CostSet>,
}

impl Instruments {
    pub(crate) fn new(meter: &Meter) -> Self {
        let seconds = |name: &'static str, description: &'static str| {
            meter
                .f64_histogram(name)
                .with_unit("s")
                .with_description(description)
                .with_boundaries(buckets::GEN_AI_DURATION.to_vec())
                .build()
        };
        Self {
            duration: seconds(
                names::GEN_AI_CLIENT_OPERATION_DURATION,
                "GenAI operation duration.",
            ),
            tokens: meter
                .u64_histogram(names::GEN_AI_CLIENT_TOKEN_USAGE)
                .with_unit("{token}")
                .with_description("Number of input and output tokens used.")
                .with_boundaries(buckets::GEN_AI_TOKENS.to_vec())
                .build(),
            time_to_first_chunk: seconds(
                names::GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK,
                "Time to receive the first chunk of a streaming response.",
            ),
            time_per_output_chunk: seconds(
                names::GEN_AI_CLIENT_OPERATION_TIME_PER_OUTPUT_CHUNK,
                "Time per output chunk after the first, from the previous chunk.",
            ),
            cost: meter
                .f64_counter(names::WINGSPAN_GEN_AI_COST)
                .with_unit("{USD}")
                .with_description("Cost of LLM calls in USD, from the pricing table.")
                .build(),
            unpriced: meter
                .u64_counter(names::WINGSPAN_GEN_AI_UNPRICED)
                .with_unit("{call}")
                .with_description("LLM calls whose model is not in the pricing table.")
                .build(),
            shapes: BoundCache::default(),
            costs: BoundCache::default(),
        }
    }
}

/// The caller-chosen task labels, bounded like the cache names: the first
/// `max` distinct labels are kept, later ones become `other`.
pub(crate) struct Tasks(Capped<StringValue>);

impl Tasks {
    pub(crate) fn new(max: usize) -> Self {
        Self(Capped::new(max))
    }

    /// The label to record for `task`.
    pub(crate) fn label(&self, task: &str) -> StringValue {
        let task = prefix_bytes(task.trim(), TASK_MAX_LEN);
        self.0.with(
            task,
            |label| StringValue::from(label.to_owned()),
            |label| StringValue::clone(label),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tasks_are_bounded_then_other() {
        let t = Tasks::new(2);
        assert_eq!(t.label("coach").as_str(), "coach");
        assert_eq!(t.label("summary").as_str(), "summary");
        assert_eq!(t.label("coach").as_str(), "coach");
        assert_eq!(t.label("third").as_str(), "other");
    }
}
