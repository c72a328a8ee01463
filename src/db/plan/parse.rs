//! `EXPLAIN (FORMAT JSON)` to [`PlanNode`]s, keeping only what carries no
//! value: node types, relation and index names, estimated rows and costs,
//! and the conditions with every literal masked by the SQL sanitizer.
//!
//! Every other key (`Output`, `Sort Key`, `Group Key`, `Cache Key`, …) is
//! dropped unread: an expression there could hold a literal the masking of
//! conditions is not applied to.

use serde_json::Value;

use crate::db::sanitize::mask;
use crate::stats::{PlanCondition, PlanNode};

/// The condition keys kept (masked); the order they are shown in.
const CONDITIONS: &[&str] = &[
    "Index Cond",
    "Recheck Cond",
    "TID Cond",
    "Hash Cond",
    "Merge Cond",
    "Join Filter",
    "One-Time Filter",
    "Run Condition",
    "Filter",
];

/// Plans deeper or larger than this are cut: the view keeps a summary.
const MAX_DEPTH: u32 = 32;
const MAX_NODES: usize = 200;

/// The nodes of the first plan in `json` (EXPLAIN's array of one object),
/// depth-first; `None` when it is not such a document.
pub(crate) fn nodes(json: &str) -> Option<Vec<PlanNode>> {
    let doc: Value = serde_json::from_str(json).ok()?;
    let root = doc.as_array()?.first()?.get("Plan")?;
    let mut out = Vec::new();
    walk(root, 0, &mut out);
    (!out.is_empty()).then_some(out)
}

fn walk(node: &Value, depth: u32, out: &mut Vec<PlanNode>) {
    if depth > MAX_DEPTH || out.len() >= MAX_NODES {
        return;
    }
    let Some(kind) = node.get("Node Type").and_then(Value::as_str) else {
        return;
    };
    let mut n = PlanNode::new(depth, label(kind, node));
    n.relation = text(node, "Relation Name").map(|r| match text(node, "Schema") {
        // `VERBOSE` names the schema; `public` goes without saying.
        Some(schema) if schema != "public" => format!("{schema}.{r}"),
        _ => r,
    });
    n.index = text(node, "Index Name");
    n.estimated_rows = number(node, "Plan Rows");
    n.total_cost = number(node, "Total Cost");
    n.conditions = CONDITIONS
        .iter()
        .filter_map(|k| {
            let e = node.get(*k)?.as_str()?;
            Some(PlanCondition {
                kind: (*k).to_owned(),
                expression: mask(e),
            })
        })
        .collect();
    out.push(n);
    if let Some(children) = node.get("Plans").and_then(Value::as_array) {
        for c in children {
            walk(c, depth + 1, out);
        }
    }
}

/// The node's name as the text format prints it: `Hash Left Join`,
/// `HashAggregate`.
fn label(kind: &str, node: &Value) -> String {
    let join = node.get("Join Type").and_then(Value::as_str);
    match join {
        Some(j) if j != "Inner" && kind.ends_with("Join") => {
            format!("{} {j} Join", kind.trim_end_matches(" Join"))
        }
        Some(j) if j != "Inner" && kind == "Nested Loop" => format!("Nested Loop {j} Join"),
        _ => match (kind, node.get("Strategy").and_then(Value::as_str)) {
            ("Aggregate", Some("Hashed")) => "HashAggregate".to_owned(),
            ("Aggregate", Some("Sorted")) => "GroupAggregate".to_owned(),
            _ => kind.to_owned(),
        },
    }
}

fn text(node: &Value, key: &str) -> Option<String> {
    node.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn number(node: &Value, key: &str) -> f64 {
    node.get(key).and_then(Value::as_f64).unwrap_or(0.0)
}

/// `schema.table` or `table` as a `regclass` literal: each part quoted.
pub(crate) fn qualified_ident(relation: &str) -> String {
    relation
        .splitn(2, '.')
        .map(|p| format!("\"{}\"", p.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(".")
}
#[cfg(test)]
mod tests {
    use super::*;

    /// PostgreSQL 15's `EXPLAIN (FORMAT JSON) EXECUTE p(NULL)` of a
    /// generic plan, verbatim (`tests/db/plans.rs` parses the server's own
    /// output as well).
    const SEQ_SCAN: &str = r#"[
  {
    "Plan": {
      "Node Type": "Aggregate",
      "Strategy": "Plain",
      "Partial Mode": "Simple",
      "Parallel Aware": false,
      "Async Capable": false,
      "Startup Cost": 103.00,
      "Total Cost": 103.01,
      "Plan Rows": 1,
      "Plan Width": 8,
      "Plans": [
        {
          "Node Type": "Seq Scan",
          "Parent Relationship": "Outer",
          "Parallel Aware": false,
          "Async Capable": false,
          "Relation Name": "orders",
          "Alias": "orders",
          "Startup Cost": 0.00,
          "Total Cost": 103.00,
          "Plan Rows": 1,
          "Plan Width": 0,
          "Filter": "((total > 42) AND (customer = $1))"
        }
      ]
    }
  }
]"#;

    const JOIN: &str = r#"[
  {
    "Plan": {
      "Node Type": "Nested Loop",
      "Parallel Aware": false,
      "Async Capable": false,
      "Join Type": "Inner",
      "Startup Cost": 0.28,
      "Total Cost": 8.31,
      "Plan Rows": 1,
      "Plan Width": 4,
      "Inner Unique": true,
      "Join Filter": "(o.customer = c.name)",
      "Plans": [
        {
          "Node Type": "Index Scan",
          "Parent Relationship": "Outer",
          "Parallel Aware": false,
          "Async Capable": false,
          "Scan Direction": "Forward",
          "Index Name": "orders_pkey",
          "Relation Name": "orders",
          "Alias": "o",
          "Startup Cost": 0.28,
          "Total Cost": 8.30,
          "Plan Rows": 1,
          "Plan Width": 9,
          "Index Cond": "(id = $1)"
        },
        {
          "Node Type": "Seq Scan",
          "Parent Relationship": "Inner",
          "Parallel Aware": false,
          "Async Capable": false,
          "Relation Name": "customers",
          "Alias": "c",
          "Startup Cost": 0.00,
          "Total Cost": 0.00,
          "Plan Rows": 1,
          "Plan Width": 32,
          "Filter": "(region = 'MARKER-xyz'::text)"
        }
      ]
    }
  }
]"#;

    #[test]
    fn a_seq_scan_with_its_filter_literals_masked() {
        let n = nodes(SEQ_SCAN).unwrap();
        assert_eq!(n.len(), 2);
        assert_eq!((n[0].depth, n[0].node_type.as_str()), (0, "Aggregate"));
        let scan = &n[1];
        assert_eq!((scan.depth, scan.node_type.as_str()), (1, "Seq Scan"));
        assert_eq!(scan.relation.as_deref(), Some("orders"));
        assert_eq!(scan.total_cost, 103.0);
        assert_eq!(scan.conditions.len(), 1);
        assert_eq!(scan.conditions[0].kind, "Filter");
        assert_eq!(
            scan.conditions[0].expression,
            "((total > ?) AND (customer = $1))"
        );
        assert_eq!(scan.filter_column().as_deref(), Some("customer"));
    }

    #[test]
    fn a_join_keeps_its_index_and_no_literal() {
        let n = nodes(JOIN).unwrap();
        let kinds: Vec<_> = n.iter().map(|n| n.node_type.as_str()).collect();
        assert_eq!(kinds, ["Nested Loop", "Index Scan", "Seq Scan"]);
        assert_eq!(n[1].index.as_deref(), Some("orders_pkey"));
        assert_eq!(n[0].conditions[0].kind, "Join Filter");
        let all = format!("{n:?}");
        assert!(!all.contains("MARKER"), "{all}");
        assert!(!all.contains("Alias"), "{all}");
        assert_eq!(n[2].conditions[0].expression, "(region = ?::text)");
        assert_eq!(n[2].filter_column().as_deref(), Some("region"));
    }

    #[test]
    fn verbose_names_the_schema_unless_public() {
        let doc = |schema: &str| {
            format!(
                r#"[{{"Plan": {{"Node Type": "Seq Scan", "Relation Name": "orders", "Schema": "{schema}", "Plan Rows": 3, "Total Cost": 1.5, "Output": ["'MARKER'::text"]}}}}]"#
            )
        };
        let n = nodes(&doc("shop")).unwrap();
        assert_eq!(n[0].relation.as_deref(), Some("shop.orders"));
        assert_eq!(qualified_ident("shop.orders"), "\"shop\".\"orders\"");
        assert!(!format!("{n:?}").contains("MARKER"), "Output is dropped");
        let n = nodes(&doc("public")).unwrap();
        assert_eq!(n[0].relation.as_deref(), Some("orders"));
        assert_eq!(qualified_ident("orders"), "\"orders\"");
    }

    #[test]
    fn anything_else_is_no_plan() {
        for bad in ["", "{}", "[]", "[{}]", "[{\"Plan\": {}}]", "not json"] {
            assert!(nodes(bad).is_none(), "{bad}");
        }
    }
}
