//! A deterministic, seeded generator of consent ledger data.
//!
//! Given a seed and sizes it yields `consent.v1.Envelope`s that the ledger
//! accepts (every one passes [`consent_schema::event_from_proto`], and is
//! already in the canonical form the ledger stores), and check questions
//! about the subjects it generated:
//!
//! * organisations of every kind (commercial, charity, political party,
//!   other not-for-profit), each registered, with product categories and
//!   their similarity for those that sell ([`Organisation`]);
//! * subjects, each known first through a sale, an enquiry, a donation or
//!   a consent, then a mix of later facts: marketing messages sent (about
//!   half), sales and negotiations, consents given and withdrawn, opt-outs
//!   and objections, TPS/CTPS listings, call preferences, subscriber types,
//!   contact points and the odd erasure request;
//! * exactly [`GeneratorConfig::events`] events: the organisations' facts
//!   first, then the subjects' in time order within windows of
//!   [`WINDOW_SUBJECTS`] subjects (so a batch of the log touches many
//!   subjects, as live traffic does).
//!
//! Pure: no IO, no clock, no global randomness. The same configuration
//! gives the same envelopes, hence the same bytes, on every machine.

mod checks;
mod ndjson;
mod organisations;
mod rng;
mod subject;

pub use checks::CheckSampler;
pub use ndjson::{ndjson_line, write_ndjson};
pub use organisations::{organisation, Category, Organisation};
pub use subject::HISTORY_START;

use consent_schema::v1;
use subject::seconds;

/// Subjects generated together and sorted by time before they are
/// yielded.
pub const WINDOW_SUBJECTS: u64 = 1024;

/// What to generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GeneratorConfig {
    pub seed: u64,
    /// Subjects that have events (fewer when `events` is too small to give
    /// each one).
    pub subjects: u64,
    /// Events in all, organisations' facts included.
    pub events: u64,
    /// Organisations; by default one per 5,000 subjects, at least 10 and at
    /// most 400.
    pub organisations: Option<u32>,
}

impl Default for GeneratorConfig {
    /// Small: 1,000 subjects, 10,000 events.
    fn default() -> Self {
        Self {
            seed: 1,
            subjects: 1_000,
            events: 10_000,
            organisations: None,
        }
    }
}

/// A configuration that cannot be generated.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum GeneratorError {
    #[error("subjects: must be at least 1")]
    NoSubjects,
    #[error("organisations: must be at least 1")]
    NoOrganisations,
    #[error(
        "events: {events} is too few; the {organisations} organisations alone need {needed} \
         (raise --events or lower --organisations)"
    )]
    TooFewEvents {
        events: u64,
        organisations: u32,
        needed: u64,
    },
}

impl GeneratorConfig {
    pub fn organisation_count(&self) -> u32 {
        self.organisations
            .unwrap_or_else(|| (self.subjects / 5_000).clamp(10, 400) as u32)
    }

    /// The generated organisations, in index order.
    pub fn organisation_list(&self) -> Vec<Organisation> {
        (0..self.organisation_count())
            .map(|index| organisation(self.seed, index))
            .collect()
    }

    /// The home organisation (index into [`Self::organisation_list`]) of
    /// subject `index`.
    pub fn home_organisation(&self, index: u64) -> usize {
        subject::organisations_of(self.seed, index, self.organisation_count()).0
    }

    /// The id of subject `index`.
    pub fn subject_id(index: u64) -> String {
        format!("s{index:07}")
    }
}

/// The envelopes of a configuration, in log order. Build with
/// [`Generator::new`]; iterate.
pub struct Generator {
    config: GeneratorConfig,
    organisations: Vec<Organisation>,
    /// Events left for the subjects after the organisations' facts.
    subject_events: u64,
    /// Organisations' envelopes, then each window's, waiting to be yielded
    /// (reversed: popped from the end).
    pending: Vec<v1::Envelope>,
    next_subject: u64,
}

impl Generator {
    pub fn new(config: GeneratorConfig) -> Result<Self, GeneratorError> {
        if config.subjects == 0 {
            return Err(GeneratorError::NoSubjects);
        }
        if config.organisation_count() == 0 {
            return Err(GeneratorError::NoOrganisations);
        }
        let organisations = config.organisation_list();
        let mut pending = Vec::new();
        for (index, org) in organisations.iter().enumerate() {
            let at = subject::HISTORY_START - 86_400 * 400 + index as i64 * 3_600;
            let number = u32::try_from(index).unwrap_or(u32::MAX);
            for (n, payload) in org.facts(number).into_iter().enumerate() {
                pending.push(envelope(
                    &config,
                    u64::MAX - (index as u64 * 4 + n as u64),
                    &org.id,
                    "",
                    at,
                    payload,
                    None,
                ));
            }
        }
        let needed = pending.len() as u64;
        if config.events < needed {
            return Err(GeneratorError::TooFewEvents {
                events: config.events,
                organisations: config.organisation_count(),
                needed,
            });
        }
        pending.reverse();
        Ok(Self {
            subject_events: config.events - needed,
            config,
            organisations,
            pending,
            next_subject: 0,
        })
    }

    pub fn config(&self) -> &GeneratorConfig {
        &self.config
    }

    pub fn organisations(&self) -> &[Organisation] {
        &self.organisations
    }

    /// The number of events subject `index` gets: the subject events spread
    /// as evenly as integers allow.
    fn events_of(&self, index: u64) -> u64 {
        let share = |i: u64| {
            let share =
                u128::from(i) * u128::from(self.subject_events) / u128::from(self.config.subjects);
            // At most subject_events, a u64.
            u64::try_from(share).unwrap_or(u64::MAX)
        };
        share(index + 1) - share(index)
    }

    fn fill_window(&mut self) {
        let end = (self.next_subject + WINDOW_SUBJECTS).min(self.config.subjects);
        let mut window = Vec::new();
        for index in self.next_subject..end {
            let count = self.events_of(index);
            if count == 0 {
                continue;
            }
            let subject_id = GeneratorConfig::subject_id(index);
            for (n, fact) in subject::facts(self.config.seed, index, count, &self.organisations)
                .into_iter()
                .enumerate()
            {
                window.push(envelope(
                    &self.config,
                    (index << 20) | n as u64,
                    &self.organisations[fact.organisation].id,
                    &subject_id,
                    fact.occurred_at,
                    fact.payload,
                    fact.source,
                ));
            }
        }
        self.next_subject = end;
        window.sort_by(|a, b| {
            let at = |e: &v1::Envelope| e.occurred_at.as_ref().map(|t| t.seconds);
            at(b).cmp(&at(a)).then_with(|| b.event_id.cmp(&a.event_id))
        });
        self.pending = window;
    }
}

impl Iterator for Generator {
    type Item = v1::Envelope;

    fn next(&mut self) -> Option<v1::Envelope> {
        while self.pending.is_empty() {
            if self.next_subject >= self.config.subjects {
                return None;
            }
            self.fill_window();
        }
        self.pending.pop()
    }
}

/// A complete envelope: a UUIDv7 id from the time and a stream seeded by
/// `id_stream`, recorded up to ten minutes after it occurred.
fn envelope(
    config: &GeneratorConfig,
    id_stream: u64,
    organisation: &str,
    subject: &str,
    occurred_at: i64,
    payload: v1::envelope::Payload,
    source: Option<v1::Source>,
) -> v1::Envelope {
    let mut rng = rng::Rng::for_item(config.seed, 4, id_stream);
    let random: [u8; 10] = rng.bytes();
    let millis = u64::try_from(occurred_at).unwrap_or(0) * 1_000 + rng.below(1_000);
    let id = uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid();
    v1::Envelope {
        event_id: id.to_string(),
        organisation_id: organisation.to_owned(),
        subject_id: subject.to_owned(),
        occurred_at: Some(seconds(occurred_at)),
        recorded_at: Some(seconds(occurred_at + rng.below(600) as i64)),
        // The canonical form always carries a source, empty when unknown.
        source: Some(source.unwrap_or_default()),
        schema_version: consent_schema::SCHEMA_VERSION,
        payload: Some(payload),
    }
}
