//! Hit rate per cache name (client side, errors out of the denominator as in
//! the WingspanCacheHitRateLow rule), Redis memory at its peak, evictions,
//! expirations and the average TTL Redis reports per database.

use crate::collect::Ctx;
use crate::model::{CacheFigures, Caches, RedisTtl, Section, Trend};
use crate::prom::PromError;

const NAME: &str = "wingspan_cache_name";
const REQUESTS: &str = "wingspan_cache_requests_total";

pub fn collect(ctx: &Ctx) -> Result<Section<Caches>, PromError> {
    let w = ctx.w();
    let count = |result: &str| {
        ctx.trends(
            &format!(
                "sum by ({NAME}) (increase({}[{w}]))",
                ctx.m(REQUESTS, &format!(r#"wingspan_cache_result=~"{result}""#))
            ),
            &[NAME],
        )
    };
    let reads = count("hit|miss")?;
    if reads.is_empty() {
        return Ok(Section::none(
            "No wingspan_cache_requests_total series in either window: the service has no Redis cache \
             (wingspan::cache), or it read nothing.",
        ));
    }
    let hits = count("hit")?;
    let errors = count("error")?;
    let ratio = |h: Option<f64>, r: Option<f64>| match r {
        Some(r) if r > 0.0 => Some(h.unwrap_or(0.0) / r),
        _ => None,
    };
    let caches = reads
        .iter()
        .map(|(key, r)| {
            let h = hits.get(key).copied().unwrap_or_default();
            let e = errors.get(key).copied().unwrap_or_default();
            CacheFigures {
                cache: key[0].clone(),
                hit_ratio: Trend::new(ratio(h.current, r.current), ratio(h.previous, r.previous)),
                reads: Trend::counted(r.current, r.previous),
                errors: Trend::counted(e.current, e.previous),
            }
        })
        .collect();
    let (mem_c, mem_p) = ctx.single(&format!(
        "sum(max_over_time({}[{w}]))",
        ctx.m("redis_memory_used_bytes", "")
    ))?;
    let (ev_c, ev_p) = ctx.single(&format!(
        "sum(increase({}[{w}]))",
        ctx.m("redis_keys_evicted_total", "")
    ))?;
    let (ex_c, ex_p) = ctx.single(&format!(
        "sum(increase({}[{w}]))",
        ctx.m("redis_keys_expired_total", "")
    ))?;
    let avg_ttl = ctx
        .prom
        .instant(
            &format!(
                "avg by (db_namespace) (avg_over_time({}[{w}]))",
                ctx.m("redis_db_avg_ttl_milliseconds", "")
            ),
            ctx.end,
        )?
        .iter()
        .filter_map(|s| {
            s.value().map(|ms| RedisTtl {
                // `db.namespace`: the database index.
                db: s.label("db_namespace").to_owned(),
                avg_ttl_seconds: ms / 1000.0,
            })
        })
        .collect();
    // Server metrics are absent when the cache's INFO poll never ran: no
    // figure rather than a zero.
    let server = |c: Option<f64>, p: Option<f64>| {
        if c.is_none() && p.is_none() {
            Trend::default()
        } else {
            Trend::counted(c, p)
        }
    };
    Ok(Section::some(Caches {
        caches,
        memory_peak_bytes: Trend::new(mem_c, mem_p),
        evictions: server(ev_c, ev_p),
        expired: server(ex_c, ex_p),
        avg_ttl,
    }))
}
