//! The console's part of `serve` (docs/CONSOLE.md): its settings, and the
//! key file as the console's Keys page administers it.

use crate::api_key::{add_key, remove_key};
use crate::settings::{file_may_set, ConfigFile};
use consent_auth::{Guard, KeyEntry, KeyRing, Principal};
use consent_console::{ConsoleSettings, KeyAdministration, KeyAdministrationError, NewKey};
use std::path::PathBuf;
use std::time::Duration;

#[derive(clap::Args, Clone, Debug)]
pub struct ConsoleArgs {
    /// Mark the console's session cookie `Secure` (sent over HTTPS only): set it when the ledger is served behind TLS.
    #[arg(long, env = "CONSENT_CONSOLE_SECURE_COOKIES")]
    pub console_secure_cookies: bool,
    /// A console session unused this long ends (the user signs in again).
    #[arg(
        long,
        env = "CONSENT_CONSOLE_SESSION_IDLE_SECS",
        default_value_t = 1800
    )]
    pub console_session_idle_secs: u64,
}

impl ConsoleArgs {
    /// Takes from `file` what the command line and the environment left
    /// at its default.
    pub fn apply_file(&mut self, file: &ConfigFile, matches: Option<&clap::ArgMatches>) {
        if let (Some(value), true) = (
            file.console_secure_cookies,
            file_may_set(matches, "console_secure_cookies"),
        ) {
            self.console_secure_cookies = value;
        }
        if let (Some(value), true) = (
            file.console_session_idle_secs,
            file_may_set(matches, "console_session_idle_secs"),
        ) {
            self.console_session_idle_secs = value;
        }
    }

    pub fn settings(&self) -> ConsoleSettings {
        ConsoleSettings {
            secure_cookies: self.console_secure_cookies,
            session_idle: Duration::from_secs(self.console_session_idle_secs.max(1)),
        }
    }
}

/// The key file `serve` reads, administered from the console: the same
/// writes as `consent-ledger api-key create` and `revoke`, and the new
/// keys handed to the guard at once (no wait for the reload interval).
pub struct KeyFileAdministration {
    pub path: PathBuf,
    pub guard: Guard,
}

impl KeyFileAdministration {
    fn reload(&self) -> Result<(), KeyAdministrationError> {
        let ring = KeyRing::read(&self.path).map_err(failed)?;
        self.guard.replace_keys(ring);
        Ok(())
    }
}

fn failed(error: impl std::fmt::Display) -> KeyAdministrationError {
    KeyAdministrationError(format!("{error:#}"))
}

impl KeyAdministration for KeyFileAdministration {
    fn list(&self) -> Result<Vec<KeyEntry>, KeyAdministrationError> {
        Ok(KeyRing::read(&self.path)
            .map_err(failed)?
            .entries()
            .to_vec())
    }

    fn create(
        &self,
        principal: Principal,
        note: Option<String>,
    ) -> Result<NewKey, KeyAdministrationError> {
        let key = add_key(&self.path, principal, note).map_err(failed)?;
        self.reload()?;
        Ok(NewKey {
            id: key.hash().id(),
            secret: key.secret().to_owned(),
        })
    }

    fn revoke(&self, id: &str) -> Result<bool, KeyAdministrationError> {
        let removed = remove_key(&self.path, id).map_err(failed)?;
        if removed {
            self.reload()?;
        }
        Ok(removed)
    }
}
