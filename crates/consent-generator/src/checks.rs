//! Check questions about generated subjects, as a campaign asks them: a
//! subject of the organisation that knows them (now and then another
//! one), by email or SMS, about one of its product categories.

use crate::rng::Rng;
use crate::subject::seconds;
use crate::{GeneratorConfig, Organisation};
use consent_schema::v1;

/// 2026-06-01T09:00:00Z: when the sampled checks are asked.
pub const CHECK_AT: i64 = 1_780_304_400;

/// An endless, seeded stream of [`v1::CheckRequest`]s.
pub struct CheckSampler {
    config: GeneratorConfig,
    organisations: Vec<Organisation>,
    subjects: u64,
    rng: Rng,
}

impl CheckSampler {
    /// Questions about the subjects of `config`, drawn with `seed` (use
    /// different seeds for different load generators).
    pub fn new(config: GeneratorConfig, seed: u64) -> Self {
        Self {
            organisations: config.organisation_list(),
            subjects: config.subjects.min(config.events).max(1),
            rng: Rng::for_item(config.seed, 5, seed),
            config,
        }
    }

    pub fn sample(&mut self) -> v1::CheckRequest {
        let subject = self.rng.below(self.subjects);
        let organisation = if self.rng.chance(950) {
            self.config.home_organisation(subject)
        } else {
            crate::rng::index(self.rng.below(self.organisations.len() as u64))
        };
        let org = &self.organisations[organisation];
        let channel = if self.rng.chance(700) {
            v1::Channel::Email
        } else {
            v1::Channel::Sms
        };
        v1::CheckRequest {
            organisation_id: org.id.clone(),
            subject_id: GeneratorConfig::subject_id(subject),
            channel: channel.into(),
            purpose: org.purpose().into(),
            product_category_id: if org.categories.is_empty() {
                String::new()
            } else {
                self.rng.pick(&org.categories).id.clone()
            },
            message_class: v1::MessageClass::Marketing.into(),
            promotional_content: true,
            sole_charitable_purpose: org.kind == v1::OrganisationKind::Charity,
            opt_out_included: true,
            sender_identified: true,
            at: Some(seconds(CHECK_AT)),
            ..v1::CheckRequest::default()
        }
    }
}

impl Iterator for CheckSampler {
    type Item = v1::CheckRequest;

    fn next(&mut self) -> Option<v1::CheckRequest> {
        Some(self.sample())
    }
}
