//! TLS in front of the test broker: a throwaway certificate authority, and
//! stunnel (Debian's `stunnel4`) terminating TLS for a tansu broker that
//! advertises stunnel's address.

use super::{accepts_connections, free_loopback_port, io_error, BrokerOptions, TestBroker};
use super::{TestBrokerError, READY_TIMEOUT};
use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::x509::extension::{
    BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAlternativeName,
};
use openssl::x509::{X509NameBuilder, X509};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

/// Environment variable naming the stunnel binary (default `stunnel4`, then
/// `stunnel`, on `PATH`).
pub const STUNNEL_ENV: &str = "CONSENT_STUNNEL_BIN";

/// A certificate authority made for one test, and a server certificate it
/// signed for `127.0.0.1` and `localhost`, as PEM files in a temporary
/// directory.
#[derive(Debug)]
pub struct TestCa {
    dir: tempfile::TempDir,
}

impl TestCa {
    /// Makes the CA and the server certificate (P-256 keys, valid a day).
    pub fn generate() -> Result<Self, TestBrokerError> {
        let dir = tempfile::Builder::new()
            .prefix("consent-test-ca-")
            .tempdir()
            .map_err(io_error("creating the test CA's directory"))?;
        let ca = Self { dir };
        ca.write().map_err(|error| TestBrokerError::Io {
            what: format!("making test certificates: {error}"),
            source: std::io::Error::other(error.to_string()),
        })?;
        Ok(ca)
    }

    /// The CA certificate a client must trust (`ssl.ca.location`).
    pub fn ca_certificate(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// The server's certificate.
    pub fn server_certificate(&self) -> PathBuf {
        self.dir.path().join("server.pem")
    }

    /// The server's private key.
    pub fn server_key(&self) -> PathBuf {
        self.dir.path().join("server.key")
    }

    fn write(&self) -> Result<(), Box<dyn std::error::Error>> {
        let today = Asn1Time::days_from_now(0)?;
        let tomorrow = Asn1Time::days_from_now(1)?;
        let ca_key = new_key()?;
        let ca_name = name("consent-ledger test CA")?;
        let mut ca = X509::builder()?;
        ca.set_version(2)?;
        let ca_serial = serial()?;
        ca.set_serial_number(&ca_serial)?;
        ca.set_subject_name(&ca_name)?;
        ca.set_issuer_name(&ca_name)?;
        ca.set_pubkey(&ca_key)?;
        ca.set_not_before(&today)?;
        ca.set_not_after(&tomorrow)?;
        ca.append_extension(BasicConstraints::new().critical().ca().build()?)?;
        ca.append_extension(
            KeyUsage::new()
                .critical()
                .key_cert_sign()
                .crl_sign()
                .build()?,
        )?;
        ca.sign(&ca_key, MessageDigest::sha256())?;
        let ca = ca.build();

        let server_key = new_key()?;
        let mut server = X509::builder()?;
        server.set_version(2)?;
        let server_serial = serial()?;
        server.set_serial_number(&server_serial)?;
        let server_name = name("localhost")?;
        server.set_subject_name(&server_name)?;
        server.set_issuer_name(ca.subject_name())?;
        server.set_pubkey(&server_key)?;
        server.set_not_before(&today)?;
        server.set_not_after(&tomorrow)?;
        let names = SubjectAlternativeName::new()
            .dns("localhost")
            .ip("127.0.0.1")
            .build(&server.x509v3_context(Some(&ca), None))?;
        server.append_extension(names)?;
        server.append_extension(ExtendedKeyUsage::new().server_auth().build()?)?;
        server.sign(&ca_key, MessageDigest::sha256())?;
        let server = server.build();

        write_file(&self.ca_certificate(), &ca.to_pem()?)?;
        write_file(&self.server_certificate(), &server.to_pem()?)?;
        write_file(&self.server_key(), &server_key.private_key_to_pem_pkcs8()?)?;
        Ok(())
    }
}

fn new_key() -> Result<PKey<Private>, openssl::error::ErrorStack> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
    PKey::from_ec_key(EcKey::generate(&group)?)
}

fn name(common_name: &str) -> Result<openssl::x509::X509Name, openssl::error::ErrorStack> {
    let mut name = X509NameBuilder::new()?;
    name.append_entry_by_nid(Nid::COMMONNAME, common_name)?;
    Ok(name.build())
}

fn serial() -> Result<openssl::asn1::Asn1Integer, openssl::error::ErrorStack> {
    let mut serial = BigNum::new()?;
    serial.rand(127, MsbOption::MAYBE_ZERO, false)?;
    serial.to_asn1_integer()
}

fn write_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

/// stunnel accepting TLS on one loopback port and forwarding the plain
/// bytes to another. Killed when dropped.
#[derive(Debug)]
pub struct TlsTerminator {
    accept: SocketAddr,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl TlsTerminator {
    /// Starts stunnel on `accept`, forwarding to `connect`, presenting the
    /// CA's server certificate, and waits until it accepts connections.
    pub fn start(
        accept: SocketAddr,
        connect: SocketAddr,
        ca: &TestCa,
    ) -> Result<Self, TestBrokerError> {
        let dir = tempfile::Builder::new()
            .prefix("consent-stunnel-")
            .tempdir()
            .map_err(io_error("creating stunnel's directory"))?;
        let config = dir.path().join("stunnel.conf");
        let log = dir.path().join("stunnel.log");
        std::fs::write(
            &config,
            format!(
                "foreground = yes\n\
                 pid =\n\
                 output = {log}\n\
                 debug = notice\n\
                 [kafka]\n\
                 accept = {accept}\n\
                 connect = {connect}\n\
                 cert = {cert}\n\
                 key = {key}\n",
                log = log.display(),
                cert = ca.server_certificate().display(),
                key = ca.server_key().display(),
            ),
        )
        .map_err(io_error("writing stunnel's configuration"))?;
        let binary = find_stunnel()?;
        let child = Command::new(&binary)
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(io_error(format!("running {}", binary.display())))?;
        let mut terminator = Self {
            accept,
            dir,
            child: Some(child),
        };
        terminator.wait_until_ready()?;
        Ok(terminator)
    }

    /// The TLS address.
    pub fn address(&self) -> SocketAddr {
        self.accept
    }

    fn wait_until_ready(&mut self) -> Result<(), TestBrokerError> {
        let started = Instant::now();
        loop {
            if let Some(child) = &mut self.child {
                if let Some(status) = child.try_wait().map_err(io_error("checking on stunnel"))? {
                    self.child = None;
                    return Err(TestBrokerError::Exited {
                        status,
                        log: self.log(),
                    });
                }
            }
            if accepts_connections(self.accept) {
                return Ok(());
            }
            if started.elapsed() >= READY_TIMEOUT {
                return Err(TestBrokerError::NotReady {
                    addr: self.accept,
                    waited: READY_TIMEOUT,
                    log: self.log(),
                });
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    /// stunnel's log, for error messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stunnel.log"))
            .unwrap_or_else(|error| format!("(no stunnel log: {error})"))
    }
}

impl Drop for TlsTerminator {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn find_stunnel() -> Result<PathBuf, TestBrokerError> {
    if let Some(path) = std::env::var_os(STUNNEL_ENV) {
        return Ok(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in ["stunnel4", "stunnel"] {
        if let Some(found) = std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
        {
            return Ok(found);
        }
    }
    Err(TestBrokerError::Io {
        what: format!(
            "stunnel is not installed (looked for stunnel4 and stunnel on PATH, and {STUNNEL_ENV}); \
             install Debian's stunnel4 (.ci/install-deps.sh does)"
        ),
        source: std::io::Error::from(std::io::ErrorKind::NotFound),
    })
}

/// A tansu broker behind a TLS terminator: clients reach it only over TLS,
/// at [`Self::bootstrap`], trusting [`TestCa::ca_certificate`].
#[derive(Debug)]
pub struct TlsBroker {
    // Dropped in this order: the terminator, then the broker, then the CA.
    pub terminator: TlsTerminator,
    pub broker: TestBroker,
    pub ca: TestCa,
}

impl TlsBroker {
    /// Starts the broker (with `options`; its advertised address is the
    /// terminator's) and stunnel in front of it.
    pub fn launch(mut options: BrokerOptions) -> Result<Self, TestBrokerError> {
        let tls_address = free_loopback_port()?;
        options.advertised = Some(tls_address);
        let ca = TestCa::generate()?;
        let broker = TestBroker::launch_with(options)?;
        let terminator = TlsTerminator::start(tls_address, broker.listen_address(), &ca)?;
        Ok(Self {
            terminator,
            broker,
            ca,
        })
    }

    /// For tests: [`Self::launch`], or `None` when
    /// `CONSENT_SKIP_KAFKA_TESTS=1`; panics when it cannot start.
    pub fn for_test(options: BrokerOptions) -> Option<Self> {
        if super::skip_requested() {
            eprintln!(
                "{}=1: skipping a test that needs a Kafka broker",
                super::SKIP_ENV
            );
            return None;
        }
        match Self::launch(options) {
            Ok(broker) => Some(broker),
            Err(error) => panic!("cannot start the TLS test Kafka broker: {error}"),
        }
    }

    /// The TLS bootstrap address.
    pub fn bootstrap(&self) -> String {
        self.terminator.address().to_string()
    }
}
