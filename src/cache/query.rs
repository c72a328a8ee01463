//! `db.query.text` in redis-cli syntax: values always masked, keys masked
//! after their cache name unless `WINGSPAN_REDIS_KEYS=full`.

use std::collections::HashSet;

use fred::types::Value;

use crate::config::KeyDisplay;
use crate::names::OTHER;

/// The cache name of keys without a separator (without listed names).
const DEFAULT_NAME: &str = "default";

/// How a key's cache name is found. By default the name is the key's prefix
/// before the first separator (`users:42` → `users`, none → `default`); with
/// the names of `CacheBuilder::cache_names` it is that prefix only when
/// listed, and `other` for every other key, so a key that starts with user
/// data never becomes a label, a row of the in-process view or a prefix in
/// `db.query.text`.
#[derive(Debug)]
pub(crate) struct Naming {
    separator: char,
    listed: Option<HashSet<Box<str>>>,
}

impl Naming {
    pub(crate) fn new(separator: char, listed: Option<HashSet<Box<str>>>) -> Self {
        Self { separator, listed }
    }

    /// Every prefix is a name (the default).
    #[cfg(test)]
    pub(crate) fn prefixes(separator: char) -> Self {
        Self::new(separator, None)
    }

    /// The cache name of `key`, for `wingspan.cache.requests` and the view.
    pub(crate) fn name<'k>(&self, key: &'k str) -> &'k str {
        let prefix = match key.find(self.separator) {
            Some(i) if i > 0 => Some(&key[..i]),
            _ => None,
        };
        match (&self.listed, prefix) {
            (None, Some(p)) => p,
            (None, None) => DEFAULT_NAME,
            (Some(listed), Some(p)) if listed.contains(p) => p,
            (Some(_), _) => OTHER,
        }
    }

    /// What a masked key shows before its `?`: the prefix with its
    /// separator (`users:`), or nothing.
    fn shown<'k>(&self, key: &'k str) -> &'k str {
        match key.find(self.separator) {
            Some(i) if self.listed.as_ref().is_none_or(|l| l.contains(&key[..i])) => {
                &key[..i + self.separator.len_utf8()]
            }
            _ => "",
        }
    }
}

/// Keys written in full before the rest of a long multi-key command collapses
/// into `...`, so one MGET of 10 000 keys cannot make a 100 kB attribute.
const MAX_KEYS_SHOWN: usize = 16;

/// Commands of a pipeline written out before the rest collapses into `; ...`,
/// and arguments written per command, for the same reason.
const MAX_COMMANDS_SHOWN: usize = 16;

/// Builds one `db.query.text`. (Not `db::QueryText`, which is what a
/// Postgres call accepts as its statement.)
pub(crate) struct CommandText<'n> {
    text: String,
    keys: KeyDisplay,
    naming: &'n Naming,
    /// Where the first key's written form is in `text` (without its `?`),
    /// from which [`cache_name`](Self::cache_name) finds its cache name.
    first_key: Option<(usize, usize)>,
}

impl<'n> CommandText<'n> {
    pub(crate) fn new(command: &str, keys: KeyDisplay, naming: &'n Naming) -> Self {
        let mut text = String::with_capacity(command.len() + 24);
        text.push_str(command);
        Self {
            text,
            keys,
            naming,
            first_key: None,
        }
    }

    /// Appends a key: `challenges:?` (masked; `?` alone when its prefix is
    /// not a listed cache name) or the key itself (full).
    pub(crate) fn key(&mut self, key: &str) -> &mut Self {
        self.text.push(' ');
        let start = self.text.len();
        match self.keys {
            KeyDisplay::Full => self.text.push_str(key),
            KeyDisplay::Masked => self.text.push_str(self.naming.shown(key)),
        }
        if self.first_key.is_none() {
            self.first_key = Some((start, self.text.len()));
        }
        if self.keys == KeyDisplay::Masked {
            self.text.push('?');
        }
        self
    }

    /// The cache name of the first key written, if any: what a masked text
    /// shows of it is its name and separator (a listed or, without a list,
    /// any prefix), or nothing (`default` without a list, else `other`).
    pub(crate) fn cache_name(&self) -> Option<&str> {
        let (start, end) = self.first_key?;
        // In bounds: recorded from this text, which only grows until `finish`
        // (a pipeline's `reset` comes before its first key and clears it).
        let shown = self.text.get(start..end)?;
        Some(match self.keys {
            KeyDisplay::Full => self.naming.name(shown),
            KeyDisplay::Masked => match shown.strip_suffix(self.naming.separator) {
                Some(name) if !name.is_empty() => name,
                _ if self.naming.listed.is_some() => OTHER,
                _ => DEFAULT_NAME,
            },
        })
    }

    /// Appends a hash field: shown only with full keys, since fields often
    /// are identifiers too.
    pub(crate) fn field(&mut self, field: &str) -> &mut Self {
        self.text.push(' ');
        match self.keys {
            KeyDisplay::Full => self.text.push_str(field),
            KeyDisplay::Masked => self.text.push('?'),
        }
        self
    }

    /// Appends a masked value.
    pub(crate) fn value(&mut self) -> &mut Self {
        self.text.push_str(" ?");
        self
    }

    /// Appends a literal token, such as `PX`.
    pub(crate) fn token(&mut self, token: &str) -> &mut Self {
        self.text.push(' ');
        self.text.push_str(token);
        self
    }

    /// Appends many keys, each followed by `values_each` masked values.
    pub(crate) fn keys<'k>(
        &mut self,
        keys: impl IntoIterator<Item = &'k str>,
        values_each: usize,
    ) -> &mut Self {
        for (i, key) in keys.into_iter().enumerate() {
            if i == MAX_KEYS_SHOWN {
                self.text.push_str(" ...");
                break;
            }
            self.key(key);
            for _ in 0..values_each {
                self.value();
            }
        }
        self
    }

    /// Starts over with another command (the first of a pipeline).
    fn reset(&mut self, command: &str) -> &mut Self {
        self.text.clear();
        self.first_key = None;
        self.text.push_str(command);
        self
    }

    /// Starts the next command of a pipeline.
    fn next_command(&mut self, command: &str) -> &mut Self {
        self.text.push_str("; ");
        self.text.push_str(command);
        self
    }

    /// Marks that the rest was left out.
    fn more(&mut self, separator: &str) -> &mut Self {
        self.text.push_str(separator);
        self.text.push_str("...");
        self
    }

    /// Writes a pipeline's commands, each as `(name, arguments, how many
    /// leading arguments are keys)`: `GET users:?; SET users:? ?`. The text
    /// lists the commands themselves, not `PIPELINE`, bounded so that a
    /// pipeline of 10 000 commands cannot make a 100 kB attribute.
    pub(crate) fn pipeline<'c>(
        &mut self,
        commands: impl IntoIterator<Item = (&'c str, &'c [Value], usize)>,
    ) -> &mut Self {
        for (i, (command, args, keys)) in commands.into_iter().enumerate() {
            if i == MAX_COMMANDS_SHOWN {
                self.more("; ");
                break;
            }
            if i == 0 {
                self.reset(command);
            } else {
                self.next_command(command);
            }
            for (j, arg) in args.iter().enumerate() {
                if j == MAX_COMMANDS_SHOWN {
                    self.more(" ");
                    break;
                }
                match (j < keys, arg.as_str()) {
                    (true, Some(key)) => self.key(&key),
                    _ => self.value(),
                };
            }
        }
        self
    }

    pub(crate) fn finish(self) -> String {
        self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLON: &Naming = &Naming {
        separator: ':',
        listed: None,
    };

    fn q(keys: KeyDisplay) -> CommandText<'static> {
        CommandText::new("SET", keys, COLON)
    }

    fn cache_name(key: &str, separator: char) -> String {
        Naming::prefixes(separator).name(key).to_owned()
    }

    #[test]
    fn masks_keys_after_their_cache_name_and_every_value() {
        let mut t = q(KeyDisplay::Masked);
        t.key("challenges:42:secret").value();
        assert_eq!(t.finish(), "SET challenges:? ?");
        let mut t = q(KeyDisplay::Masked);
        t.key("plainkey").value();
        assert_eq!(t.finish(), "SET ? ?");
    }

    #[test]
    fn the_first_keys_cache_name_is_the_namings_in_every_display() {
        let listed = Naming::new(':', Some(["users".into()].into_iter().collect()));
        for keys in [KeyDisplay::Masked, KeyDisplay::Full] {
            for (naming, key) in [
                (COLON, "users:42"),
                (COLON, "plainkey"),
                (COLON, ":x"),
                (&listed, "users:42"),
                (&listed, "ada@example.com:profile"),
                (&listed, "plainkey"),
            ] {
                let mut t = CommandText::new("MGET", keys, naming);
                assert_eq!(t.cache_name(), None);
                t.key(key).key("second:1");
                assert_eq!(t.cache_name(), Some(naming.name(key)), "{keys:?} {key}");
            }
        }
    }

    #[test]
    fn full_keys_still_mask_values() {
        let mut t = q(KeyDisplay::Full);
        t.key("session:abc").value().token("PX").value();
        assert_eq!(t.finish(), "SET session:abc ? PX ?");
    }

    #[test]
    fn long_key_lists_collapse() {
        let keys: Vec<String> = (0..40).map(|i| format!("k:{i}")).collect();
        let mut t = CommandText::new("MGET", KeyDisplay::Full, COLON);
        t.keys(keys.iter().map(String::as_str), 0);
        let text = t.finish();
        assert!(text.ends_with("k:15 ..."), "{text}");
    }

    #[test]
    fn cache_names() {
        assert_eq!(cache_name("users:1", ':'), "users");
        assert_eq!(cache_name("users", ':'), "default");
        assert_eq!(cache_name(":x", ':'), "default");
        assert_eq!(cache_name("a/b", '/'), "a");
    }

    #[test]
    fn listed_names_only() {
        let listed = Naming::new(':', Some(["users".into(), "carts".into()].into()));
        assert_eq!(listed.name("users:1"), "users");
        assert_eq!(listed.name("carts:1:2"), "carts");
        assert_eq!(listed.name("alice@example.com:profile"), "other");
        assert_eq!(listed.name("users"), "other");
        assert_eq!(listed.name(":users"), "other");
        let mut t = CommandText::new("MGET", KeyDisplay::Masked, &listed);
        t.keys(["users:1", "alice@example.com:profile", "plain", ":x"], 0);
        assert_eq!(t.finish(), "MGET users:? ? ? ?");
        // Full keys stay full: the operator asked for them.
        let mut t = CommandText::new("GET", KeyDisplay::Full, &listed);
        t.key("alice@example.com:profile");
        assert_eq!(t.finish(), "GET alice@example.com:profile");
    }
}
