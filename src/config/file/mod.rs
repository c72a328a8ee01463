//! `OTEL_CONFIG_FILE`: the OpenTelemetry declarative configuration file
//! (the opentelemetry-configuration schema, `file_format` 1.x).
//!
//! The file is translated into the specification's variable names
//! (`tracer_provider.processors[0].batch.schedule_delay` becomes
//! `OTEL_BSP_SCHEDULE_DELAY`), so it goes through exactly the validation the
//! environment does. While the file is in use it alone decides every
//! `OTEL_*` variable: the specification has the SDK ignore the others,
//! except through `${VAR}` references in the file. `WINGSPAN_*`, `DB_*`,
//! `REDIS_*` and `RUST_LOG` still come from the environment.
//!
//! What wingspan cannot honour (a second span processor, views, the zipkin
//! exporter...) is refused with the YAML path, never silently dropped.

mod export;
mod map;
mod substitute;
mod yaml;

use std::collections::BTreeMap;
use std::io::Read as _;

use super::ConfigError;

/// The variable naming the file.
pub(crate) const CONFIG_FILE_VAR: &str = "OTEL_CONFIG_FILE";

/// A file larger than this is not a configuration file (and `/dev/zero`
/// must not be read forever).
const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// What is wrong at one place of the file, before the file's name is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileError {
    /// The YAML path (`tracer_provider.processors[1]`); empty for the file.
    pub(crate) path: String,
    pub(crate) expected: String,
}

impl FileError {
    pub(crate) fn new(path: &str, expected: &str) -> Self {
        Self {
            path: path.to_owned(),
            expected: expected.to_owned(),
        }
    }
}

/// The variables the file stands for, each with the YAML path it came from.
#[derive(Debug, Default)]
pub(crate) struct Vars {
    values: BTreeMap<String, String>,
    origins: BTreeMap<String, String>,
}

impl Vars {
    /// Sets `var` when the file gives a value (an absent or null key leaves
    /// the variable unset, so its default applies).
    pub(crate) fn set(&mut self, var: &str, value: Option<String>, path: &str) {
        if let Some(value) = value {
            self.values.insert(var.to_owned(), value);
            self.origins.insert(var.to_owned(), path.to_owned());
        }
    }

    pub(crate) fn get(&self, var: &str) -> Option<&str> {
        self.values.get(var).map(String::as_str)
    }
}

/// The configuration file in use: its variables, and where it was read from.
#[derive(Debug)]
pub(crate) struct ConfigFile {
    file: String,
    vars: Vars,
}

impl ConfigFile {
    /// Reads the file `OTEL_CONFIG_FILE` names, or `None` when it is unset or
    /// empty (the specification treats an empty variable as unset).
    pub(crate) fn from_lookup(
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Option<Self>, ConfigError> {
        let Some(file) = lookup(CONFIG_FILE_VAR)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
        else {
            return Ok(None);
        };
        let text = read(&file)?;
        let vars = translate(&text, lookup).map_err(|e| at(&file, e))?;
        Ok(Some(Self { file, vars }))
    }

    /// A variable as the configuration sees it: the file's value for
    /// `OTEL_*` names (unset when the file has none), `lookup`'s otherwise.
    pub(crate) fn lookup(
        &self,
        name: &str,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Option<String> {
        if name.starts_with("OTEL_") && name != CONFIG_FILE_VAR {
            self.vars.get(name).map(str::to_owned)
        } else {
            lookup(name)
        }
    }

    /// An error about a variable the file set, restated as the file's key:
    /// the operator edits the file, not the variable.
    pub(crate) fn annotate(&self, err: ConfigError) -> ConfigError {
        match self.vars.origins.get(&err.variable) {
            Some(path) => ConfigError {
                variable: CONFIG_FILE_VAR.to_owned(),
                value: format!("{} at {path}: {}", self.file, err.value),
                expected: format!("{} (read as {})", err.expected, err.variable),
            },
            None => err,
        }
    }
}

/// The file's text; an error names the variable and the path.
fn read(file: &str) -> Result<String, ConfigError> {
    let unreadable = |why: &str| ConfigError::invalid(CONFIG_FILE_VAR, file, why);
    let f = std::fs::File::open(file)
        .map_err(|e| unreadable(&format!("the path of a readable YAML file ({e})")))?;
    let mut text = String::new();
    f.take(MAX_FILE_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| unreadable(&format!("a readable UTF-8 YAML file ({e})")))?;
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(unreadable(&format!(
            "a configuration file of at most {MAX_FILE_BYTES} bytes"
        )));
    }
    Ok(text)
}

/// The variables `text` (the file's YAML) stands for, references resolved
/// through `lookup`.
pub(crate) fn translate(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Vars, FileError> {
    let root = yaml::load(text, lookup)?;
    let mut vars = Vars::default();
    map::model(&root, &mut vars)?;
    Ok(vars)
}

fn at(file: &str, e: FileError) -> ConfigError {
    let path = if e.path.is_empty() {
        file.to_owned()
    } else {
        format!("{file} at {}", e.path)
    };
    ConfigError::invalid(CONFIG_FILE_VAR, &path, &e.expected)
}

#[cfg(test)]
mod tests;
