//! Current eligibility of every subject of one organisation for one
//! message, as CSV for bulk review (one row per subject).

use consent_domain::rules::{self, CheckRequest, Decision, RuleCatalogue, UnknownRuleSet};
use consent_domain::OrganisationId;
use consent_schema::v1;
use consent_store::{StoreError, ViewStore};
use std::io::Write;

/// The CSV's header row.
pub const ELIGIBILITY_CSV_HEADER: [&str; 11] = [
    "organisation_id",
    "subject_id",
    "channel",
    "purpose",
    "product_category_id",
    "at",
    "allowed",
    "lawful_basis",
    "reasons_against",
    "relied_on",
    "rule_set_id",
];

/// Why the CSV could not be written.
#[derive(Debug, thiserror::Error)]
pub enum EligibilityError {
    #[error("the view: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    UnknownRuleSet(#[from] UnknownRuleSet),
    #[error("writing the CSV: {0}")]
    Csv(#[from] csv::Error),
}

/// Writes one row per subject of `organisation` (every subject with any
/// recorded event), deciding `message` (its subject is replaced) from the
/// view. `progress` is called after each row with the rows written and
/// the total. Returns the number of rows.
pub fn eligibility_csv<W: Write>(
    store: &dyn ViewStore,
    catalogue: &RuleCatalogue,
    organisation: &OrganisationId,
    message: &CheckRequest,
    out: W,
    mut progress: impl FnMut(usize, usize),
) -> Result<usize, EligibilityError> {
    let rule_set = catalogue.select(message.rule_set.as_ref(), message.at)?;
    let organisation_state = store.organisation_state(organisation)?.unwrap_or_default();
    let subjects = store.subjects_of(organisation)?;
    let mut csv = csv::Writer::from_writer(out);
    csv.write_record(ELIGIBILITY_CSV_HEADER)?;
    for (row, subject) in subjects.iter().enumerate() {
        let question = CheckRequest {
            organisation: organisation.clone(),
            subject: Some(subject.clone()),
            ..message.clone()
        };
        let state = store
            .subject_state(organisation, subject)?
            .unwrap_or_default();
        let addresses = crate::addresses::states_for(store, &state, &question)?;
        let decision = rules::decide(rule_set, &organisation_state, &state, &addresses, &question);
        csv.write_record(row_of(&question, &decision))?;
        progress(row + 1, subjects.len());
    }
    csv.flush().map_err(csv::Error::from)?;
    Ok(subjects.len())
}

fn row_of(question: &CheckRequest, decision: &Decision) -> [String; 11] {
    let proto = consent_schema::decision_to_proto(decision);
    let request = consent_schema::check_to_proto(question);
    let name = |value: Result<&'static str, ()>| value.unwrap_or("UNKNOWN").to_owned();
    [
        question.organisation.as_str().to_owned(),
        question.addressee().to_owned(),
        name(
            v1::Channel::try_from(request.channel)
                .map(|c| c.as_str_name())
                .map_err(|_| ()),
        ),
        name(
            v1::Purpose::try_from(request.purpose)
                .map(|p| p.as_str_name())
                .map_err(|_| ()),
        ),
        request.product_category_id,
        question.at.to_string(),
        decision.allowed.to_string(),
        name(
            v1::LawfulBasis::try_from(proto.lawful_basis)
                .map(|b| b.as_str_name())
                .map_err(|_| ()),
        ),
        proto
            .reasons_against
            .iter()
            .map(|r| format!("{} {}", r.rule_id, r.code))
            .collect::<Vec<_>>()
            .join("; "),
        proto
            .relied_on
            .iter()
            .map(|e| e.event_id.clone())
            .collect::<Vec<_>>()
            .join(" "),
        proto.rule_set_id,
    ]
}
