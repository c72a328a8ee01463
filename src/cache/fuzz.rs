//! Property test of the Redis masker (`db.query.text`): for any keys, fields,
//! values, separators and pipelines, building the text never panics, and no
//! key suffix, hash field or value marked secret appears in it.
//!
//! `WINGSPAN_FUZZ_CASES` sets the number of cases (see [`cases`]); a million
//! take about a minute:
//! `WINGSPAN_FUZZ_CASES=1000000 cargo test --release --all-features --lib fuzz_`.

use bytes::Bytes;
use fred::types::Value;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use super::query::{CommandText, Naming};
use crate::config::KeyDisplay;

/// In what must never be shown when keys are masked: key suffixes and hash
/// fields.
const KEY_MARK: char = '§';
/// In what must never be shown at all: values.
const VALUE_MARK: char = '¶';
/// Shown-by-design parts (command names, key prefixes) never hold a mark.
const MARKS: [char; 2] = [KEY_MARK, VALUE_MARK];

/// `WINGSPAN_FUZZ_CASES`, else 20 000 in an optimised build and 2 000 in a
/// debug one (the plain test run), where proptest is about 50 times slower.
fn cases() -> u32 {
    let default = if cfg!(debug_assertions) {
        2_000
    } else {
        20_000
    };
    std::env::var("WINGSPAN_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Characters texts are drawn from: separators, `;`, multi-byte and
/// zero-width ones, controls; `any` below adds every other code point.
const PALETTE: [char; 16] = [
    'a', 'Z', '0', ':', '/', '.', ' ', ';', '|', '?', 'é', '🔑', '漢', '\u{0}', '\u{feff}',
    '\u{301}',
];

/// Up to 8 characters from a seed: one value tree per text rather than one
/// per character keeps a million cases within a minute or so.
fn text() -> impl Strategy<Value = String> {
    (0usize..=8, any::<u64>()).prop_map(|(len, mut seed)| {
        (0..len)
            .map(|_| {
                // splitmix64
                seed = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
                let mut z = seed;
                z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
                z ^= z >> 31;
                match z % 4 {
                    0 => char::from_u32((z >> 8) as u32 % 0x11_0000).unwrap_or('\u{fffd}'),
                    _ => PALETTE[(z >> 8) as usize % PALETTE.len()],
                }
            })
            .filter(|c| !MARKS.contains(c))
            .collect()
    })
}

/// Any short text, with `mark` inserted at some position.
fn marked(mark: char) -> impl Strategy<Value = String> {
    (text(), any::<prop::sample::Index>()).prop_map(move |(text, at)| {
        let mut chars: Vec<char> = text.chars().collect();
        chars.insert(at.index(chars.len() + 1), mark);
        chars.into_iter().collect()
    })
}

/// Any short text without a mark.
fn plain() -> impl Strategy<Value = String> {
    text()
}

/// Mostly a few, sometimes past the masker's cap of 16.
fn few_or_many() -> impl Strategy<Value = usize> {
    prop_oneof![4 => 0usize..4, 1 => 14usize..20]
}

fn separator() -> impl Strategy<Value = char> {
    prop_oneof![
        prop::sample::select(vec![':', '/', '.', '|', ' ', 'é', '🔑']),
        any::<char>().prop_filter("not a mark", |c| !MARKS.contains(c)),
    ]
}

fn key_display() -> impl Strategy<Value = KeyDisplay> {
    prop_oneof![Just(KeyDisplay::Masked), Just(KeyDisplay::Full)]
}

/// A key: `prefix<sep>secret`, or a secret alone (no separator at all is
/// added, but the secret may hold one after its mark).
#[derive(Debug, Clone)]
struct Key {
    prefix: Option<String>,
    secret: String,
}

impl Key {
    fn text(&self, sep: char) -> String {
        match &self.prefix {
            // The cache name is the part before the *first* separator.
            Some(p) => format!("{}{sep}{}", p.replace(sep, ""), self.secret),
            None => self.secret.replace(sep, ""),
        }
    }
}

fn key() -> impl Strategy<Value = Key> {
    (prop::option::of(plain()), marked(KEY_MARK))
        .prop_map(|(prefix, secret)| Key { prefix, secret })
}

/// A pipeline argument: a key (by position) or a value of any type.
#[derive(Debug, Clone)]
enum Arg {
    Key(Key, bool),
    Value(Value),
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        marked(VALUE_MARK).prop_map(Value::from),
        marked(VALUE_MARK).prop_map(|s| Value::Bytes(Bytes::from(s.into_bytes()))),
        any::<[u8; 6]>().prop_map(|b| Value::Bytes(Bytes::copy_from_slice(&b))),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        Just(Value::Null),
    ]
}

/// A queued command: its name, its key arguments then its value arguments
/// (a key as a UTF-8 string or as bytes).
fn command() -> impl Strategy<Value = (String, Vec<Arg>, usize)> {
    let name = prop_oneof![
        prop::sample::select(vec!["GET", "SET", "HSET", "PEXPIRE", "ZADD"]).prop_map(String::from),
        plain(),
    ];
    (
        name,
        prop::collection::vec((key(), any::<bool>()), 0..3),
        few_or_many().prop_flat_map(|n| prop::collection::vec(value(), n)),
    )
        .prop_map(|(name, keys, values)| {
            let n = keys.len();
            let args = keys
                .into_iter()
                .map(|(k, as_bytes)| Arg::Key(k, as_bytes))
                .chain(values.into_iter().map(Arg::Value))
                .collect();
            (name, args, n)
        })
}

/// One single-command builder step, as the typed operations use them.
#[derive(Debug, Clone)]
enum Step {
    Key(Key),
    Field(String),
    Value,
    Token(&'static str),
    Keys(Vec<Key>, usize),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        key().prop_map(Step::Key),
        marked(KEY_MARK).prop_map(Step::Field),
        Just(Step::Value),
        prop::sample::select(vec!["PX", "EX", "NX"]).prop_map(Step::Token),
        (
            few_or_many().prop_flat_map(|n| prop::collection::vec(key(), n)),
            0..3usize
        )
            .prop_map(|(k, v)| Step::Keys(k, v)),
    ]
}

/// The marks that must not appear with this key display.
fn forbidden(keys: KeyDisplay) -> &'static [char] {
    match keys {
        KeyDisplay::Masked => &MARKS,
        KeyDisplay::Full => &MARKS[1..],
    }
}

fn check_single(keys: KeyDisplay, sep: char, steps: &[Step]) -> Result<(), TestCaseError> {
    let naming = Naming::prefixes(sep);
    let mut text = CommandText::new("SET", keys, &naming);
    for step in steps {
        match step {
            Step::Key(k) => text.key(&k.text(sep)),
            Step::Field(f) => text.field(f),
            Step::Value => text.value(),
            Step::Token(t) => text.token(t),
            Step::Keys(ks, values) => {
                let ks: Vec<String> = ks.iter().map(|k| k.text(sep)).collect();
                text.keys(ks.iter().map(String::as_str), *values)
            }
        };
    }
    let out = text.finish();
    prop_assert!(!out.contains(forbidden(keys)), "{out:?}");
    for step in steps {
        if let Step::Key(k) = step {
            let key = k.text(sep);
            let name = naming.name(&key);
            prop_assert!(!name.contains(KEY_MARK), "{name:?}");
        }
    }
    Ok(())
}

fn check_pipeline(
    keys: KeyDisplay,
    sep: char,
    commands: &[(String, Vec<Arg>, usize)],
) -> Result<(), TestCaseError> {
    let queued: Vec<(String, Vec<Value>, usize)> = commands
        .iter()
        .map(|(name, args, n)| {
            let args = args
                .iter()
                .map(|a| match a {
                    Arg::Key(k, false) => Value::from(k.text(sep)),
                    Arg::Key(k, true) => Value::Bytes(Bytes::from(k.text(sep).into_bytes())),
                    Arg::Value(v) => v.clone(),
                })
                .collect();
            (name.clone(), args, *n)
        })
        .collect();
    let naming = Naming::prefixes(sep);
    let mut text = CommandText::new("PIPELINE", keys, &naming);
    text.pipeline(
        queued
            .iter()
            .map(|(c, a, n)| (c.as_str(), a.as_slice(), *n)),
    );
    let out = text.finish();
    prop_assert!(!out.contains(forbidden(keys)), "{out:?}");
    // At most 16 commands of at most 16 arguments are written, then `...`.
    let bound: usize = queued
        .iter()
        .take(16)
        .map(|(name, args, _)| {
            let args: usize = args.iter().take(16).map(|a| 2 + value_len(a)).sum();
            name.len() + 2 + args + 4
        })
        .sum::<usize>()
        + "PIPELINE ...".len();
    prop_assert!(out.len() <= bound, "{} > {bound}: {out:?}", out.len());
    Ok(())
}

/// The longest a shown argument can be: the key itself.
fn value_len(v: &Value) -> usize {
    v.as_str().map_or(1, |s| s.len().max(1))
}

#[test]
fn fuzz_redis_masker() {
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        // A failure prints its shrunk input; nothing is written to the tree.
        failure_persistence: None,
        ..Config::default()
    });
    let single = (
        key_display(),
        separator(),
        prop::collection::vec(step(), 0..6),
    );
    let pipeline = (
        key_display(),
        separator(),
        few_or_many().prop_flat_map(|n| prop::collection::vec(command(), n)),
    );
    runner
        .run(
            &(single, pipeline),
            |((k1, s1, steps), (k2, s2, commands))| {
                check_single(k1, s1, &steps)?;
                check_pipeline(k2, s2, &commands)
            },
        )
        .unwrap();
}
