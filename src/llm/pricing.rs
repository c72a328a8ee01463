//! What a call costs: a table of per-model prices (USD per million tokens)
//! with shipped defaults for the Claude models, overridable from a JSON file
//! and from the environment. A model the table does not know is unpriced:
//! counted as such, never guessed from a similar name.

use std::collections::HashMap;

use serde::Deserialize;

use super::Usage;
use crate::config::{ConfigError, LlmConfig};

/// Prices of one model in USD per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    /// Uncached input tokens.
    pub input: f64,
    /// Output tokens.
    pub output: f64,
    /// Input tokens read from the prompt cache (cache hits).
    pub cache_read: f64,
    /// Input tokens written to the prompt cache (the 5-minute write rate).
    pub cache_write: f64,
}

impl Price {
    /// A price from its four rates, in USD per million tokens.
    pub const fn new(input: f64, output: f64, cache_read: f64, cache_write: f64) -> Self {
        Self {
            input,
            output,
            cache_read,
            cache_write,
        }
    }

    /// What `usage` costs at these prices.
    pub fn cost(&self, usage: &Usage) -> Cost {
        let per = |tokens: u64, usd_per_mtok: f64| tokens as f64 * usd_per_mtok / 1_000_000.0;
        Cost {
            input: per(usage.input_tokens, self.input),
            cache_read: per(usage.cache_read_input_tokens, self.cache_read),
            cache_write: per(usage.cache_creation_input_tokens, self.cache_write),
            output: per(usage.output_tokens, self.output),
        }
    }

    fn check(&self) -> Result<(), String> {
        for (name, v) in [
            ("input", self.input),
            ("output", self.output),
            ("cache_read", self.cache_read),
            ("cache_write", self.cache_write),
        ] {
            if !(v.is_finite() && (0.0..=MAX_PRICE).contains(&v)) {
                return Err(format!(
                    "{name} price {v} is not a number from 0 to {MAX_PRICE}"
                ));
            }
        }
        Ok(())
    }
}

/// No model costs more than this per million tokens: a larger figure is a typo.
const MAX_PRICE: f64 = 10_000.0;

/// The cost of one call in USD, by token category.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Cost {
    /// Uncached input.
    pub input: f64,
    /// Prompt-cache reads.
    pub cache_read: f64,
    /// Prompt-cache writes.
    pub cache_write: f64,
    /// Output.
    pub output: f64,
}

impl Cost {
    /// The sum of the four categories.
    pub fn total(&self) -> f64 {
        self.input + self.cache_read + self.cache_write + self.output
    }
}

/// When the shipped prices were read, and where.
pub const PRICES_AS_OF: &str = "2026-11-27";
/// The page the shipped prices come from.
pub const PRICES_SOURCE: &str = "https://platform.claude.com/docs/en/about-claude/pricing";

/// The shipped defaults: `(model, [input, output, cache read, cache write])`
/// in USD per million tokens, cache writes at the 5-minute rate.
const SHIPPED: &[(&str, Price)] = &[
    ("claude-fable-5-1", Price::new(10.0, 50.0, 0.25, 12.5)),
    ("claude-fable-5", Price::new(10.0, 50.0, 1.0, 12.5)),
    ("claude-opus-5-5", Price::new(4.0, 20.0, 0.2, 5.0)),
    ("claude-opus-5", Price::new(5.0, 25.0, 0.5, 6.25)),
    ("claude-opus-4-8", Price::new(5.0, 25.0, 0.5, 6.25)),
    ("claude-opus-4-7", Price::new(5.0, 25.0, 0.5, 6.25)),
    ("claude-opus-4-6", Price::new(5.0, 25.0, 0.5, 6.25)),
    ("claude-opus-4-5", Price::new(5.0, 25.0, 0.5, 6.25)),
    ("claude-opus-4-1", Price::new(15.0, 75.0, 1.5, 18.75)),
    ("claude-opus-4", Price::new(15.0, 75.0, 1.5, 18.75)),
    ("claude-sonnet-5-5", Price::new(2.0, 10.0, 0.2, 2.5)),
    ("claude-sonnet-5", Price::new(2.0, 10.0, 0.2, 2.5)),
    ("claude-sonnet-4-6", Price::new(3.0, 15.0, 0.3, 3.75)),
    ("claude-sonnet-4-5", Price::new(3.0, 15.0, 0.3, 3.75)),
    ("claude-sonnet-4", Price::new(3.0, 15.0, 0.3, 3.75)),
    ("claude-haiku-4-5", Price::new(1.0, 5.0, 0.1, 1.25)),
];

/// Shipped aliases: other spellings of a table entry.
const SHIPPED_ALIASES: &[(&str, &str)] = &[
    ("claude-opus-4-0", "claude-opus-4"),
    ("claude-sonnet-4-0", "claude-sonnet-4"),
];

/// A table of model prices. [`Pricing::shipped`] holds the defaults;
/// [`Pricing::from_config`] layers `WINGSPAN_LLM_PRICING_FILE` and
/// `WINGSPAN_LLM_PRICES` on top.
///
/// Lookups resolve spellings of one model to its entry: date suffixes
/// (`claude-sonnet-4-5-20250929`), Vertex (`claude-sonnet-4-5@20250929`) and
/// Bedrock (`us.anthropic.claude-sonnet-4-5-20250929-v1:0`) ids, a `[1m]`
/// suffix, `-latest`, an `anthropic/` prefix, and the aliases given.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Pricing {
    models: HashMap<String, Price>,
    aliases: HashMap<String, String>,
}

/// One entry of a pricing file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileEntry {
    #[serde(flatten)]
    price: Price,
    #[serde(default)]
    aliases: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    models: HashMap<String, FileEntry>,
}

impl Pricing {
    /// An empty table: every model is unpriced.
    pub fn empty() -> Self {
        Self::default()
    }

    /// The shipped defaults (see [`PRICES_AS_OF`] and [`PRICES_SOURCE`]).
    pub fn shipped() -> Self {
        let mut p = Self::empty();
        for (model, price) in SHIPPED {
            p.set(*model, *price);
        }
        for (alias, model) in SHIPPED_ALIASES {
            p.alias(*alias, *model);
        }
        p
    }

    /// The shipped prices, then the pricing file of
    /// [`LlmConfig::pricing_file`] (`WINGSPAN_LLM_PRICING_FILE`), then the
    /// list of [`LlmConfig::prices`] (`WINGSPAN_LLM_PRICES`). An unreadable
    /// or malformed source is a [`ConfigError`] naming its variable.
    pub fn from_config(config: &LlmConfig) -> Result<Self, ConfigError> {
        let mut pricing = Pricing::shipped();
        if let Some(path) = &config.pricing_file {
            let shown = path.display().to_string();
            let text = std::fs::read_to_string(path).map_err(|e| {
                ConfigError::invalid(
                    "WINGSPAN_LLM_PRICING_FILE",
                    &shown,
                    &format!("a readable JSON pricing file ({e})"),
                )
            })?;
            pricing.merge_json(&text).map_err(|e| {
                ConfigError::invalid(
                    "WINGSPAN_LLM_PRICING_FILE",
                    &shown,
                    &format!(
                        "JSON {{\"models\": {{\"<model>\": {{\"input\": 3, \"output\": 15, \"cache_read\": 0.3, \"cache_write\": 3.75, \"aliases\": []}}}}}} in USD per million tokens ({e})"
                    ),
                )
            })?;
        }
        if let Some(list) = &config.prices {
            pricing.merge_list(list).map_err(|e| {
                ConfigError::invalid(
                    "WINGSPAN_LLM_PRICES",
                    list,
                    &format!(
                        "comma-separated model=input/output/cache_read/cache_write in USD per million tokens, each 0 to 10000 ({e})"
                    ),
                )
            })?;
        }
        Ok(pricing)
    }

    /// Adds or replaces a model's prices.
    pub fn set(&mut self, model: impl AsRef<str>, price: Price) -> &mut Self {
        self.models.insert(normalize(model.as_ref()), price);
        self
    }

    /// Makes `alias` another name of the table entry `model`.
    pub fn alias(&mut self, alias: impl AsRef<str>, model: impl AsRef<str>) -> &mut Self {
        self.aliases
            .insert(normalize(alias.as_ref()), normalize(model.as_ref()));
        self
    }

    /// The table's models, sorted.
    pub fn models(&self) -> Vec<(&str, &Price)> {
        let mut v: Vec<_> = self.models.iter().map(|(k, p)| (k.as_str(), p)).collect();
        v.sort_by(|a, b| a.0.cmp(b.0));
        v
    }

    /// The table entry `model` resolves to, and its prices; `None` when the
    /// model is unknown (unpriced).
    pub fn resolve(&self, model: &str) -> Option<(&str, &Price)> {
        let name = strip_decorations(&normalize(model));
        self.lookup(&name)
            .or_else(|| strip_date(&name).and_then(|base| self.lookup(base)))
    }

    /// What `usage` cost on `model`: the resolved entry and the cost, or
    /// `None` when the model is unpriced.
    pub fn cost(&self, model: &str, usage: &Usage) -> Option<(&str, Cost)> {
        self.resolve(model)
            .map(|(name, price)| (name, price.cost(usage)))
    }

    fn lookup(&self, name: &str) -> Option<(&str, &Price)> {
        let key = self.aliases.get(name).map_or(name, String::as_str);
        self.models.get_key_value(key).map(|(k, p)| (k.as_str(), p))
    }

    /// Adds the entries of a pricing file's JSON text:
    /// `{"models": {"name": {"input": 3, "output": 15, "cache_read": 0.3,
    /// "cache_write": 3.75, "aliases": ["..."]}}}`.
    pub fn merge_json(&mut self, text: &str) -> Result<(), String> {
        let file: File = serde_json::from_str(text).map_err(|e| e.to_string())?;
        for (model, entry) in file.models {
            entry.price.check().map_err(|e| format!("{model}: {e}"))?;
            if model.trim().is_empty() {
                return Err("an empty model name".to_owned());
            }
            self.set(&model, entry.price);
            for alias in entry.aliases {
                self.alias(alias, &model);
            }
        }
        Ok(())
    }

    /// Adds the entries of `model=input/output/cache_read/cache_write,...`
    /// (USD per million tokens), the `WINGSPAN_LLM_PRICES` format.
    pub fn merge_list(&mut self, list: &str) -> Result<(), String> {
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (model, prices) = item
                .split_once('=')
                .ok_or_else(|| format!("{item:?} has no '='"))?;
            let model = model.trim();
            let v: Vec<f64> = prices
                .split('/')
                .map(|p| p.trim().parse::<f64>())
                .collect::<Result<_, _>>()
                .map_err(|_| format!("{item:?}: prices are not numbers"))?;
            let [input, output, cache_read, cache_write] = v[..] else {
                return Err(format!("{item:?}: expected four prices"));
            };
            let price = Price::new(input, output, cache_read, cache_write);
            price.check().map_err(|e| format!("{item:?}: {e}"))?;
            if model.is_empty() {
                return Err(format!("{item:?}: empty model name"));
            }
            self.set(model, price);
        }
        Ok(())
    }
}

fn normalize(model: &str) -> String {
    model.trim().to_ascii_lowercase()
}

/// Removes the provider decorations around a model id: gateway and Bedrock
/// prefixes, the Bedrock version, the Vertex `@date`, `[1m]`, `-latest`.
fn strip_decorations(name: &str) -> String {
    let mut s = name;
    if let Some(rest) = s.strip_prefix("anthropic/") {
        s = rest;
    }
    if let Some(i) = s.find("anthropic.") {
        // `anthropic.` or a Bedrock region prefix: `us.anthropic.`.
        s = &s[i + "anthropic.".len()..];
    }
    if let Some(i) = s.find('@') {
        s = &s[..i];
    }
    if let Some(rest) = s.strip_suffix("[1m]") {
        s = rest;
    }
    if let Some(i) = s.rfind("-v") {
        // Bedrock: `-v1:0`, `-v2:0`.
        let tail = &s[i + 2..];
        if !tail.is_empty() && tail.chars().all(|c| c.is_ascii_digit() || c == ':') {
            s = &s[..i];
        }
    }
    if let Some(rest) = s.strip_suffix("-latest") {
        s = rest;
    }
    s.to_owned()
}

/// `claude-sonnet-4-5-20250929` → `claude-sonnet-4-5`.
fn strip_date(name: &str) -> Option<&str> {
    let (base, date) = name.rsplit_once('-')?;
    (date.len() == 8 && date.bytes().all(|b| b.is_ascii_digit())).then_some(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(input: u64, read: u64, write: u64, output: u64) -> Usage {
        Usage {
            input_tokens: input,
            cache_read_input_tokens: read,
            cache_creation_input_tokens: write,
            output_tokens: output,
        }
    }

    /// Every shipped model, priced by hand for 1 000 input, 2 000 cache-read,
    /// 3 000 cache-write and 500 output tokens: input × 0.001 + read × 0.002 +
    /// write × 0.003 + output × 0.0005 (prices per million tokens).
    #[test]
    fn cost_of_every_shipped_model_matches_hand_computed_figures() {
        let expected: &[(&str, f64)] = &[
            // 10×0.001 + 0.25×0.002 + 12.5×0.003 + 50×0.0005 = 0.01 + 0.0005 + 0.0375 + 0.025
            ("claude-fable-5-1", 0.073),
            // 0.01 + 0.002 + 0.0375 + 0.025
            ("claude-fable-5", 0.0745),
            // 0.004 + 0.0004 + 0.015 + 0.01
            ("claude-opus-5-5", 0.0294),
            // 0.005 + 0.001 + 0.01875 + 0.0125
            ("claude-opus-5", 0.03725),
            ("claude-opus-4-8", 0.03725),
            ("claude-opus-4-7", 0.03725),
            ("claude-opus-4-6", 0.03725),
            ("claude-opus-4-5", 0.03725),
            // 0.015 + 0.003 + 0.05625 + 0.0375
            ("claude-opus-4-1", 0.11175),
            ("claude-opus-4", 0.11175),
            // 0.002 + 0.0004 + 0.0075 + 0.005
            ("claude-sonnet-5-5", 0.0149),
            ("claude-sonnet-5", 0.0149),
            // 0.003 + 0.0006 + 0.01125 + 0.0075
            ("claude-sonnet-4-6", 0.02235),
            ("claude-sonnet-4-5", 0.02235),
            ("claude-sonnet-4", 0.02235),
            // 0.001 + 0.0002 + 0.00375 + 0.0025
            ("claude-haiku-4-5", 0.00745),
        ];
        let p = Pricing::shipped();
        assert_eq!(
            p.models().len(),
            expected.len(),
            "a shipped model lacks a figure"
        );
        let u = usage(1_000, 2_000, 3_000, 500);
        for (model, total) in expected {
            let (name, cost) = p
                .cost(model, &u)
                .unwrap_or_else(|| panic!("{model} unpriced"));
            assert_eq!(name, *model);
            assert!(
                (cost.total() - total).abs() < 1e-12,
                "{model}: {} != {total}",
                cost.total()
            );
        }
    }

    #[test]
    fn categories_are_priced_separately() {
        let p = Pricing::shipped();
        let (_, c) = p
            .cost(
                "claude-sonnet-4-5",
                &usage(1_000_000, 1_000_000, 1_000_000, 1_000_000),
            )
            .unwrap();
        assert_eq!(
            (c.input, c.cache_read, c.cache_write, c.output),
            (3.0, 0.3, 3.75, 15.0)
        );
    }

    #[test]
    fn spellings_resolve_to_their_entry() {
        let p = Pricing::shipped();
        for (spelling, entry) in [
            ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
            ("Claude-Sonnet-4-5", "claude-sonnet-4-5"),
            ("claude-sonnet-4-5@20250929", "claude-sonnet-4-5"),
            (
                "anthropic.claude-sonnet-4-5-20250929-v1:0",
                "claude-sonnet-4-5",
            ),
            (
                "us.anthropic.claude-haiku-4-5-20251001-v1:0",
                "claude-haiku-4-5",
            ),
            ("anthropic/claude-opus-4-5", "claude-opus-4-5"),
            ("claude-opus-4-20250514", "claude-opus-4"),
            ("claude-opus-4-0", "claude-opus-4"),
            ("claude-sonnet-4-6[1m]", "claude-sonnet-4-6"),
            ("claude-haiku-4-5-latest", "claude-haiku-4-5"),
        ] {
            assert_eq!(
                p.resolve(spelling).map(|(n, _)| n),
                Some(entry),
                "{spelling}"
            );
        }
    }

    #[test]
    fn unknown_models_are_never_guessed() {
        let p = Pricing::shipped();
        for model in [
            "gpt-4o",
            "claude-sonnet-4-7",
            "claude-sonnet",
            "claude-sonnet-4-5-2025",
            "claude-haiku-5-5",
            "",
        ] {
            assert!(p.resolve(model).is_none(), "{model} was priced");
        }
    }

    #[test]
    fn json_file_overrides_and_adds() {
        let mut p = Pricing::shipped();
        p.merge_json(
            r#"{"models": {
                "claude-sonnet-4-5": {"input": 1, "output": 2, "cache_read": 0.5, "cache_write": 1.5},
                "my-finetune": {"input": 7, "output": 9, "cache_read": 0, "cache_write": 0, "aliases": ["ft"]}
            }}"#,
        )
        .unwrap();
        assert_eq!(
            p.resolve("claude-sonnet-4-5-20250929").unwrap().1.input,
            1.0
        );
        assert_eq!(p.resolve("ft").unwrap().0, "my-finetune");
        assert!(p.merge_json(r#"{"models": {"x": {"input": 1}}}"#).is_err());
        assert!(p
            .merge_json(r#"{"models": {"x": {"input": -1, "output": 1, "cache_read": 0, "cache_write": 0}}}"#)
            .is_err());
    }

    #[test]
    fn list_overrides_and_rejects_garbage() {
        let mut p = Pricing::empty();
        p.merge_list("a=1/2/0.1/1.25, b-model = 3/15/0.3/3.75")
            .unwrap();
        assert_eq!(p.resolve("b-model").unwrap().1.output, 15.0);
        for bad in [
            "a=1/2/3",
            "a",
            "a=x/1/1/1",
            "=1/1/1/1",
            "a=1/1/1/1e9",
            "a=NaN/1/1/1",
        ] {
            assert!(Pricing::empty().merge_list(bad).is_err(), "{bad}");
        }
    }

    fn from(vars: &[(&str, &str)]) -> Result<Pricing, ConfigError> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let config = crate::config::Config::from_lookup(move |k: &str| {
            vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
        })?;
        Pricing::from_config(&config.llm)
    }

    #[test]
    fn prices_from_the_environment_override_the_shipped_ones() {
        let pricing = from(&[(
            "WINGSPAN_LLM_PRICES",
            "claude-sonnet-4-5=1/2/0.1/1.5,mine=4/8/0/0",
        )])
        .unwrap();
        assert_eq!(
            pricing
                .resolve("claude-sonnet-4-5-20250929")
                .unwrap()
                .1
                .output,
            2.0
        );
        assert!(pricing.resolve("mine").is_some());
        assert!(pricing.resolve("claude-haiku-4-5").is_some());
        assert_eq!(from(&[]).unwrap(), Pricing::shipped());
    }

    #[test]
    fn bad_sources_name_variable_value_and_what_is_accepted() {
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
        let pricing = from(&[("WINGSPAN_LLM_PRICING_FILE", good.to_str().unwrap())]).unwrap();
        assert_eq!(pricing.resolve("house").unwrap().0, "house-model");

        let bad = dir.join("bad.json");
        std::fs::write(&bad, r#"{"models": {"m": {"input": "three"}}}"#).unwrap();
        let e = from(&[("WINGSPAN_LLM_PRICING_FILE", bad.to_str().unwrap())]).unwrap_err();
        assert!(e.expected.contains("USD per million tokens"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
