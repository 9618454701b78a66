//! A real Kafka-protocol broker for integration tests: tansu, run as a
//! child process on a loopback port with its data in a temporary directory.
//!
//! Install tansu with `.ci/install-tansu.sh`. The broker binary is taken
//! from `CONSENT_TANSU_BIN` when set, else `tansu` on `PATH`, else
//! `$CARGO_HOME/bin/tansu` (or `~/.cargo/bin/tansu`).
//!
//! tansu does not auto-create topics and has no transactions, which suits
//! the ledger: [`crate::KafkaLog::open`] creates its topics itself, and it
//! uses an idempotent (not transactional) producer.
//!
//! TLS: tansu 0.6's own `--cert`/`--key` do not answer a TLS handshake, so
//! [`TlsBroker`] puts a TLS terminator (Debian's stunnel4) in front of a
//! broker that advertises the terminator's address, with certificates from
//! a throwaway [`TestCa`]. SASL: [`BrokerOptions::authentication`] turns on
//! tansu's `--authentication`, and [`BrokerOptions::scram_users`] are
//! created with `tansu user create` before it is on. tansu 0.6 offers
//! SCRAM-SHA-256 and SCRAM-SHA-512 (checked against the stored
//! credentials); it does not offer PLAIN, and refuses OAUTHBEARER logins.

mod tls;
pub use tls::{TestCa, TlsBroker, TlsTerminator, STUNNEL_ENV};

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Set to `1` to skip the tests that need a broker (they return early).
pub const SKIP_ENV: &str = "CONSENT_SKIP_KAFKA_TESTS";
/// Path of the tansu binary, overriding the search of `PATH`.
pub const BIN_ENV: &str = "CONSENT_TANSU_BIN";

/// How long a starting broker may take to accept connections.
pub(crate) const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// The broker's log file in its directory (appended to across restarts).
const LOG_FILE: &str = "tansu.log";
/// The broker's sqlite database in its directory.
const DATABASE_FILE: &str = "tansu.db";

/// Why a test broker could not be started or stopped.
#[derive(Debug, thiserror::Error)]
pub enum TestBrokerError {
    #[error(
        "the tansu broker is not installed (looked for {looked_in}); install it with \
         `.ci/install-tansu.sh`, point {BIN_ENV} at the binary, or set {SKIP_ENV}=1 to skip \
         the Kafka tests"
    )]
    NotInstalled { looked_in: String },
    #[error("test broker I/O error ({what}): {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("tansu exited with {status} before accepting connections; its log:\n{log}")]
    Exited { status: ExitStatus, log: String },
    #[error("tansu did not accept connections on {addr} within {waited:?}; its log:\n{log}")]
    NotReady {
        addr: SocketAddr,
        waited: Duration,
        log: String,
    },
}

pub(crate) fn io_error(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> TestBrokerError {
    let what = what.into();
    move |source| TestBrokerError::Io { what, source }
}

/// A tansu broker child process, killed when dropped.
///
/// The port and the data directory stay the same across [`Self::stop`] and
/// [`Self::start`], so a test can take the broker down and bring it back
/// with its data, as a real outage would.
#[derive(Debug)]
pub struct TestBroker {
    dir: tempfile::TempDir,
    addr: SocketAddr,
    options: BrokerOptions,
    binary: PathBuf,
    child: Option<Child>,
}

/// How a [`TestBroker`] listens.
#[derive(Clone, Debug, Default)]
pub struct BrokerOptions {
    /// The address the broker tells clients to use (its metadata's broker
    /// address), when not the one it listens on: a TLS terminator's.
    pub advertised: Option<SocketAddr>,
    /// Require a SASL login (tansu `--authentication`).
    pub authentication: bool,
    /// SCRAM users to create before the broker first serves clients.
    pub scram_users: Vec<ScramUser>,
}

/// A SCRAM user of a test broker.
#[derive(Clone, Debug)]
pub struct ScramUser {
    pub name: String,
    pub password: String,
    /// `SCRAM-SHA-256` or `SCRAM-SHA-512`.
    pub mechanism: String,
}

impl ScramUser {
    pub fn new(name: &str, password: &str, mechanism: &str) -> Self {
        Self {
            name: name.to_owned(),
            password: password.to_owned(),
            mechanism: mechanism.to_owned(),
        }
    }
}

impl TestBroker {
    /// Starts a broker on a free loopback port with a fresh data directory,
    /// and waits until it accepts connections.
    pub fn launch() -> Result<Self, TestBrokerError> {
        Self::launch_with(BrokerOptions::default())
    }

    /// [`Self::launch`] with `options`.
    pub fn launch_with(options: BrokerOptions) -> Result<Self, TestBrokerError> {
        let binary = find_tansu()?;
        let dir = tempfile::Builder::new()
            .prefix("consent-tansu-")
            .tempdir()
            .map_err(io_error("creating the broker's data directory"))?;
        let addr = free_loopback_port()?;
        let users = options.scram_users.clone();
        let authentication = options.authentication;
        let mut broker = Self {
            dir,
            addr,
            options,
            binary,
            child: None,
        };
        if !users.is_empty() {
            // tansu answers a user's creation only from an authenticated
            // client once `--authentication` is on: create the users on
            // the same storage first, then restart with it on.
            broker.options.authentication = false;
            broker.start()?;
            for user in &users {
                broker.create_scram_user(&user.name, &user.password, &user.mechanism)?;
            }
            broker.stop()?;
            broker.options.authentication = authentication;
        }
        broker.start()?;
        Ok(broker)
    }

    /// For tests: a broker launched with `options`, or `None` when
    /// `CONSENT_SKIP_KAFKA_TESTS=1`. Panics as [`Self::for_test`] does.
    pub fn for_test_with(options: BrokerOptions) -> Option<Self> {
        if skip_requested() {
            eprintln!("{SKIP_ENV}=1: skipping a test that needs a Kafka broker");
            return None;
        }
        match Self::launch_with(options) {
            Ok(broker) => Some(broker),
            Err(error) => panic!("cannot start the test Kafka broker: {error}"),
        }
    }

    /// The address the broker listens on (plain TCP).
    pub fn listen_address(&self) -> SocketAddr {
        self.addr
    }

    /// Adds a SCRAM user (`mechanism` `SCRAM-SHA-256` or `SCRAM-SHA-512`)
    /// with `tansu user create`, talking to the broker's plain listener.
    /// With authentication on, tansu refuses this: give the users in
    /// [`BrokerOptions::scram_users`] instead.
    pub fn create_scram_user(
        &self,
        name: &str,
        password: &str,
        mechanism: &str,
    ) -> Result<(), TestBrokerError> {
        let mode = match mechanism {
            "SCRAM-SHA-256" => "scram256",
            "SCRAM-SHA-512" => "scram512",
            other => {
                return Err(TestBrokerError::Io {
                    what: format!("creating a SCRAM user: tansu has no mechanism {other}"),
                    source: std::io::Error::from(std::io::ErrorKind::InvalidInput),
                })
            }
        };
        let output = Command::new(&self.binary)
            .args(["user", "create"])
            .args(["--broker", &format!("tcp://{}", self.addr)])
            .args(["--mechanism", mode])
            .args([name, password])
            .stdin(Stdio::null())
            .output()
            .map_err(io_error("running tansu user create"))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(TestBrokerError::Io {
                what: format!(
                    "tansu user create {name} exited with {}: {}{}",
                    output.status,
                    String::from_utf8_lossy(&output.stdout),
                    String::from_utf8_lossy(&output.stderr)
                ),
                source: std::io::Error::other("tansu user create failed"),
            })
        }
    }

    /// For tests: a running broker, or `None` when `CONSENT_SKIP_KAFKA_TESTS=1`.
    ///
    /// # Panics
    /// When the broker cannot be started, tansu's absence included, so a
    /// test run without a broker fails loudly instead of passing vacuously.
    pub fn for_test() -> Option<Self> {
        Self::for_test_with(BrokerOptions::default())
    }

    /// The bootstrap servers string, e.g. `127.0.0.1:40123`.
    pub fn bootstrap(&self) -> String {
        self.addr.to_string()
    }

    /// The directory holding the broker's database and log.
    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    /// Whether the broker process is running (started and not stopped).
    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// Starts the broker (again) on the same port and data, and waits until
    /// it accepts connections. Does nothing when it is running.
    pub fn start(&mut self) -> Result<(), TestBrokerError> {
        if self.child.is_some() {
            return Ok(());
        }
        let log_path = self.dir.path().join(LOG_FILE);
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(io_error(format!("opening {}", log_path.display())))?;
        let log_for_stderr = log
            .try_clone()
            .map_err(io_error("duplicating the log handle"))?;
        let url = format!("tcp://{}", self.addr);
        let advertised = format!("tcp://{}", self.options.advertised.unwrap_or(self.addr));
        let mut command = Command::new(&self.binary);
        command
            .arg("broker")
            .args(["--listener-url", &url])
            .args(["--advertised-listener-url", &advertised]);
        if self.options.authentication {
            command.arg("--authentication");
        }
        let child = command
            .args(["--storage-engine", &format!("sqlite://{DATABASE_FILE}")])
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_for_stderr)
            .spawn()
            .map_err(io_error(format!("running {}", self.binary.display())))?;
        self.child = Some(child);
        self.wait_until_ready()
    }

    /// Kills the broker (as a crash would) and waits until its port is
    /// closed. Its data stays for [`Self::start`].
    pub fn stop(&mut self) -> Result<(), TestBrokerError> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        // An already exited child makes `kill` fail; `wait` still reaps it.
        let _ = child.kill();
        child
            .wait()
            .map_err(io_error("waiting for tansu to exit"))?;
        let deadline = Instant::now() + READY_TIMEOUT;
        while accepts_connections(self.addr) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }

    fn wait_until_ready(&mut self) -> Result<(), TestBrokerError> {
        let started = Instant::now();
        loop {
            if let Some(child) = &mut self.child {
                if let Some(status) = child
                    .try_wait()
                    .map_err(io_error("checking on the tansu process"))?
                {
                    self.child = None;
                    return Err(TestBrokerError::Exited {
                        status,
                        log: self.log_tail(),
                    });
                }
            }
            if accepts_connections(self.addr) {
                return Ok(());
            }
            if started.elapsed() >= READY_TIMEOUT {
                let _ = self.stop();
                return Err(TestBrokerError::NotReady {
                    addr: self.addr,
                    waited: READY_TIMEOUT,
                    log: self.log_tail(),
                });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The last few kilobytes of the broker's log, for error messages.
    pub fn log_tail(&self) -> String {
        const TAIL: u64 = 4096;
        let path = self.dir.path().join(LOG_FILE);
        let Ok(mut file) = File::open(&path) else {
            return format!("(no log at {})", path.display());
        };
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        let _ = file.seek(SeekFrom::Start(len.saturating_sub(TAIL)));
        let mut bytes = Vec::new();
        let _ = file.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl Drop for TestBroker {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Whether the environment asks to skip the tests that need a broker.
pub fn skip_requested() -> bool {
    std::env::var(SKIP_ENV).is_ok_and(|value| value == "1")
}

pub(crate) fn accepts_connections(addr: SocketAddr) -> bool {
    TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
}

/// A loopback port nothing listens on right now.
pub(crate) fn free_loopback_port() -> Result<SocketAddr, TestBrokerError> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .map_err(io_error("finding a free loopback port"))?;
    listener
        .local_addr()
        .map_err(io_error("finding a free loopback port"))
}

/// The tansu binary: `CONSENT_TANSU_BIN`, else `tansu` on `PATH`, else
/// cargo's install directory.
fn find_tansu() -> Result<PathBuf, TestBrokerError> {
    if let Some(path) = std::env::var_os(BIN_ENV) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(TestBrokerError::NotInstalled {
                looked_in: format!("{BIN_ENV}={}", path.display()),
            })
        };
    }
    let mut candidates: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join("tansu"))
                .collect()
        })
        .unwrap_or_default();
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")));
    if let Some(cargo_home) = cargo_home {
        candidates.push(cargo_home.join("bin").join("tansu"));
    }
    candidates
        .iter()
        .find(|path| path.is_file())
        .cloned()
        .ok_or_else(|| TestBrokerError::NotInstalled {
            looked_in: format!("{BIN_ENV} unset, PATH and {}", describe(candidates.last())),
        })
}

fn describe(path: Option<&PathBuf>) -> String {
    path.map(|p| p.display().to_string())
        .unwrap_or_else(|| "no cargo home".to_owned())
}
