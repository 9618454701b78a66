//! A real PostgreSQL for tests: a throwaway cluster (`initdb`) in a
//! temporary directory, listening on a free loopback port with password
//! (SCRAM) authentication, stopped and deleted when dropped.
//!
//! The server binaries are taken from `CONSENT_POSTGRES_BIN` (a directory)
//! when set, else the newest `/usr/lib/postgresql/*/bin` (Debian's
//! `postgresql` package, which `.ci/install-deps.sh` installs), else
//! `PATH`. `initdb` refuses to run as root: then the cluster is created
//! and run as the `postgres` user through `runuser`, as `scripts/bench.sh`
//! does.

use std::net::{Ipv4Addr, TcpListener};
use std::path::PathBuf;
use std::process::{Command, Output};

/// Directory of the PostgreSQL server binaries, overriding the search.
pub const BIN_ENV: &str = "CONSENT_POSTGRES_BIN";
/// The database user the cluster is created with.
pub const USER: &str = "consent";
/// That user's password.
pub const PASSWORD: &str = "test-password-not-secret";

/// Why a test cluster could not be started.
#[derive(Debug, thiserror::Error)]
pub enum TestPostgresError {
    #[error(
        "PostgreSQL's server binaries were not found (looked for initdb in {BIN_ENV}, \
         /usr/lib/postgresql/*/bin and PATH); install the Debian package `postgresql`"
    )]
    NotInstalled,
    #[error("test PostgreSQL ({what}): {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{what} failed: {output}")]
    Failed { what: String, output: String },
}

/// A running throwaway cluster.
pub struct TestPostgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    as_postgres: bool,
}

impl TestPostgres {
    /// initdb's and starts a cluster; returns once it accepts connections.
    pub fn start() -> Result<Self, TestPostgresError> {
        let bin = find_bin().ok_or(TestPostgresError::NotInstalled)?;
        let dir = tempfile::Builder::new()
            .prefix("consent-pg-")
            .tempdir()
            .map_err(io("creating the cluster directory"))?;
        let as_postgres = is_root();
        let password_file = dir.path().join("password");
        std::fs::write(&password_file, PASSWORD).map_err(io("writing the password file"))?;
        if as_postgres {
            ensure_postgres_user()?;
            run(
                Command::new("chown")
                    .arg("-R")
                    .arg("postgres")
                    .arg(dir.path()),
                "chown the cluster directory to postgres",
            )?;
        }
        let port = free_port()?;
        let cluster = Self {
            dir,
            bin,
            port,
            as_postgres,
        };
        let data = cluster.data_dir();
        run(
            cluster
                .command("initdb")
                .arg("-D")
                .arg(&data)
                .args([
                    "-U",
                    USER,
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                ])
                .arg(format!("--pwfile={}", password_file.display()))
                .args(["--no-sync", "-E", "UTF8", "--locale=C"]),
            "initdb",
        )?;
        let options = format!(
            "-p {port} -c listen_addresses=127.0.0.1 -k {} -c fsync=off -c max_connections=40 -c shared_buffers=16MB",
            cluster.dir.path().display()
        );
        run(
            cluster
                .command("pg_ctl")
                .arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(cluster.dir.path().join("server.log"))
                .args(["-w", "-t", "60", "-o", &options, "start"]),
            "pg_ctl start",
        )
        .map_err(|error| match error {
            TestPostgresError::Failed { what, output } => TestPostgresError::Failed {
                what,
                output: format!("{output}\nserver log:\n{}", cluster.server_log()),
            },
            other => other,
        })?;
        Ok(cluster)
    }

    /// The connection URL, without the password ([`PASSWORD`]).
    pub fn url(&self) -> String {
        format!("postgres://{USER}@127.0.0.1:{}/postgres", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's log so far.
    pub fn server_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn command(&self, program: &str) -> Command {
        let program = self.bin.join(program);
        if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        }
    }
}

impl Drop for TestPostgres {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.data_dir())
            .args(["-m", "immediate", "-w", "stop"])
            .output();
    }
}

fn find_bin() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os(BIN_ENV) {
        return Some(PathBuf::from(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .find(|dir| dir.join("initdb").exists() && dir.join("pg_ctl").exists())
    })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

fn ensure_postgres_user() -> Result<(), TestPostgresError> {
    let exists = Command::new("id")
        .arg("postgres")
        .output()
        .is_ok_and(|out| out.status.success());
    if exists {
        return Ok(());
    }
    run(
        Command::new("useradd").args(["--system", "--no-create-home", "postgres"]),
        "useradd postgres",
    )
}

fn free_port() -> Result<u16, TestPostgresError> {
    let listener =
        TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(io("finding a free port"))?;
    Ok(listener
        .local_addr()
        .map_err(io("finding a free port"))?
        .port())
}

fn run(command: &mut Command, what: &str) -> Result<(), TestPostgresError> {
    let output: Output = command.output().map_err(io(what))?;
    if output.status.success() {
        return Ok(());
    }
    Err(TestPostgresError::Failed {
        what: what.to_owned(),
        output: format!(
            "{}\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    })
}

fn io(what: &str) -> impl FnOnce(std::io::Error) -> TestPostgresError {
    let what = what.to_owned();
    move |source| TestPostgresError::Io { what, source }
}
