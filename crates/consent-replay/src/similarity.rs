//! Similarity overrides: an organisation's product-similarity map replaced,
//! for the candidate only, by another one.
//!
//! The override stands in for every `ProductCategoriesDefined` the
//! organisation recorded, as one synthetic fact at the time of its first
//! organisation-level fact (its registration, usually): "as if it had always
//! defined this map". The synthetic fact has a deterministic id
//! ([`similarity_override_event_id`]) and no log position, so decisions
//! that rely on it say so. It exists only in the replayer's memory.

use crate::error::SimilarityFileError;
use consent_domain::event::{Fact, ProductCategoriesDefined};
use consent_domain::rules::catalogue::PECR_2003_IN_FORCE;
use consent_domain::{Event, EventId, OrganisationId, OrganisationState, Source};
use consent_schema::v1;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The id of the synthetic fact an override stands in as: a UUID (version
/// 8) from the SHA-256 of the organisation id, the same on every machine.
pub fn similarity_override_event_id(organisation: &OrganisationId) -> EventId {
    let digest = Sha256::new()
        .chain_update(b"consent-replay similarity override\x1f")
        .chain_update(organisation.as_str().as_bytes())
        .finalize();
    let mut bytes = [0_u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    EventId(uuid::Builder::from_custom_bytes(bytes).into_uuid())
}

/// The candidate's organisations: each organisation the plan overrides,
/// its state (from `organisations`) with its similarity maps replaced.
pub(crate) fn candidate_organisations(
    plan: &crate::ReplayPlan,
    organisations: &BTreeMap<OrganisationId, OrganisationState>,
) -> BTreeMap<OrganisationId, OrganisationState> {
    plan.similarity_overrides
        .iter()
        .map(|(organisation, map)| {
            let state = organisations.get(organisation);
            (
                organisation.clone(),
                with_override(organisation, state, map),
            )
        })
        .collect()
}

/// The organisation's state with its similarity maps replaced by `map`.
/// `state` is `None` for an organisation with no facts at all.
pub(crate) fn with_override(
    organisation: &OrganisationId,
    state: Option<&OrganisationState>,
    map: &ProductCategoriesDefined,
) -> OrganisationState {
    let facts = state.map(|s| s.facts.facts()).unwrap_or_default();
    let from = facts
        .first()
        .map_or(PECR_2003_IN_FORCE, |first| first.occurred_at);
    let mut replaced = OrganisationState::default();
    let kept = facts
        .iter()
        .filter(|f| !matches!(f.fact, Fact::ProductCategoriesDefined(_)));
    for recorded in kept {
        let event = Event {
            id: recorded.id,
            organisation: organisation.clone(),
            subject: None,
            occurred_at: recorded.occurred_at,
            recorded_at: recorded.occurred_at,
            source: Source::default(),
            fact: recorded.fact.clone(),
        };
        replaced.apply(&event, recorded.position.clone());
    }
    let synthetic = Event {
        id: similarity_override_event_id(organisation),
        organisation: organisation.clone(),
        subject: None,
        occurred_at: from,
        recorded_at: from,
        source: Source {
            system: "consent-replay".to_owned(),
            actor: String::new(),
            evidence_ref: "similarity override".to_owned(),
            form_id: String::new(),
            url: String::new(),
        },
        fact: Fact::ProductCategoriesDefined(map.clone()),
    };
    replaced.apply(&synthetic, None);
    replaced
}

/// Reads similarity overrides: a JSON object whose keys are organisation
/// ids and whose values are `consent.v1.ProductCategoriesDefined` in proto3
/// JSON, e.g.
///
/// ```json
/// {"tea-shop": {"categories": [
///   {"id": "tea", "name": "Tea", "similarCategoryIds": ["teapots"]},
///   {"id": "teapots", "name": "Teapots"}]}}
/// ```
///
/// Each map passes the same validation as a recorded
/// `ProductCategoriesDefined` (ids non-empty and unique, sizes bounded),
/// and an error names the organisation and the field.
pub fn parse_similarity_overrides(
    json: &str,
) -> Result<BTreeMap<OrganisationId, ProductCategoriesDefined>, SimilarityFileError> {
    let maps: BTreeMap<String, v1::ProductCategoriesDefined> =
        serde_json::from_str(json).map_err(SimilarityFileError::Json)?;
    let mut overrides = BTreeMap::new();
    for (organisation, map) in maps {
        let id = OrganisationId::new(organisation.clone());
        let invalid = |error| SimilarityFileError::Invalid {
            organisation: id.clone(),
            error,
        };
        let envelope = v1::Envelope {
            event_id: uuid::Uuid::nil().to_string(),
            organisation_id: organisation,
            occurred_at: Some(consent_schema::pbjson_types::Timestamp::default()),
            recorded_at: Some(consent_schema::pbjson_types::Timestamp::default()),
            payload: Some(v1::envelope::Payload::ProductCategoriesDefined(map)),
            ..v1::Envelope::default()
        };
        let event = consent_schema::event_from_proto(&envelope).map_err(invalid)?;
        if let Fact::ProductCategoriesDefined(defined) = event.fact {
            overrides.insert(id, defined);
        }
    }
    Ok(overrides)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_maps_organisations_to_validated_category_maps() {
        let overrides = parse_similarity_overrides(
            r#"{"tea-shop": {"categories": [
                 {"id": "tea", "name": "Tea", "similarCategoryIds": ["teapots"]},
                 {"id": "teapots", "name": "Teapots"}]}}"#,
        );
        let overrides = match overrides {
            Ok(overrides) => overrides,
            Err(error) => panic!("valid file refused: {error}"),
        };
        let map = &overrides[&OrganisationId::from("tea-shop")];
        assert!(map.is_similar(&"tea".into(), &"teapots".into()));
        assert!(!map.is_similar(&"teapots".into(), &"tea".into()));
    }

    #[test]
    fn errors_name_the_organisation_and_the_field() {
        let error = parse_similarity_overrides(
            r#"{"tea-shop": {"categories": [{"id": "tea"}, {"id": "tea"}]}}"#,
        )
        .err()
        .map(|e| e.to_string());
        let error = error.unwrap_or_default();
        assert!(error.contains("`tea-shop`"), "{error}");
        assert!(
            error.contains("product_categories_defined.categories[1].id"),
            "{error}"
        );
        assert!(parse_similarity_overrides("[1, 2]").is_err());
        assert!(parse_similarity_overrides(r#"{"": {"categories": []}}"#).is_err());
    }

    #[test]
    fn the_synthetic_id_is_stable_and_differs_per_organisation() {
        let a = similarity_override_event_id(&"a".into());
        assert_eq!(a, similarity_override_event_id(&"a".into()));
        assert_ne!(a, similarity_override_event_id(&"b".into()));
        assert_eq!(a.0.get_version_num(), 8);
    }
}
