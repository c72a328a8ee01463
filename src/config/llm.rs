//! Settings of the LLM instrumentation and the Anthropic adapter.

use std::time::Duration;

use super::{ConfigError, Env, Secret};
use crate::llm::Pricing;

/// Settings of [`crate::llm`]; each builder can override them.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct LlmConfig {
    /// `WINGSPAN_LLM_CAPTURE_CONTENT`: record prompts, system instructions
    /// and completions on gen_ai spans (`gen_ai.input.messages`, ...).
    /// Defaults to false: content never leaves the process.
    pub capture_content: bool,
    /// `WINGSPAN_LLM_CONTENT_MAX_BYTES`: with capture on, each text is cut to
    /// this many bytes. Defaults to 2048.
    pub content_max_bytes: usize,
    /// `WINGSPAN_LLM_MAX_TASKS`: distinct `wingspan.gen_ai.task` values kept
    /// before new ones count as `other`. Defaults to 32.
    pub max_tasks: usize,
    /// The shipped prices, then `WINGSPAN_LLM_PRICING_FILE` (JSON), then
    /// `WINGSPAN_LLM_PRICES` (`model=input/output/cache_read/cache_write,...`).
    pub pricing: Pricing,
    /// `ANTHROPIC_BASE_URL`. Defaults to `https://api.anthropic.com`.
    pub anthropic_base_url: String,
    /// `ANTHROPIC_API_KEY`. Defaults to none (the adapter then sends no key).
    pub anthropic_api_key: Option<Secret>,
    /// `WINGSPAN_LLM_TIMEOUT`: seconds one HTTP attempt may take to answer
    /// (headers and a whole non-streamed body; for a stream, the wait for
    /// each next chunk). Defaults to 60.
    pub timeout: Duration,
    /// `WINGSPAN_LLM_MAX_RETRIES`: resends after 408, 409, 429, 5xx (529
    /// included), connection failures and timeouts. Defaults to 2.
    pub max_retries: u32,
    /// `WINGSPAN_LLM_MAX_RETRY_WAIT`: the longest `retry-after` (s) honoured;
    /// a longer one ends the call with the server's answer. Defaults to 30.
    pub max_retry_wait: Duration,
    /// `WINGSPAN_LLM_CROSS_ORIGIN_REDIRECTS`: follow a redirect to another
    /// origin (scheme, host, port), without the API key or any credential
    /// and, after 301/302/303, without the body. Defaults to false: such a
    /// redirect ends the call (`error.type=redirect`) and the other origin
    /// gets nothing.
    pub cross_origin_redirects: bool,
}

impl LlmConfig {
    pub(crate) fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        let mut pricing = Pricing::shipped();
        if let Some(path) = env.get("WINGSPAN_LLM_PRICING_FILE") {
            let text = std::fs::read_to_string(&path).map_err(|e| {
                ConfigError::invalid(
                    "WINGSPAN_LLM_PRICING_FILE",
                    &path,
                    &format!("a readable JSON pricing file ({e})"),
                )
            })?;
            pricing.merge_json(&text).map_err(|e| {
                ConfigError::invalid(
                    "WINGSPAN_LLM_PRICING_FILE",
                    &path,
                    &format!(
                        "JSON {{\"models\": {{\"<model>\": {{\"input\": 3, \"output\": 15, \"cache_read\": 0.3, \"cache_write\": 3.75, \"aliases\": []}}}}}} in USD per million tokens ({e})"
                    ),
                )
            })?;
        }
        if let Some(list) = env.get("WINGSPAN_LLM_PRICES") {
            pricing.merge_list(&list).map_err(|e| {
                ConfigError::invalid(
                    "WINGSPAN_LLM_PRICES",
                    &list,
                    &format!(
                        "comma-separated model=input/output/cache_read/cache_write in USD per million tokens, each 0 to 10000 ({e})"
                    ),
                )
            })?;
        }
        let base_url = env.string("ANTHROPIC_BASE_URL", "https://api.anthropic.com");
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            return Err(ConfigError::invalid(
                "ANTHROPIC_BASE_URL",
                &base_url,
                "an http:// or https:// URL",
            ));
        }
        Ok(Self {
            capture_content: env.bool("WINGSPAN_LLM_CAPTURE_CONTENT", false)?,
            content_max_bytes: env.u64_in("WINGSPAN_LLM_CONTENT_MAX_BYTES", 2048, 0, 1 << 20)?
                as usize,
            max_tasks: env.u64_in("WINGSPAN_LLM_MAX_TASKS", 32, 1, 1000)? as usize,
            pricing,
            anthropic_base_url: base_url.trim_end_matches('/').to_owned(),
            anthropic_api_key: env.get("ANTHROPIC_API_KEY").map(Secret::new),
            timeout: Duration::from_secs(env.u64_in("WINGSPAN_LLM_TIMEOUT", 60, 1, 3600)?),
            max_retries: env.u64_in("WINGSPAN_LLM_MAX_RETRIES", 2, 0, 10)? as u32,
            max_retry_wait: env.secs("WINGSPAN_LLM_MAX_RETRY_WAIT", 30, 600)?,
            cross_origin_redirects: env.bool("WINGSPAN_LLM_CROSS_ORIGIN_REDIRECTS", false)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(vars: &[(&str, &str)]) -> Result<LlmConfig, ConfigError> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let lookup = move |k: &str| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        LlmConfig::from_env(&Env::new(&lookup))
    }

    #[test]
    fn defaults() {
        let c = from(&[]).unwrap();
        assert!(!c.capture_content);
        assert_eq!(c.pricing, Pricing::shipped());
        assert_eq!(c.max_retries, 2);
        assert_eq!(c.anthropic_base_url, "https://api.anthropic.com");
        assert!(c.anthropic_api_key.is_none());
        assert!(!c.cross_origin_redirects);
    }

    #[test]
    fn prices_from_the_environment_override_the_shipped_ones() {
        let c = from(&[(
            "WINGSPAN_LLM_PRICES",
            "claude-sonnet-4-5=1/2/0.1/1.5,mine=4/8/0/0",
        )])
        .unwrap();
        assert_eq!(
            c.pricing
                .resolve("claude-sonnet-4-5-20250929")
                .unwrap()
                .1
                .output,
            2.0
        );
        assert!(c.pricing.resolve("mine").is_some());
        assert!(c.pricing.resolve("claude-haiku-4-5").is_some());
    }

    #[test]
    fn bad_values_name_variable_value_and_what_is_accepted() {
        let e = from(&[("WINGSPAN_LLM_PRICES", "sonnet=3/15")]).unwrap_err();
        assert_eq!(e.variable, "WINGSPAN_LLM_PRICES");
        assert_eq!(e.value, "sonnet=3/15");
        assert!(
            e.expected
                .contains("model=input/output/cache_read/cache_write"),
            "{e}"
        );

        let e = from(&[("WINGSPAN_LLM_PRICING_FILE", "/nonexistent/prices.json")]).unwrap_err();
        assert_eq!(e.variable, "WINGSPAN_LLM_PRICING_FILE");
        assert_eq!(e.value, "/nonexistent/prices.json");
        assert!(e.expected.contains("readable JSON"), "{e}");

        let e = from(&[("WINGSPAN_LLM_CAPTURE_CONTENT", "sometimes")]).unwrap_err();
        assert_eq!(e.variable, "WINGSPAN_LLM_CAPTURE_CONTENT");

        let e = from(&[("ANTHROPIC_BASE_URL", "api.anthropic.com")]).unwrap_err();
        assert_eq!(e.variable, "ANTHROPIC_BASE_URL");
    }

    #[test]
    fn pricing_file_is_read_and_validated() {
        let dir = std::env::temp_dir().join(format!("wingspan-prices-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("good.json");
        std::fs::write(
            &good,
            r#"{"models": {"house-model": {"input": 1, "output": 2, "cache_read": 0, "cache_write": 0, "aliases": ["house"]}}}"#,
        )
        .unwrap();
        let c = from(&[("WINGSPAN_LLM_PRICING_FILE", good.to_str().unwrap())]).unwrap();
        assert_eq!(c.pricing.resolve("house").unwrap().0, "house-model");

        let bad = dir.join("bad.json");
        std::fs::write(&bad, r#"{"models": {"m": {"input": "three"}}}"#).unwrap();
        let e = from(&[("WINGSPAN_LLM_PRICING_FILE", bad.to_str().unwrap())]).unwrap_err();
        assert!(e.expected.contains("USD per million tokens"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn api_key_is_secret() {
        let c = from(&[("ANTHROPIC_API_KEY", "sk-ant-secret")]).unwrap();
        assert!(!format!("{c:?}").contains("sk-ant-secret"));
    }
}
