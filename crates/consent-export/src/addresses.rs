//! The address states a decision reads, from the view.

use consent_domain::rules::{addresses_to_consult, CheckRequest};
use consent_domain::{AddressState, SubjectState};
use consent_store::{StoreError, ViewStore};

/// The states of the addresses a decision on `question` about `subject`
/// reads ([`addresses_to_consult`]); addresses with nothing on record are
/// left out.
pub fn states_for(
    store: &dyn ViewStore,
    subject: &SubjectState,
    question: &CheckRequest,
) -> Result<Vec<AddressState>, StoreError> {
    let mut states = Vec::new();
    for address in addresses_to_consult(subject, question) {
        if let Some(state) = store.address_state(&question.organisation, &address)? {
            states.push(state);
        }
    }
    Ok(states)
}
