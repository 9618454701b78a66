//! A running ledger over real parts: the embedded log in a directory, a
//! view store, and a projector task folding the one into the other.
#![allow(dead_code)] // each test binary uses a different subset

use consent_evidence::CheckpointSigner;
use consent_export::{CheckpointArchive, Checkpointer};
use consent_log::{EventLog, LogLayout, LogPosition};
use consent_log_embedded::EmbeddedLog;
use consent_projector::{OwnedPartitions, Projector, ProjectorConfig, ProjectorError};
use consent_schema::v1;
use consent_sealing::Sealer;
use consent_service::{Ledger, LedgerConfig};
use consent_store::ViewStore;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub const ORG: &str = "acme-cycles";
pub const SUBJECT: &str = "customer-1842";

pub fn layout() -> LogLayout {
    consent_schema::ledger_layout("test", 4)
}

/// A ledger with its projector running.
/// What a test ledger is built with beyond the log and the view.
pub struct Parts {
    pub config: LedgerConfig,
    pub ownership: OwnedPartitions,
    /// Evidence: checkpoints signed with this key, archived in `dir/checkpoints`.
    pub signer: Option<CheckpointSigner>,
    /// Contact values sealed with this sealer.
    pub sealer: Option<Sealer>,
}

impl Default for Parts {
    fn default() -> Self {
        Self {
            config: LedgerConfig::default(),
            ownership: OwnedPartitions::All,
            signer: None,
            sealer: None,
        }
    }
}

pub struct Running {
    pub ledger: Ledger,
    pub log: EmbeddedLog,
    shutdown: watch::Sender<bool>,
    projector: JoinHandle<Result<(), ProjectorError>>,
}

impl Running {
    /// Opens (or reopens) the log in `dir` and projects it into `store`.
    pub fn start(dir: &Path, store: Arc<dyn ViewStore>, config: LedgerConfig) -> Self {
        Self::start_owning(dir, store, config, OwnedPartitions::All)
    }

    /// [`Running::start`] for an instance that owns `ownership` only.
    pub fn start_owning(
        dir: &Path,
        store: Arc<dyn ViewStore>,
        config: LedgerConfig,
        ownership: OwnedPartitions,
    ) -> Self {
        Self::start_with(
            dir,
            store,
            Parts {
                config,
                ownership,
                ..Parts::default()
            },
        )
    }

    /// [`Running::start`] with evidence enabled: checkpoints signed by
    /// `signer`, archived in `dir/checkpoints`.
    pub fn start_with_evidence(
        dir: &Path,
        store: Arc<dyn ViewStore>,
        signer: CheckpointSigner,
    ) -> Self {
        Self::start_with(
            dir,
            store,
            Parts {
                signer: Some(signer),
                ..Parts::default()
            },
        )
    }

    /// A ledger over the log in `dir` and `store` with the optional `parts`.
    pub fn start_with(dir: &Path, store: Arc<dyn ViewStore>, parts: Parts) -> Self {
        let Parts {
            config,
            ownership,
            signer,
            sealer,
        } = parts;
        let log = EmbeddedLog::open(dir, layout()).expect("open the embedded log");
        let shared: Arc<dyn EventLog> = Arc::new(log.clone());
        let projector = Projector::new(
            Arc::clone(&shared),
            Arc::clone(&store),
            ProjectorConfig {
                poll_wait: Duration::from_millis(20),
                ownership,
                ..ProjectorConfig::default()
            },
        );
        let handle = projector.handle();
        let mut ledger = Ledger::builder(projector.projection()).config(config);
        if let Some(signer) = signer {
            let archive =
                CheckpointArchive::open(&dir.join("checkpoints")).expect("open the archive");
            ledger =
                ledger.evidence(Checkpointer::new(signer, handle, archive).expect("checkpointer"));
        }
        if let Some(sealer) = sealer {
            ledger = ledger.sealing(sealer);
        }
        let ledger = ledger.build();
        let (shutdown, stop) = watch::channel(false);
        let projector = tokio::spawn(projector.run(stop));
        Self {
            ledger,
            log,
            shutdown,
            projector,
        }
    }

    /// Stops the projector and drops every handle on the log and the view.
    pub async fn stop(self) {
        let Running {
            ledger,
            log,
            shutdown,
            projector,
        } = self;
        drop(ledger);
        shutdown.send_replace(true);
        projector
            .await
            .expect("projector task")
            .expect("projector ran");
        drop(log);
    }
}

pub fn at(text: &str) -> consent_schema::pbjson_types::Timestamp {
    let t = consent_domain::Timestamp::parse_rfc3339(text).expect("RFC 3339 test time");
    consent_schema::timestamp_to_proto(t)
}

fn envelope(subject: &str, occurred_at: &str, payload: v1::envelope::Payload) -> v1::Envelope {
    v1::Envelope {
        organisation_id: ORG.to_owned(),
        subject_id: subject.to_owned(),
        occurred_at: Some(at(occurred_at)),
        source: Some(v1::Source {
            system: "shop".to_owned(),
            ..Default::default()
        }),
        payload: Some(payload),
        ..Default::default()
    }
}

pub fn organisation_registered() -> v1::Envelope {
    envelope(
        "",
        "2024-01-01T00:00:00Z",
        v1::envelope::Payload::OrganisationRegistered(v1::OrganisationRegistered {
            name: "Acme Cycles Ltd".to_owned(),
            kind: v1::OrganisationKind::Commercial.into(),
            charity_register_number: String::new(),
        }),
    )
}

/// Bikes: a bike buyer expects to hear about helmets.
pub fn categories_defined() -> v1::Envelope {
    envelope(
        "",
        "2024-01-01T00:00:00Z",
        v1::envelope::Payload::ProductCategoriesDefined(v1::ProductCategoriesDefined {
            categories: vec![
                v1::ProductCategory {
                    id: "bikes".to_owned(),
                    name: "Bicycles".to_owned(),
                    similar_category_ids: vec!["helmets".to_owned()],
                },
                v1::ProductCategory {
                    id: "helmets".to_owned(),
                    name: "Helmets".to_owned(),
                    similar_category_ids: vec![],
                },
            ],
        }),
    )
}

/// A bike sold online, details collected directly with an opt-out offered
/// and not taken.
pub fn sale(subject: &str, occurred_at: &str) -> v1::Envelope {
    envelope(
        subject,
        occurred_at,
        v1::envelope::Payload::SaleRecorded(v1::SaleRecorded {
            product_category_id: "bikes".to_owned(),
            order_ref: "order-77".to_owned(),
            collection: Some(v1::DetailsCollection {
                route: v1::CollectionRoute::Direct.into(),
                opt_out_offered: true,
                opt_out_taken: false,
                form_version: "checkout-v3".to_owned(),
                contact_point: None,
            }),
        }),
    )
}

/// A marketing email about helmets, as sent.
pub fn helmet_email_sent(subject: &str, occurred_at: &str, message_id: &str) -> v1::Envelope {
    envelope(
        subject,
        occurred_at,
        v1::envelope::Payload::MarketingMessageSent(v1::MarketingMessageSent {
            channel: v1::Channel::Email.into(),
            purpose: v1::Purpose::Commercial.into(),
            product_category_id: "helmets".to_owned(),
            message_class: v1::MessageClass::Marketing.into(),
            promotional_content: true,
            opt_out_included: true,
            sender_identified: true,
            message_id: message_id.to_owned(),
            campaign_id: "spring-helmets".to_owned(),
            contact_point: None,
            sole_charitable_purpose: false,
        }),
    )
}

pub fn objection(subject: &str, occurred_at: &str) -> v1::Envelope {
    envelope(
        subject,
        occurred_at,
        v1::envelope::Payload::ObjectionRecorded(v1::ObjectionRecorded {
            contact_point: None,
            received_via: v1::OptOutMethod::OneClick.into(),
        }),
    )
}

/// A consent that names no channel: invalid.
pub fn consent_without_channels(subject: &str) -> v1::Envelope {
    envelope(
        subject,
        "2025-01-01T00:00:00Z",
        v1::envelope::Payload::ConsentGiven(v1::ConsentGiven {
            channels: vec![v1::Channel::Unspecified.into()],
            purposes: vec![v1::Purpose::Commercial.into()],
            wording_version: "w-1".to_owned(),
            wording_sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
                .to_owned(),
            method: v1::CollectionMethod::UntickedCheckbox.into(),
            collector: v1::ConsentCollector::FirstParty.into(),
            ..Default::default()
        }),
    )
}

/// "May we email this subject about helmets?" in a compliant message.
pub fn helmet_email(subject: &str, wait_for: &[LogPosition]) -> v1::CheckRequest {
    v1::CheckRequest {
        organisation_id: ORG.to_owned(),
        subject_id: subject.to_owned(),
        channel: v1::Channel::Email.into(),
        purpose: v1::Purpose::Commercial.into(),
        product_category_id: "helmets".to_owned(),
        message_class: v1::MessageClass::Marketing.into(),
        opt_out_included: true,
        sender_identified: true,
        wait_for: wait_for.iter().map(v1::LogPosition::from).collect(),
        ..Default::default()
    }
}

pub fn lawful_basis(decision: &v1::Decision) -> v1::LawfulBasis {
    v1::LawfulBasis::try_from(decision.lawful_basis).expect("a known lawful basis")
}

pub fn reason_codes(decision: &v1::Decision) -> Vec<&str> {
    decision
        .reasons_against
        .iter()
        .map(|r| r.code.as_str())
        .collect()
}
