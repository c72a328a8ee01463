//! Each format with its own documents' examples: extracted, then injected
//! back (the round trip a service in the middle of a trace makes).

use std::collections::HashMap;

use opentelemetry::baggage::BaggageExt;
use opentelemetry::trace::TraceContextExt;

use super::*;

fn map(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), (*v).to_owned()))
        .collect()
}

fn present(headers: &HashMap<String, String>) -> Present {
    let mut p = Present::default();
    for k in headers.keys() {
        p.note(k);
    }
    p
}

/// The context `list` reads from `pairs`, as the HTTP layer reads it.
fn extract(list: &[Propagator], pairs: &[(&str, &str)]) -> Context {
    let headers = map(pairs);
    let propagation = Propagation::new(list);
    let present = present(&headers);
    assert!(propagation.reads_trace(present) || propagation.reads_baggage(present));
    let cx = propagation.extract_trace(present, &headers);
    propagation.extract_baggage(cx, present, &headers)
}

fn ids(cx: &Context) -> (String, String, bool) {
    let sc = cx.span().span_context().clone();
    assert!(sc.is_valid(), "no context");
    assert!(sc.is_remote());
    (
        sc.trace_id().to_string(),
        sc.span_id().to_string(),
        sc.is_sampled(),
    )
}

fn inject(list: &[Propagator], cx: &Context, baggage: bool) -> HashMap<String, String> {
    let mut out = HashMap::new();
    Propagation::new(list).inject(cx, &mut out, baggage);
    out
}

// github.com/openzipkin/b3-propagation, "Single Header" and "Multiple Headers".
const B3_TRACE: &str = "80f198ee56343ba864fe8b2a57d3eff7";
const B3_SPAN: &str = "e457b5a2e4d86bd1";

#[test]
fn b3_single_header_round_trip() {
    let cx = extract(
        &[Propagator::B3],
        &[(
            "b3",
            "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90",
        )],
    );
    assert_eq!(ids(&cx), (B3_TRACE.into(), B3_SPAN.into(), true));
    let out = inject(&[Propagator::B3], &cx, false);
    assert_eq!(out["b3"], format!("{B3_TRACE}-{B3_SPAN}-1"));
    assert_eq!(out.len(), 1);
}

#[test]
fn b3_multiple_headers_round_trip() {
    let cx = extract(
        &[Propagator::B3Multi],
        &[
            ("X-B3-TraceId", B3_TRACE),
            ("X-B3-ParentSpanId", "05e3ac9a4f6e3b90"),
            ("X-B3-SpanId", B3_SPAN),
            ("X-B3-Sampled", "1"),
        ],
    );
    assert_eq!(ids(&cx), (B3_TRACE.into(), B3_SPAN.into(), true));
    let out = inject(&[Propagator::B3Multi], &cx, false);
    assert_eq!(out["x-b3-traceid"], B3_TRACE);
    assert_eq!(out["x-b3-spanid"], B3_SPAN);
    assert_eq!(out["x-b3-sampled"], "1");
}

#[test]
fn b3_reads_both_forms_single_first_and_its_sampling_states() {
    // Configured for the single header, the multi-header form is read too.
    let cx = extract(
        &[Propagator::B3],
        &[("X-B3-TraceId", B3_TRACE), ("X-B3-SpanId", B3_SPAN)],
    );
    assert_eq!(ids(&cx).0, B3_TRACE);
    // Both: the single header wins.
    let cx = extract(
        &[Propagator::B3Multi],
        &[
            ("b3", "80f198ee56343ba8-e457b5a2e4d86bd1-d"),
            ("X-B3-TraceId", B3_TRACE),
            ("X-B3-SpanId", "05e3ac9a4f6e3b90"),
        ],
    );
    // A 64-bit trace id is zero-padded; debug (`d`) implies sampled.
    assert_eq!(
        ids(&cx),
        (
            "000000000000000080f198ee56343ba8".into(),
            B3_SPAN.into(),
            true
        )
    );
    // Flags only the W3C bit: the debug state never reaches traceparent.
    assert_eq!(cx.span().span_context().trace_flags().to_u8(), 1);
    for (sampled, flags, expected) in [
        (Some("true"), None, true),
        (Some("0"), None, false),
        (None, Some("1"), true),
        (None, None, false),
    ] {
        let mut pairs = vec![("X-B3-TraceId", B3_TRACE), ("X-B3-SpanId", B3_SPAN)];
        pairs.extend(sampled.map(|s| ("X-B3-Sampled", s)));
        pairs.extend(flags.map(|f| ("X-B3-Flags", f)));
        assert_eq!(
            ids(&extract(&[Propagator::B3], &pairs)).2,
            expected,
            "{pairs:?}"
        );
    }
}

// docs.aws.amazon.com/xray, "Tracing header".
const XRAY: &str = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";

#[test]
fn xray_round_trip() {
    let cx = extract(&[Propagator::XRay], &[("X-Amzn-Trace-Id", XRAY)]);
    assert_eq!(
        ids(&cx),
        (
            "5759e988bd862e3fe1be46a994272793".into(),
            "53995c3f42cd8ad8".into(),
            true
        )
    );
    let out = inject(&[Propagator::XRay], &cx, false);
    assert_eq!(out["x-amzn-trace-id"], XRAY);
}

#[test]
fn xray_deferred_sampling_keeps_only_the_w3c_bit() {
    let cx = extract(
        &[Propagator::XRay],
        &[(
            "X-Amzn-Trace-Id",
            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=?",
        )],
    );
    assert_eq!(cx.span().span_context().trace_flags().to_u8(), 0);
}

#[test]
fn jaeger_round_trip_with_baggage() {
    // Jaeger clients' documented form, a 64-bit trace id and the
    // deprecated parent id; and the URL-encoded variant.
    for value in [
        "51729f13a64c2ef3:258169797d519815:51729f13a64c2ef3:1",
        "51729f13a64c2ef3%3A258169797d519815%3A51729f13a64c2ef3%3A1",
    ] {
        let cx = extract(
            &[Propagator::Jaeger],
            &[("uber-trace-id", value), ("uberctx-tenant", "acme%20corp")],
        );
        assert_eq!(
            ids(&cx),
            (
                "000000000000000051729f13a64c2ef3".into(),
                "258169797d519815".into(),
                true
            )
        );
        assert_eq!(
            cx.baggage().get("tenant").map(|v| v.as_str().to_owned()),
            Some("acme corp".into())
        );
        let out = inject(&[Propagator::Jaeger], &cx, true);
        assert_eq!(
            out["uber-trace-id"],
            "000000000000000051729f13a64c2ef3:258169797d519815:0:01"
        );
        assert_eq!(out["uberctx-tenant"], "acme%20corp");
        assert!(!inject(&[Propagator::Jaeger], &cx, false).contains_key("uberctx-tenant"));
    }
    // Debug (2) implies sampled; 0 is not sampled.
    let cx = extract(&[Propagator::Jaeger], &[("uber-trace-id", "abc:def:0:2")]);
    assert_eq!(
        ids(&cx),
        (
            "00000000000000000000000000000abc".into(),
            "0000000000000def".into(),
            true
        )
    );
    let cx = extract(&[Propagator::Jaeger], &[("uber-trace-id", "abc:def:0:0")]);
    assert!(!ids(&cx).2);
}

#[test]
fn ottrace_round_trip_with_baggage() {
    let cx = extract(
        &[Propagator::OtTrace],
        &[
            ("ot-tracer-traceid", "80f198ee56343ba8"),
            ("ot-tracer-spanid", B3_SPAN),
            ("ot-tracer-sampled", "true"),
            ("ot-baggage-tenant", "acme"),
        ],
    );
    assert_eq!(
        ids(&cx),
        (
            "000000000000000080f198ee56343ba8".into(),
            B3_SPAN.into(),
            true
        )
    );
    let out = inject(&[Propagator::OtTrace], &cx, true);
    assert_eq!(out["ot-tracer-traceid"], "80f198ee56343ba8");
    assert_eq!(out["ot-tracer-spanid"], B3_SPAN);
    assert_eq!(out["ot-tracer-sampled"], "true");
    assert_eq!(out["ot-baggage-tenant"], "acme");
}

#[test]
fn every_configured_format_is_written() {
    let all = [
        Propagator::TraceContext,
        Propagator::Baggage,
        Propagator::B3,
        Propagator::B3Multi,
        Propagator::Jaeger,
        Propagator::XRay,
        Propagator::OtTrace,
    ];
    let cx = extract(&[Propagator::XRay], &[("X-Amzn-Trace-Id", XRAY)]);
    let out = inject(&all, &cx, false);
    for header in [
        "traceparent",
        "b3",
        "x-b3-traceid",
        "uber-trace-id",
        "x-amzn-trace-id",
        "ot-tracer-traceid",
    ] {
        assert!(out.contains_key(header), "{header}: {out:?}");
    }
    let propagation = Propagation::new(&all);
    let fields: Vec<&str> = propagation.fields().collect();
    assert!(fields.contains(&"x-amzn-trace-id"), "{fields:?}");
    // `none` writes nothing.
    assert!(inject(&[Propagator::None], &cx, true).is_empty());
}

#[test]
fn headers_of_unconfigured_formats_are_not_read() {
    let headers = map(&[("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1")]);
    let p = Propagation::new(&Propagator::defaults());
    assert!(!p.reads_trace(present(&headers)));
    let p = Propagation::new(&[Propagator::None]);
    assert!(!p.reads_trace(Present::ALL) && !p.reads_baggage(Present::ALL));
}

#[test]
fn a_later_valid_context_wins_and_an_invalid_one_changes_nothing() {
    let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let b3 = "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1";
    let both = [("traceparent", tp), ("b3", b3)];
    let cx = extract(&[Propagator::TraceContext, Propagator::B3], &both);
    assert_eq!(ids(&cx).0, B3_TRACE);
    let cx = extract(&[Propagator::B3, Propagator::TraceContext], &both);
    assert_eq!(ids(&cx).0, "4bf92f3577b34da6a3ce929d0e0e4736");
    let cx = extract(
        &[Propagator::TraceContext, Propagator::B3],
        &[("traceparent", tp), ("b3", "garbage")],
    );
    assert_eq!(ids(&cx).0, "4bf92f3577b34da6a3ce929d0e0e4736");
}

#[test]
fn malformed_headers_give_no_context() {
    let all = [
        Propagator::B3,
        Propagator::Jaeger,
        Propagator::XRay,
        Propagator::OtTrace,
    ];
    let long = "f".repeat(10_000);
    for pairs in [
        vec![("b3", "0")],
        vec![("b3", "-")],
        vec![("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-x")],
        vec![(
            "b3",
            "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-zz-1",
        )],
        vec![("b3", "+0f198ee56343ba8-e457b5a2e4d86bd1")],
        vec![("b3", "00000000000000000000000000000000-e457b5a2e4d86bd1-1")],
        vec![("x-b3-traceid", B3_TRACE)],
        vec![
            ("x-b3-traceid", B3_TRACE),
            ("x-b3-spanid", "é457b5a2e4d86bd"),
        ],
        vec![("uber-trace-id", "1:2:3")],
        vec![("uber-trace-id", "0:1:0:1")],
        vec![("uber-trace-id", "1:0:0:1")],
        vec![("uber-trace-id", "1:1:0:1:1")],
        vec![("uber-trace-id", "1:1:0:100")],
        vec![("uber-trace-id", "%ZZ")],
        vec![("uber-trace-id", long.as_str())],
        vec![(
            "x-amzn-trace-id",
            "Root=1-5759e988-bd862e3fe1be46a994272793",
        )],
        vec![("x-amzn-trace-id", "Root=garbage;Parent=53995c3f42cd8ad8")],
        vec![("x-amzn-trace-id", long.as_str())],
        vec![("ot-tracer-traceid", "80f198ee56343ba8")],
        vec![
            ("ot-tracer-traceid", "80f198ee56343b"),
            ("ot-tracer-spanid", B3_SPAN),
        ],
    ] {
        let headers = map(&pairs);
        let cx = Propagation::new(&all).extract_trace(present(&headers), &headers);
        assert!(!cx.span().span_context().is_valid(), "{pairs:?}");
    }
}
