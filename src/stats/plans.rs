//! Captured plans: the newest generic plan of each slow statement, by its
//! `db.query.summary`, with the time it was taken. The pool's plan capture
//! (`wingspan::db`, `DB_PLAN_CAPTURE`) writes them; `/health/detailed`
//! shows each beside its statement and names what it shows in the advice.
//!
//! A plan holds what `EXPLAIN` estimates, never a value: node types,
//! relation and index names, estimated rows and costs, and conditions whose
//! literals the capture masked as `?` before handing them over.

use std::collections::HashMap;

use serde::Serialize;

use super::series::lock;
use super::Stats;

/// How many statements keep a plan; past it the oldest plan goes.
pub const MAX_PLANS: usize = 32;

/// One node of a plan (depth-first, the root first).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct PlanNode {
    /// Nesting depth; the root is 0.
    pub depth: u32,
    /// PostgreSQL's node type: `Seq Scan`, `Index Scan`, `Hash Join`, …
    pub node_type: String,
    /// The table a scan reads.
    pub relation: Option<String>,
    /// The index an index scan uses.
    pub index: Option<String>,
    /// Rows the planner expects the node to return.
    pub estimated_rows: f64,
    /// The planner's total cost of the node.
    pub total_cost: f64,
    /// The table's row count as of its last `ANALYZE` (`pg_class.reltuples`),
    /// for a sequential scan; `None` when never analysed or not a scan.
    pub table_rows: Option<f64>,
    /// `Filter`, `Index Cond`, `Hash Cond`, … with every literal as `?`.
    pub conditions: Vec<PlanCondition>,
}

impl PlanNode {
    /// A node of `node_type` at `depth`, without relation, index or condition.
    pub fn new(depth: u32, node_type: impl Into<String>) -> Self {
        Self {
            depth,
            node_type: node_type.into(),
            relation: None,
            index: None,
            estimated_rows: 0.0,
            total_cost: 0.0,
            table_rows: None,
            conditions: Vec::new(),
        }
    }
}

impl PlanNode {
    /// The column its `Filter` tests, the first compared with `=` if any
    /// (`((total > ?) AND (customer = $1))` gives `customer`): what an index
    /// would serve. A heuristic; `None` without a filter naming a column.
    pub fn filter_column(&self) -> Option<String> {
        self.conditions
            .iter()
            .find(|c| c.kind == "Filter")
            .and_then(|c| super::filter_column::filter_column(&c.expression))
    }
}

/// One condition of a plan node, literals masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanCondition {
    /// `Filter`, `Index Cond`, `Recheck Cond`, `Hash Cond`, `Join Filter`, …
    pub kind: String,
    /// The expression as PostgreSQL prints it, every literal as `?`.
    pub expression: String,
}

/// The newest generic plan of one statement.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct QueryPlan {
    /// When it was taken (ms since the Unix epoch).
    pub captured_at_ms: u64,
    /// Its nodes, depth-first.
    pub nodes: Vec<PlanNode>,
    /// The plan as `EXPLAIN`'s text format would indent it, from `nodes`.
    pub text: String,
}

impl QueryPlan {
    /// A plan of `nodes` taken at `captured_at_ms`; its text is rendered
    /// from the nodes.
    pub fn new(captured_at_ms: u64, nodes: Vec<PlanNode>) -> Self {
        let text = render(&nodes);
        Self {
            captured_at_ms,
            nodes,
            text,
        }
    }
}

/// `EXPLAIN`'s text layout: `->` and two spaces more per level, the
/// conditions under their node.
fn render(nodes: &[PlanNode]) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    for n in nodes {
        let pad = " ".repeat(n.depth as usize * 6);
        let arrow = if n.depth == 0 { "" } else { "->  " };
        let _ = write!(out, "{pad}{arrow}{}", n.node_type);
        if let Some(i) = &n.index {
            let _ = write!(out, " using {i}");
        }
        if let Some(r) = &n.relation {
            let _ = write!(out, " on {r}");
        }
        let _ = writeln!(
            out,
            "  (cost={:.2} rows={:.0})",
            n.total_cost, n.estimated_rows
        );
        let inner = if n.depth == 0 { 2 } else { pad.len() + 6 };
        for c in &n.conditions {
            let _ = writeln!(out, "{}{}: {}", " ".repeat(inner), c.kind, c.expression);
        }
    }
    out
}

/// One statement's plan in a snapshot.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatementPlan {
    /// The statement's `db.query.summary`.
    pub summary: String,
    /// Its newest plan.
    pub plan: QueryPlan,
}

/// The plans by summary, at most [`MAX_PLANS`].
#[derive(Debug, Default)]
pub(crate) struct Plans(HashMap<String, QueryPlan>);

impl Stats {
    /// Keeps `plan` as the newest of `summary`, replacing its previous one;
    /// past [`MAX_PLANS`] statements the oldest plan is dropped.
    pub fn record_plan(&self, summary: &str, plan: QueryPlan) {
        let mut plans = lock(&self.0.plans);
        if !plans.0.contains_key(summary) && plans.0.len() >= MAX_PLANS {
            let oldest = plans
                .0
                .iter()
                .min_by_key(|(_, p)| p.captured_at_ms)
                .map(|(s, _)| s.clone());
            if let Some(s) = oldest {
                plans.0.remove(&s);
            }
        }
        plans.0.insert(summary.to_owned(), plan);
    }

    /// The newest plan of `summary`, if one was captured.
    pub fn plan(&self, summary: &str) -> Option<QueryPlan> {
        lock(&self.0.plans).0.get(summary).cloned()
    }

    /// Every captured plan, newest first.
    pub(super) fn plans(&self) -> Vec<StatementPlan> {
        let mut all: Vec<StatementPlan> = lock(&self.0.plans)
            .0
            .iter()
            .map(|(summary, plan)| StatementPlan {
                summary: summary.clone(),
                plan: plan.clone(),
            })
            .collect();
        all.sort_by_key(|p| std::cmp::Reverse(p.plan.captured_at_ms));
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(at: u64) -> QueryPlan {
        let mut scan = PlanNode::new(1, "Seq Scan");
        scan.relation = Some("orders".into());
        scan.estimated_rows = 5.0;
        scan.total_cost = 180.5;
        scan.conditions.push(PlanCondition {
            kind: "Filter".into(),
            expression: "(customer = $1)".into(),
        });
        let mut root = PlanNode::new(0, "Aggregate");
        root.estimated_rows = 1.0;
        root.total_cost = 180.51;
        QueryPlan::new(at, vec![root, scan])
    }

    #[test]
    fn text_is_indented_like_explain() {
        assert_eq!(
            plan(1).text,
            "Aggregate  (cost=180.51 rows=1)\n      ->  Seq Scan on orders  (cost=180.50 rows=5)\n            Filter: (customer = $1)\n"
        );
    }

    #[test]
    fn the_newest_plan_per_summary_is_kept_and_the_count_is_capped() {
        let stats = Stats::builder().build();
        stats.record_plan("SELECT orders", plan(1));
        stats.record_plan("SELECT orders", plan(2));
        assert_eq!(stats.plan("SELECT orders").unwrap().captured_at_ms, 2);
        for i in 0..MAX_PLANS as u64 + 5 {
            stats.record_plan(&format!("SELECT t{i}"), plan(10 + i));
        }
        let all = stats.plans();
        assert_eq!(all.len(), MAX_PLANS);
        assert!(stats.plan("SELECT orders").is_none(), "the oldest went");
        assert_eq!(all[0].summary, format!("SELECT t{}", MAX_PLANS + 4));
    }
}
