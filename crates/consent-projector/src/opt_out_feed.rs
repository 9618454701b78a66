//! The opt-out feed, as the projector writes it: for each fact that stops
//! marketing (`consent_schema::opt_out_notice`), one `consent.v1.OptOutNotice`
//! record on the layout's feed topic (`consent_schema::opt_out_feed_topic`),
//! keyed by organisation and subject.
//!
//! At least once, like the dead letters: the notices of a batch are
//! appended before the batch is committed with the view, so a crash between
//! the two, a restart from older offsets or a rebuild of the view appends
//! the same notices again (each names its `source_event_id`, which
//! consumers deduplicate on), and no notice of a committed record is ever
//! missing. Published only by the instance that owns the record's
//! partition, so a sharded ledger publishes each notice once per pass.

use consent_log::AppendRecord;
use consent_schema::v1;

/// The header naming the record's message type.
pub const MESSAGE_TYPE: &str = "message_type";
/// Its value on every feed record.
pub const OPT_OUT_NOTICE_TYPE: &str = "consent.v1.OptOutNotice";

/// The feed record of `notice` on `topic`.
pub(crate) fn record(notice: &v1::OptOutNotice, topic: String) -> AppendRecord {
    AppendRecord {
        topic,
        key: consent_schema::opt_out_notice_key(notice),
        payload: consent_schema::encode_opt_out_notice(notice),
        headers: vec![(
            MESSAGE_TYPE.to_owned(),
            OPT_OUT_NOTICE_TYPE.as_bytes().to_vec(),
        )],
    }
}
