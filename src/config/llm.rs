//! Settings of the LLM instrumentation and the Anthropic adapter.

use std::path::PathBuf;
use std::time::Duration;

use super::{ConfigError, Env, Secret};

/// Settings of `wingspan::llm`; each builder can override them.
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
    /// `WINGSPAN_LLM_PRICING_FILE`: a JSON pricing file layered over the
    /// shipped prices (`llm::Pricing::from_config` reads it). Defaults to
    /// none.
    pub pricing_file: Option<PathBuf>,
    /// `WINGSPAN_LLM_PRICES`: `model=input/output/cache_read/cache_write,...`
    /// in USD per million tokens, layered over the file. Defaults to none.
    pub prices: Option<String>,
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
            pricing_file: env.get("WINGSPAN_LLM_PRICING_FILE").map(PathBuf::from),
            prices: env.get("WINGSPAN_LLM_PRICES"),
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
        assert_eq!((c.pricing_file, c.prices), (None, None));
        assert_eq!(c.max_retries, 2);
        assert_eq!(c.anthropic_base_url, "https://api.anthropic.com");
        assert!(c.anthropic_api_key.is_none());
        assert!(!c.cross_origin_redirects);
    }

    #[test]
    fn bad_values_name_variable_value_and_what_is_accepted() {
        let e = from(&[("WINGSPAN_LLM_CAPTURE_CONTENT", "sometimes")]).unwrap_err();
        assert_eq!(e.variable, "WINGSPAN_LLM_CAPTURE_CONTENT");

        let e = from(&[("ANTHROPIC_BASE_URL", "api.anthropic.com")]).unwrap_err();
        assert_eq!(e.variable, "ANTHROPIC_BASE_URL");
    }

    #[test]
    fn api_key_is_secret() {
        let c = from(&[("ANTHROPIC_API_KEY", "sk-ant-secret")]).unwrap();
        assert!(!format!("{c:?}").contains("sk-ant-secret"));
    }
}
