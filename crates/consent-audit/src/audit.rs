//! The whole audit of a bundle in one call.

use crate::recompute::DecisionRecompute;
use consent_domain::rules::RuleCatalogue;
use consent_evidence::{
    verify_bundle, verify_bundle_json, EvidenceBundle, VerificationReport, VerifierKey,
};

/// Verifies signatures, proofs and the manifest of `bundle` against the
/// log's `trusted` keys, and recomputes every decision under `catalogue`.
pub fn audit_bundle(
    bundle: &EvidenceBundle,
    trusted: &[VerifierKey],
    catalogue: &RuleCatalogue,
) -> VerificationReport {
    verify_bundle(bundle, trusted, &DecisionRecompute::new(catalogue.clone()))
}

/// [`audit_bundle`] on a bundle file's bytes.
pub fn audit_bundle_json(
    bytes: &[u8],
    trusted: &[VerifierKey],
    catalogue: &RuleCatalogue,
) -> VerificationReport {
    verify_bundle_json(bytes, trusted, &DecisionRecompute::new(catalogue.clone()))
}
