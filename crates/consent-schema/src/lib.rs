//! The consent ledger's stored and wire form.
//!
//! * [`v1`]: the prost types generated from `proto/consent/v1/*.proto`
//!   (package `consent.v1`), with serde impls in the proto3 JSON mapping
//!   (camelCase field names, enum names as strings such as
//!   `"CHANNEL_EMAIL"`, timestamps as RFC 3339 text). The HTTP API speaks
//!   this JSON, the log stores the binary encoding, so both read the same
//!   schema;
//! * conversions to and from the domain ([`consent_domain`]):
//!   [`event_from_proto`] / [`event_to_proto`], [`prepare_for_append`],
//!   [`check_from_proto`] / [`check_to_proto`], [`decision_to_proto`] /
//!   [`decision_from_proto`], [`rule_set_to_proto`], and log positions;
//! * what the ledger asks of values as they enter it ([`EntryRules`]):
//!   telephone numbers in national format to E.164 ([`number_to_e164`],
//!   [`PhoneRegion`]), no fact from the future, no absurd dates;
//! * where a fact goes in the log: [`routing_key`] and [`family_of`] (its
//!   [`EventFamily`], whose topic is [`EventFamily::topic`] of the
//!   [`ledger_layout`]);
//! * the opt-out feed (`consent.v1.OptOutNotice`): [`opt_out_notice`], the
//!   notice a stored fact gives, on [`opt_out_feed_topic`], a derived topic
//!   of the [`ledger_layout`];
//! * the ledger's own records that are not facts ([`is_ledger_record_key`]:
//!   the contact-digest key's fingerprint);
//! * the stored bytes: [`encode_envelope`] / [`decode_envelope`].
//!
//! API boundary: this crate is the only place where wire data becomes
//! domain values. Everything that crosses it is validated, and refusals name
//! the field ([`ValidationError`]). No function here panics on any input.

mod append;
mod check;
mod codec;
mod contact;
mod contact_fields;
mod decision;
mod entry;
mod error;
mod event;
mod family;
mod fields;
mod ledger_record;
mod opt_out_feed;
mod position;
mod routing;
mod rule_set;
mod telephone;
mod timestamp;
mod vocabulary;
pub use vocabulary::Vocabulary;

/// The generated `consent.v1` package.
#[allow(clippy::all, missing_docs)]
pub mod v1 {
    include!(concat!(env!("OUT_DIR"), "/consent.v1.rs"));
    include!(concat!(env!("OUT_DIR"), "/consent.v1.serde.rs"));
}

/// The encoded `google.protobuf.FileDescriptorSet` of `proto/consent/v1`,
/// imports included: for gRPC server reflection and schema tooling.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/consent_v1_descriptor.bin"));

/// The well-known types the generated code uses (`pbjson_types::Timestamp`
/// is `google.protobuf.Timestamp`), re-exported so callers build them with
/// the same version.
pub use pbjson_types;

pub use append::prepare_for_append;
pub use check::{check_for_entry, check_from_proto, check_texts, check_to_proto};
pub use codec::{decode_envelope, encode_envelope};
pub use contact::{
    contact_kind, contact_point_from_proto, contact_value_from_text, normalised_value,
    CONTACT_DIGEST_BYTES,
};
pub use contact_fields::{contact_fields, ContactField};
pub use decision::{decision_from_proto, decision_into_proto, decision_to_proto};
pub use entry::{EntryRules, EARLIEST, LATEST};
pub use error::{DecodeError, ValidationError};
pub use event::{event_from_proto, event_id, event_to_proto, SCHEMA_VERSION};
pub use family::{ledger_layout, EventFamily};
pub use fields::{MAX_ENVELOPE_BYTES, MAX_ID_BYTES, MAX_LIST_ITEMS, MAX_TEXT_BYTES};
pub use ledger_record::{
    contact_digest_key_fingerprint, contact_digest_key_payload, is_ledger_record_key,
    CONTACT_DIGEST_KEY_RECORD, LEDGER_RECORD_KEY_PREFIX,
};
pub use opt_out_feed::{
    decode_opt_out_notice, encode_opt_out_notice, has_opt_out_feed, opt_out_feed_topic,
    opt_out_notice, opt_out_notice_key, OPT_OUT_FEED_SUFFIX,
};
pub use position::{event_position, log_position};
pub use routing::{family_of, is_organisation_key, record_key, routing_key, ROUTING_KEY_SEPARATOR};
pub use rule_set::rule_set_to_proto;
pub use telephone::{number_to_e164, PhoneRegion, UnknownPhoneRegion};
pub use timestamp::{timestamp_from_proto, timestamp_to_proto};
