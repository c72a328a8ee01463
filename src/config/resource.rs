//! The resource attributes the configuration decides: `service.instance.id`,
//! and which of `OTEL_RESOURCE_ATTRIBUTES` the pipeline may not take as
//! written.

use std::sync::OnceLock;

use opentelemetry_sdk::trace::{IdGenerator as _, RandomIdGenerator};

use crate::names;

/// `service.instance.id`: the one of `OTEL_RESOURCE_ATTRIBUTES` when set,
/// else [`process_instance_id`].
pub(crate) fn service_instance_id(attributes: &[(String, String)]) -> String {
    attributes
        .iter()
        .rev()
        .find(|(k, _)| k == names::SERVICE_INSTANCE_ID)
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| process_instance_id().to_owned())
}

/// A random UUID v4, generated once per process: every pipeline of the
/// process (a test building two, a rebuild after a config reload) names the
/// same instance, and two replicas of one service never share one, so their
/// series stay apart (Grafana maps `service.instance.id` to `instance`).
pub fn process_instance_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    // The SDK's trace-id generator already draws 128 bits from a
    // CSPRNG seeded by the OS, which spares a UUID dependency.
    ID.get_or_init(|| uuid_v4(RandomIdGenerator::default().new_trace_id().to_bytes()))
}

/// Formats 16 random bytes as an RFC 9562 version-4 UUID (the version and
/// variant bits set, 122 random bits left).
fn uuid_v4(mut b: [u8; 16]) -> String {
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// Whether `s` is a UUID v4 as [`uuid_v4`] writes it (lower-case hex).
#[cfg(test)]
pub(crate) fn is_uuid_v4(s: &str) -> bool {
    let b = s.as_bytes();
    s.len() == 36
        && [8, 13, 18, 23].iter().all(|&i| b[i] == b'-')
        && b[14] == b'4'
        && matches!(b[19], b'8' | b'9' | b'a' | b'b')
        && s.chars()
            .enumerate()
            .all(|(i, c)| [8, 13, 18, 23].contains(&i) || matches!(c, '0'..='9' | 'a'..='f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_v4_sets_version_and_variant() {
        assert_eq!(uuid_v4([0xff; 16]), "ffffffff-ffff-4fff-bfff-ffffffffffff");
        assert_eq!(uuid_v4([0; 16]), "00000000-0000-4000-8000-000000000000");
        assert!(is_uuid_v4(&uuid_v4([0x5a; 16])));
    }

    #[test]
    fn the_process_id_is_a_stable_uuid() {
        let id = process_instance_id();
        assert!(is_uuid_v4(id), "{id}");
        assert_eq!(process_instance_id(), id);
        assert_ne!(id, "00000000-0000-4000-8000-000000000000");
    }

    #[test]
    fn a_user_set_instance_id_wins() {
        let attrs = vec![("service.instance.id".to_owned(), "pod-7".to_owned())];
        assert_eq!(service_instance_id(&attrs), "pod-7");
        assert_eq!(service_instance_id(&[]), process_instance_id());
    }
}
