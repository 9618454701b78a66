//! Finding a subject: by its id, or by an email address or telephone
//! number through the address's digest (the clear value is never
//! stored: it is normalised and digested exactly as an append seals it,
//! then looked up in the view's contact-point index).

use crate::error::LedgerError;
use crate::ledger::Ledger;
use consent_domain::vocabulary::{ContactKind, ContactPoint};
use consent_domain::{OrganisationId, SubjectId};
use consent_schema::{normalised_value, number_to_e164};

/// What kind of address a search gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressSearch {
    /// An email address (any case).
    Email,
    /// A telephone number, E.164 or in the national format of the ledger's
    /// phone region (mobile and landline numbers both).
    Telephone,
}

impl Ledger {
    /// Whether `organisation` holds any fact or history entry about
    /// `subject` (on this instance's partitions).
    pub fn subject_known(
        &self,
        organisation: &OrganisationId,
        subject: &SubjectId,
    ) -> Result<bool, LedgerError> {
        self.ensure_owned(organisation, subject, "")?;
        let store = &self.inner.store;
        Ok(store.subject_state(organisation, subject)?.is_some()
            || !store.history(organisation, subject)?.is_empty())
    }

    /// The subjects of `organisation` an address was recorded for, in
    /// order: `value` is read as the edge reads it (`field` names it in a
    /// refusal), then compared in the form stored values have (its digest
    /// when this ledger seals). The address itself goes no further.
    pub fn subjects_by_address(
        &self,
        organisation: &OrganisationId,
        search: AddressSearch,
        field: &str,
        value: &str,
    ) -> Result<Vec<SubjectId>, LedgerError> {
        let points = self.comparable_points(organisation, search, field, value)?;
        let mut subjects = Vec::new();
        for point in points {
            for (owner, subject) in self.inner.store.subjects_by_contact(&point)? {
                if owner == *organisation {
                    subjects.push(subject);
                }
            }
        }
        subjects.sort();
        subjects.dedup();
        Ok(subjects)
    }

    /// The contact points a search names, in the form stored values have
    /// (its digest when this ledger seals): an email address, or a number
    /// as a mobile and as a landline.
    pub(crate) fn comparable_points(
        &self,
        organisation: &OrganisationId,
        search: AddressSearch,
        field: &str,
        value: &str,
    ) -> Result<Vec<ContactPoint>, LedgerError> {
        let invalid = |error| LedgerError::invalid(None, error);
        let points: Vec<ContactPoint> = match search {
            AddressSearch::Email => vec![ContactPoint {
                kind: ContactKind::Email,
                value: normalised_value(field, ContactKind::Email, value).map_err(invalid)?,
            }],
            AddressSearch::Telephone => {
                let number = number_to_e164(field, value, self.inner.config.entry.phone_region)
                    .map_err(invalid)?;
                [ContactKind::Mobile, ContactKind::Landline]
                    .into_iter()
                    .map(|kind| ContactPoint {
                        kind,
                        value: number.clone(),
                    })
                    .collect()
            }
        };
        Ok(points
            .iter()
            .map(|point| self.comparable(organisation, point))
            .collect())
    }
}
