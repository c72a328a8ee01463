//! [`Captured`]: a child process's stdout and stderr, copied into memory
//! line by line as it prints them, for the process handles (wingman,
//! port-after) and their failure messages.

use std::io::{BufRead, BufReader, Read};
use std::process::Child;
use std::sync::{Arc, Mutex};

/// What a child printed so far.
#[derive(Debug, Clone, Default)]
pub struct Captured {
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
}

impl Captured {
    /// Takes `child`'s piped stdout and stderr and copies them from now on.
    pub(crate) fn start(child: &mut Child) -> Self {
        let captured = Self::default();
        copy(child.stdout.take(), captured.stdout.clone());
        copy(child.stderr.take(), captured.stderr.clone());
        captured
    }

    /// What it printed on stdout so far.
    pub fn stdout(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    /// What it printed on stderr so far (its console log, errors).
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Both, labelled, for failure messages.
    pub fn output(&self) -> String {
        format!("--- stdout\n{}--- stderr\n{}", self.stdout(), self.stderr())
    }
}

/// Copies a pipe into `sink` on a thread of its own, line by line.
fn copy(pipe: Option<impl Read + Send + 'static>, sink: Arc<Mutex<String>>) {
    let Some(pipe) = pipe else { return };
    std::thread::spawn(move || {
        let mut reader = BufReader::new(pipe);
        let mut line = String::new();
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => sink.lock().unwrap().push_str(&line),
            }
        }
    });
}
