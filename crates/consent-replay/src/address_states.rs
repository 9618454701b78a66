//! Where a replay's decisions read the address states they consult
//! ([`addresses_to_consult`](consent_domain::rules::addresses_to_consult)):
//! an opt-out or objection received for an address, a TPS/CTPS listing or
//! a call preference of a number, whichever subject it was recorded under.
//!
//! The in-memory [`crate::Replayer`] keeps them in a map. The streamed
//! replay cannot: there is about one address state per address fact, so
//! they grow with the log. Its runner folds them one address at a time and
//! keeps them in a file it looks them up in (consent-replay-runner's
//! `AddressTable`); this trait is what deciding needs of either.

use consent_domain::vocabulary::ContactValue;
use consent_domain::{AddressState, OrganisationId};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::convert::Infallible;

/// The address states a replay decides with, by (organisation, address).
pub trait AddressStates {
    /// Why a state could not be read (a map never fails).
    type Error;

    /// The state of `address` for `organisation`, if any fact names it.
    fn address_state(
        &self,
        organisation: &OrganisationId,
        address: &ContactValue,
    ) -> Result<Option<AddressState>, Self::Error>;
}

impl AddressStates for BTreeMap<(OrganisationId, ContactValue), AddressState> {
    type Error = Infallible;

    fn address_state(
        &self,
        organisation: &OrganisationId,
        address: &ContactValue,
    ) -> Result<Option<AddressState>, Infallible> {
        Ok(self.get(&(organisation.clone(), address.clone())).cloned())
    }
}

/// Remembers the states read for one subject, whose questions consult the
/// same few addresses again and again: each is read once.
pub(crate) struct Remembered<'a, A: ?Sized> {
    states: &'a A,
    read: RefCell<BTreeMap<(OrganisationId, ContactValue), Option<AddressState>>>,
}

impl<'a, A: AddressStates + ?Sized> Remembered<'a, A> {
    pub fn new(states: &'a A) -> Self {
        Self {
            states,
            read: RefCell::new(BTreeMap::new()),
        }
    }
}

impl<A: AddressStates + ?Sized> AddressStates for Remembered<'_, A> {
    type Error = A::Error;

    fn address_state(
        &self,
        organisation: &OrganisationId,
        address: &ContactValue,
    ) -> Result<Option<AddressState>, A::Error> {
        let key = (organisation.clone(), address.clone());
        if let Some(state) = self.read.borrow().get(&key) {
            return Ok(state.clone());
        }
        let state = self.states.address_state(organisation, address)?;
        self.read.borrow_mut().insert(key, state.clone());
        Ok(state)
    }
}

/// The value of a result that cannot be an error.
pub(crate) fn infallible<T>(result: Result<T, Infallible>) -> T {
    match result {
        Ok(value) => value,
        Err(never) => match never {},
    }
}
