//! Real backing services for tests, on loopback in a temporary folder and
//! stopped when dropped: a PostgreSQL server (Debian's `postgresql` binaries,
//! started with `initdb` + `pg_ctl`, no system service) and an S3-compatible
//! server (moto, installed by `scripts/setup.sh --test` into `.tools/moto`).
//! Never mocks of either.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_port(port: u16, what: &str) {
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{what} did not start on port {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The newest installed PostgreSQL's `bin` folder.
fn postgres_bin() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| d.flatten().map(|e| e.path().join("bin")).collect())
        .unwrap_or_default();
    found.retain(|p| p.join("pg_ctl").exists());
    found.sort();
    found.pop().expect(
        "PostgreSQL is not installed: run bash scripts/setup.sh --test (apt package postgresql)",
    )
}

/// Runs a PostgreSQL program; as root, as the `postgres` user (the server
/// refuses to run as root).
fn pg(program: &Path) -> Command {
    if unsafe { libc::geteuid() } == 0 {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--"]).arg(program);
        cmd
    } else {
        Command::new(program)
    }
}

pub struct Postgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    pub port: u16,
}

impl Postgres {
    pub fn start() -> Self {
        let bin = postgres_bin();
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        if unsafe { libc::geteuid() } == 0 {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .unwrap();
            assert!(status.success());
        }
        let out = pg(&bin.join("initdb"))
            .args(["--auth=trust", "-U", "studio", "-E", "UTF8", "-D"])
            .arg(&data)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let port = free_port();
        let out = pg(&bin.join("pg_ctl"))
            .arg("-D")
            .arg(&data)
            .arg("-o")
            .arg(format!(
                "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_wal_size=96MB",
                dir.path().display()
            ))
            .arg("-l")
            .arg(dir.path().join("log"))
            .args(["-w", "start"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pg_ctl start: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        wait_for_port(port, "PostgreSQL");
        Self { dir, bin, port }
    }

    /// A fresh, empty database on this server.
    pub async fn database(&self) -> String {
        create_database(&format!(
            "postgres://studio@127.0.0.1:{}/postgres",
            self.port
        ))
        .await
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = pg(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .args(["-m", "immediate", "-w", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// A fresh, empty database on the server of `admin` (a URL of any database
/// there, e.g. `postgres://studio@127.0.0.1:5432/postgres`).
pub async fn create_database(admin: &str) -> String {
    database_named(admin, &format!("t_{}", uuid::Uuid::new_v4().simple())).await
}

/// With `STUDIO_TEST_POSTGRES` (an admin URL) and `STUDIO_TEST_S3` (an
/// `s3://bucket` whose server the `AWS_*` variables name) set, as
/// `scripts/test-backends.sh` does, every test server gets a database and a
/// bucket prefix of its own, named after its data folder (so a restart on
/// the same folder finds its data again): the whole suite runs on Postgres + S3.
pub async fn from_env(mut config: studio::Config) -> studio::Config {
    use sha2::Digest;
    let id = hex::encode(&sha2::Sha256::digest(config.data_dir.to_string_lossy().as_bytes())[..12]);
    if config.database_url.is_none()
        && let Ok(admin) = std::env::var("STUDIO_TEST_POSTGRES")
    {
        config.database_url = Some(database_named(&admin, &format!("t_{id}")).await);
    }
    if config.storage_url.is_none()
        && let Ok(bucket) = std::env::var("STUDIO_TEST_S3")
    {
        config.storage_url = Some(format!("{}/{id}", bucket.trim_end_matches('/')));
    }
    config
}

/// The database `name` on the server of `admin`, made if it is not there.
async fn database_named(admin: &str, name: &str) -> String {
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(admin)
        .await
        .unwrap();
    let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(name)
        .fetch_optional(&mut conn)
        .await
        .unwrap();
    if exists.is_none() {
        let create = format!("CREATE DATABASE {name}");
        sqlx::raw_sql(sqlx::AssertSqlSafe(create))
            .execute(&mut conn)
            .await
            .unwrap();
    }
    let (server, _) = admin.rsplit_once('/').unwrap();
    format!("{server}/{name}")
}

/// The S3-compatible server of this test run; `bucket()` makes a fresh
/// bucket on it. The studio reads its endpoint from the `AWS_*` variables,
/// which are the whole process's: so there is one server for the run — the
/// one `scripts/test-backends.sh` names, else a moto started on first use
/// that stops when the tests end (its watchdog reads our end of a pipe).
pub struct S3 {
    pub port: u16,
}

static MOTO_PORT: std::sync::OnceLock<u16> = std::sync::OnceLock::new();

impl S3 {
    pub fn start() -> Self {
        let port = *MOTO_PORT.get_or_init(|| {
            if let Some(port) = std::env::var("AWS_ENDPOINT")
                .ok()
                .and_then(|e| e.rsplit(':').next()?.trim_end_matches('/').parse().ok())
            {
                return port;
            }
            let moto = Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/moto/bin/moto_server");
            assert!(
                moto.exists(),
                "moto is missing: run bash scripts/setup.sh --test"
            );
            let port = free_port();
            // moto runs until our end of its watchdog's pipe closes, when
            // this process exits.
            let child = Command::new("sh")
                .args([
                    "-c",
                    "\"$0\" -H 127.0.0.1 -p \"$1\" >/dev/null 2>&1 & m=$!; cat >/dev/null; kill $m",
                ])
                .arg(&moto)
                .arg(port.to_string())
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            std::mem::forget(child);
            wait_for_port(port, "moto");
            // SAFETY: set once, before any studio of this run reads them,
            // and never changed: every test wants these values.
            unsafe {
                std::env::set_var("AWS_ENDPOINT", format!("http://127.0.0.1:{port}"));
                std::env::set_var("AWS_ALLOW_HTTP", "true");
                std::env::set_var("AWS_ACCESS_KEY_ID", "test");
                std::env::set_var("AWS_SECRET_ACCESS_KEY", "test");
                std::env::set_var("AWS_REGION", "us-east-1");
            }
            port
        });
        Self { port }
    }

    /// A fresh bucket, as a storage URL.
    pub async fn bucket(&self) -> String {
        let name = format!("b-{}", uuid::Uuid::new_v4().simple());
        let resp = reqwest::Client::new()
            .put(format!("http://127.0.0.1:{}/{name}", self.port))
            .send()
            .await
            .unwrap();
        assert!(
            resp.status().is_success(),
            "create bucket: {}",
            resp.status()
        );
        format!("s3://{name}/studio")
    }
}
