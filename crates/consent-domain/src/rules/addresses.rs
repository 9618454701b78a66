//! Which addresses a check must consult: the suppression of an address
//! (an opt-out or objection received for it, a TPS/CTPS listing or call
//! preference of a number) holds whichever subject id the message is
//! addressed under, so a decision reads the [`AddressState`] of every
//! address the message may go to.
//!
//! [`AddressState`]: crate::fold::AddressState

use super::check::CheckRequest;
use crate::fold::SubjectState;
use crate::vocabulary::ContactValue;

/// The addresses (as [`crate::Fact::address`] gives them: normalised, or
/// their digest once sealed) whose states a decision on `request` must
/// read: the check's contact point when it names one; otherwise every
/// address of `subject` on record that can receive the channel (the
/// message will go to one of them, so a suppression of any refuses).
/// Sorted and without repeats.
pub fn addresses_to_consult(subject: &SubjectState, request: &CheckRequest) -> Vec<ContactValue> {
    let mut addresses: Vec<ContactValue> = match &request.contact_point {
        Some(point) => vec![point.value.clone()],
        None => subject
            .facts
            .as_of(request.at)
            .iter()
            .filter_map(|recorded| recorded.fact.contact_point())
            .filter(|point| super::scope::fits(request.channel, point.kind))
            .map(|point| point.value.clone())
            .collect(),
    };
    addresses.sort_unstable();
    addresses.dedup();
    addresses
}
