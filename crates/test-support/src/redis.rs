//! Redis for tests: a private redis-server on its own port, for tests that
//! stop and restart Redis without touching the shared one; one-off commands
//! over a client of their own; and a key prefix whose keys are deleted when
//! the test ends, failing or not.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A redis-server child process; killed on drop.
pub struct PrivateRedis {
    pub port: u16,
    child: Option<Child>,
}

impl PrivateRedis {
    /// Starts redis-server on a free port ([`DeadPort`](crate::DeadPort)'s,
    /// given up only as the server starts) and waits until it accepts
    /// connections.
    pub fn spawn() -> PrivateRedis {
        Self::spawn_with(&[])
    }

    /// [`spawn`](Self::spawn) with more `redis-server` arguments (such as
    /// `--requirepass`).
    pub fn spawn_with(extra: &[&str]) -> PrivateRedis {
        Self::start_with(crate::DeadPort::new().release(), extra)
    }

    /// Starts redis-server on `port` (no persistence; a port a stopped
    /// server had, to restart it) and waits until it accepts connections.
    pub fn start(port: u16) -> PrivateRedis {
        Self::start_with(port, &[])
    }

    /// [`start`](Self::start) with more `redis-server` arguments (such as
    /// `--requirepass`).
    pub fn start_with(port: u16, extra: &[&str]) -> PrivateRedis {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn redis-server");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "redis-server did not start on {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        PrivateRedis {
            port,
            child: Some(child),
        }
    }

    /// The URL of this server.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills the server (SIGKILL) and waits for it to exit.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One command to the Redis at `url` over a client of its own (fred's: the
/// URL's user, password and database index are honoured); its reply.
/// `None` when Redis does not answer within 2 s.
pub async fn command(url: &str, args: &[&str]) -> Option<fred::types::Value> {
    use fred::interfaces::ClientLike as _;
    use fred::types::{ClusterHash, CustomCommand, Value};
    let config = fred::types::config::Config::from_url(url).ok()?;
    let client = fred::types::Builder::from_config(config).build().ok()?;
    let (name, rest) = args.split_first()?;
    let exchange = async {
        client.init().await.ok()?;
        client
            .custom::<Value, _>(
                CustomCommand::new(name.to_string(), ClusterHash::FirstKey, false),
                rest.iter().map(|a| Value::from(*a)).collect::<Vec<_>>(),
            )
            .await
            .ok()
    };
    let reply = tokio::time::timeout(Duration::from_secs(2), exchange)
        .await
        .ok()
        .flatten();
    let _ = client.quit().await;
    reply
}

/// Deletes every key starting with `prefix` at `url` (one Lua `SCAN` loop
/// in Redis).
pub async fn delete_keys(url: &str, prefix: &str) {
    let script = "local c = '0' repeat local r = redis.call('SCAN', c, 'MATCH', ARGV[1], 'COUNT', 1000) \
                  c = r[1] for _, k in ipairs(r[2]) do redis.call('DEL', k) end until c == '0' return 0";
    let pattern = format!("{prefix}*");
    command(url, &["EVAL", script, "0", &pattern]).await;
}

/// A key prefix of the test's own (`<name>_<pid>_<n>_<nanos>`) at a Redis;
/// every key starting with it is deleted when this is dropped, so a test
/// leaves nothing behind, panicking or not.
#[derive(Debug)]
pub struct KeyPrefix {
    /// The prefix.
    pub prefix: String,
    url: String,
}

impl KeyPrefix {
    /// A fresh prefix at `REDIS_URL`.
    pub fn new(name: &str) -> KeyPrefix {
        KeyPrefix::at(&super::redis_url(), name)
    }

    /// A fresh prefix at the Redis at `url`.
    pub fn at(url: &str, name: &str) -> KeyPrefix {
        KeyPrefix {
            prefix: super::unique(name),
            url: url.to_owned(),
        }
    }
}

impl Drop for KeyPrefix {
    fn drop(&mut self) {
        // Drop may run inside the test's runtime, which must not block on
        // itself: the cleanup gets a thread and a runtime of its own.
        let (url, prefix) = (self.url.clone(), self.prefix.clone());
        let _ = std::thread::spawn(move || {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                rt.block_on(delete_keys(&url, &prefix));
            }
        })
        .join();
    }
}
