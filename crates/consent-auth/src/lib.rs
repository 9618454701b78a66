//! Who may call the ledger, and for which organisation.
//!
//! * [`ApiKey`]: a random 256-bit secret, shown once when created
//!   (`clk_` + 43 base64url characters). Only its SHA-256 ([`KeyHash`]) is
//!   stored, with the [`Principal`] it belongs to: an organisation, or the
//!   admin. A slow password hash (argon2, bcrypt) is for low-entropy
//!   secrets a person chose; a 256-bit random key cannot be guessed from
//!   its SHA-256, so one fast hash is enough and keeps every request cheap.
//! * [`KeyRing`]: the keys of a key file (`api-keys.toml`, [`key_file`]);
//!   a presented key is hashed and compared with every stored hash in
//!   constant time.
//! * [`Guard`]: the edge's authentication, from the `Authorization: Bearer
//!   <key>` header (gRPC: `authorization` metadata) to a [`Caller`]; or, with
//!   no key file, open mode, where every caller may do everything.
//! * [`Guarded`]: the one authorization rule. The adapters wrap the ledger
//!   in it, so a handler reaches the ledger only by naming the organisation
//!   it acts for ([`Guarded::for_organisation`]), or by asking for the
//!   admin ([`Guarded::for_admin`]) or any authenticated caller
//!   ([`Guarded::for_any_caller`]).
//!
//! The rule ([`Principal::may`]): an organisation's key appends, checks and
//! reads only its own organisation's data; the admin reads and exports any
//! organisation's data and signs checkpoints, but neither appends nor
//! checks (facts and checks are an organisation's own acts, so each is
//! attributable to that organisation's key, and a leaked admin key cannot
//! write facts).
//!
//! Invariant: pure apart from reading the key file: no clock, no
//! randomness (a new key's bytes are an argument), no network.

mod guard;
mod key;
pub mod key_file;
mod principal;

pub use guard::{Guard, Guarded};
pub use key::{ApiKey, KeyHash, KEY_PREFIX};
pub use key_file::{KeyEntry, KeyFileError, KeyRing};
pub use principal::{Action, AuthError, Caller, Principal};
