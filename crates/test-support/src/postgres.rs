//! A private PostgreSQL cluster for tests that stop and restart the server
//! or need their own TLS certificate: `initdb` in a temporary directory, its
//! own port and socket directory, run as the `postgres` user (initdb refuses
//! root). Stopped and removed on drop, also when the test fails.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate as support;

/// A test's own cluster.
pub struct PrivatePostgres {
    pub port: u16,
    dir: PathBuf,
    bin: PathBuf,
}

/// The newest installed server's `bin` directory.
fn server_bin() -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("a PostgreSQL server under /usr/lib/postgresql")
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").exists())
        .collect();
    versions.sort();
    versions
        .pop()
        .expect("initdb under /usr/lib/postgresql/*/bin")
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("spawn");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn as_postgres(bin: &Path, tool: &str) -> Command {
    let mut c = Command::new("runuser");
    c.args(["-u", "postgres", "--"]).arg(bin.join(tool));
    c
}

impl PrivatePostgres {
    /// Initialises a cluster (trust auth, user `postgres`) and starts it on
    /// a free port; with `tls`, serving that certificate and key.
    pub fn start(tls: Option<(&Path, &Path)>) -> Self {
        let dir = std::env::temp_dir().join(support::unique("wingspan_pg"));
        std::fs::create_dir_all(&dir).unwrap();
        run(Command::new("chown").arg("postgres:").arg(&dir));
        // Held through initdb (seconds), so that no other test's bind(0)
        // takes the port meanwhile; given up just before the server starts.
        let mut reserved = support::DeadPort::new();
        let me = Self {
            port: reserved.port,
            bin: server_bin(),
            dir,
        };
        let data = me.data();
        run(as_postgres(&me.bin, "initdb")
            .args([
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "-E",
                "UTF8",
                "-D",
            ])
            .arg(&data));
        let mut conf = format!(
            "port = {}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\nfsync = off\n",
            me.port,
            me.dir.display()
        );
        if let Some((cert, key)) = tls {
            for (from, to) in [(cert, "server.crt"), (key, "server.key")] {
                std::fs::copy(from, data.join(to)).unwrap();
                run(Command::new("chown").arg("postgres:").arg(data.join(to)));
                run(Command::new("chmod").arg("600").arg(data.join(to)));
            }
            conf.push_str("ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n");
        }
        let path = data.join("postgresql.auto.conf");
        let mut auto = std::fs::read_to_string(&path).unwrap_or_default();
        auto.push_str(&conf);
        std::fs::write(&path, auto).unwrap();
        reserved.release();
        me.pg_ctl_start();
        me
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// `postgres://postgres@127.0.0.1:{port}/postgres` plus `query`.
    pub fn url(&self, query: &str) -> String {
        let sep = if query.is_empty() { "" } else { "?" };
        format!(
            "postgres://postgres@127.0.0.1:{}/postgres{sep}{query}",
            self.port
        )
    }

    /// Starts the server and waits until it accepts connections.
    pub fn pg_ctl_start(&self) {
        run(as_postgres(&self.bin, "pg_ctl")
            .args(["start", "-w", "-t", "30", "-l"])
            .arg(self.dir.join("log"))
            .arg("-D")
            .arg(self.data()));
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "postgres did not listen on {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the server (`fast`: sessions are terminated) and waits.
    pub fn pg_ctl_stop(&self) {
        run(as_postgres(&self.bin, "pg_ctl")
            .args(["stop", "-w", "-m", "fast", "-D"])
            .arg(self.data()));
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = as_postgres(&self.bin, "pg_ctl")
            .args(["stop", "-w", "-m", "immediate", "-D"])
            .arg(self.data())
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `openssl req`'s arguments for a new P-256 key without a passphrase.
const EC_KEY: [&str; 5] = [
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
];

/// A CA and a server certificate it signed, for a host name that is not
/// the one the tests connect to (`wrong.example`, connecting to 127.0.0.1),
/// plus a second CA that signed nothing. Made with the `openssl` tool.
pub struct Certs {
    dir: PathBuf,
}

// No Default: making one runs openssl and writes files.
#[allow(clippy::new_without_default)]
impl Certs {
    pub fn new() -> Self {
        let dir = std::env::temp_dir().join(support::unique("wingspan_certs"));
        std::fs::create_dir_all(&dir).unwrap();
        for ca in ["ca", "other-ca"] {
            run(Command::new("openssl")
                .current_dir(&dir)
                .args(["req", "-x509"])
                .args(EC_KEY)
                .args([
                    "-keyout",
                    &format!("{ca}.key"),
                    "-out",
                    &format!("{ca}.pem"),
                ])
                .args(["-days", "2", "-subj", &format!("/CN=wingspan test {ca}")])
                .args(["-addext", "basicConstraints=critical,CA:TRUE"])
                .args(["-addext", "keyUsage=critical,keyCertSign,cRLSign"]));
        }
        let certs = Self { dir };
        certs.leaf("server", "DNS:wrong.example", "serverAuth");
        certs
    }

    /// Another certificate signed by `ca.pem`: `{stem}.crt` and `{stem}.key`,
    /// for the subject alternative names `san` (`DNS:x,IP:127.0.0.1`) and
    /// the extended key usage `usage` (`serverAuth` or `clientAuth`).
    pub fn leaf(&self, stem: &str, san: &str, usage: &str) {
        let dir = &self.dir;
        let cn = san
            .split(',')
            .next()
            .unwrap_or(stem)
            .split(':')
            .nth(1)
            .unwrap_or(stem);
        run(Command::new("openssl")
            .current_dir(dir)
            .arg("req")
            .args(EC_KEY)
            .args([
                "-keyout",
                &format!("{stem}.key"),
                "-out",
                &format!("{stem}.csr"),
                "-subj",
                &format!("/CN={cn}"),
            ]));
        std::fs::write(
            dir.join(format!("{stem}.ext")),
            format!(
                "subjectAltName={san}\nbasicConstraints=CA:FALSE\n\
                 keyUsage=critical,digitalSignature\nextendedKeyUsage={usage}\n"
            ),
        )
        .unwrap();
        run(Command::new("openssl").current_dir(dir).args([
            "x509",
            "-req",
            "-in",
            &format!("{stem}.csr"),
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            &format!("{stem}.crt"),
            "-days",
            "2",
            "-extfile",
            &format!("{stem}.ext"),
        ]));
    }

    pub fn path(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }
}

impl Drop for Certs {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
