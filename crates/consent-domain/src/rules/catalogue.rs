//! The UK rule sets: PECR 2003 (as amended before the Data (Use and Access)
//! Act 2025) and PECR as amended by DUAA from 5 February 2026.

use super::ids::*;
use super::rule_set::{
    CharitySoftOptIn, RuleCatalogue, RuleDescription, RuleId, RuleSet, RuleSetId,
};
use crate::time::Timestamp;

/// 2003-12-11T00:00:00Z: PECR 2003 (SI 2003/2426) in force.
pub const PECR_2003_IN_FORCE: Timestamp = Timestamp::from_unix_micros(1_071_100_800_000_000);

/// 2026-02-05T00:00:00Z: DUAA 2025 s.110 and s.114 in force (SI 2026/82).
pub const DUAA_IN_FORCE: Timestamp = Timestamp::from_unix_micros(1_770_249_600_000_000);

pub const UK_PECR_2003: &str = "uk-pecr-2003";
pub const UK_PECR_DUAA_2026: &str = "uk-pecr-duaa-2026-02-05";

/// ICO: consent bought in from a third party should not be relied on after
/// "about six months"; 183 days is half a (leap) year, rounded up.
pub const THIRD_PARTY_CONSENT_MAX_AGE_DAYS: i64 = 183;

/// PECR reg 21(3): a listed number is protected 28 days after listing.
pub const PREFERENCE_SERVICE_GRACE_DAYS: i64 = 28;

const AMEX_HALFORDS: &str = "ICO monetary penalties: American Express (2021), Halfords (2019)";

impl RuleCatalogue {
    /// The UK catalogue: `uk-pecr-2003` and `uk-pecr-duaa-2026-02-05`.
    pub fn uk() -> RuleCatalogue {
        RuleCatalogue::new(vec![uk_pecr_2003(), uk_pecr_duaa_2026()])
    }
}

fn rule(id: &str, title: &str, citation: &str) -> RuleDescription {
    RuleDescription {
        id: RuleId::from(id),
        title: title.to_owned(),
        citation: citation.to_owned(),
    }
}

/// The rules both UK rule sets share, in evaluation order, with R0 and R8
/// (whose citations differ) and R3c (only in the DUAA set) supplied by the
/// caller.
fn uk_rules(
    r0: RuleDescription,
    r3c: Option<RuleDescription>,
    r8: RuleDescription,
) -> Vec<RuleDescription> {
    let mut rules = vec![
        r0,
        rule(
            R1,
            "Objection and opt-out win",
            "UK GDPR Art 21(2), 21(3), 21(5); PECR 2003 reg 22(3)(c)",
        ),
        rule(
            R2,
            "Demonstrable consent",
            "UK GDPR Art 4(11), 7(1), 7(3), 7(4)",
        ),
        rule(
            R3,
            "Electronic mail to an individual subscriber needs consent or a soft opt-in",
            "PECR 2003 reg 22(1), 22(2)",
        ),
        rule(
            R3A,
            "Consent to this sender for this channel and purpose",
            "PECR 2003 reg 22(2); ICO guidance on indirect (third-party) consent",
        ),
        rule(
            R3B,
            "Commercial soft opt-in",
            "PECR 2003 reg 22(3); ICO guidance on electronic mail marketing",
        ),
    ];
    rules.extend(r3c);
    rules.extend([
        rule(
            R4,
            "Live calls: told-not-to-call, TPS and CTPS, claims and pensions",
            "PECR 2003 reg 21, 21(3), 21(4), 21A, 21B",
        ),
        rule(
            R5,
            "Automated calls need consent to automated calls",
            "PECR 2003 reg 19",
        ),
        rule(
            R6,
            "Every electronic marketing message identifies the sender and offers an opt-out",
            "PECR 2003 reg 23; reg 22(3)(c)",
        ),
        rule(
            R7,
            "Post: legitimate interests or consent",
            "UK GDPR Art 6(1)(f), Art 21(3)",
        ),
        r8,
        rule(
            R9,
            "Erasure suppresses the subject",
            "UK GDPR Art 17(1)(c), Art 21(3)",
        ),
    ]);
    rules
}

fn uk_pecr_2003() -> RuleSet {
    RuleSet {
        id: RuleSetId::from(UK_PECR_2003),
        title: "UK PECR 2003 (as amended before the Data (Use and Access) Act 2025) with UK GDPR"
            .to_owned(),
        effective_from: PECR_2003_IN_FORCE,
        rules: uk_rules(
            rule(
                R0,
                "Scope: direct marketing to a known subject by a known sender",
                &format!(
                    "PECR 2003 reg 2(2); DPA 2018 s.122(5) (formerly DPA 1998 s.11(3)); {AMEX_HALFORDS}"
                ),
            ),
            None,
            rule(
                R8,
                "Effective dating",
                "PECR 2003 (SI 2003/2426), in force 11 December 2003",
            ),
        ),
        charity_soft_opt_in: None,
        third_party_consent_max_age_days: THIRD_PARTY_CONSENT_MAX_AGE_DAYS,
        preference_service_grace_days: PREFERENCE_SERVICE_GRACE_DAYS,
    }
}

fn uk_pecr_duaa_2026() -> RuleSet {
    RuleSet {
        id: RuleSetId::from(UK_PECR_DUAA_2026),
        title: "UK PECR 2003 as amended by the Data (Use and Access) Act 2025, with UK GDPR"
            .to_owned(),
        effective_from: DUAA_IN_FORCE,
        rules: uk_rules(
            rule(
                R0,
                "Scope: direct marketing to a known subject by a known sender",
                &format!("PECR 2003 reg 2 (as amended by DUAA s.110); {AMEX_HALFORDS}"),
            ),
            Some(rule(
                R3C,
                "Charity soft opt-in",
                "PECR 2003 reg 22(3A), inserted by Data (Use and Access) Act 2025 s.114; \
                 in force 5 February 2026 (SI 2026/82)",
            )),
            rule(
                R8,
                "Effective dating",
                "PECR 2003 (SI 2003/2426) as amended by the Data (Use and Access) Act 2025; \
                 commencement 5 February 2026 (SI 2026/82)",
            ),
        ),
        charity_soft_opt_in: Some(CharitySoftOptIn {
            details_obtained_from: DUAA_IN_FORCE,
        }),
        third_party_consent_max_age_days: THIRD_PARTY_CONSENT_MAX_AGE_DAYS,
        preference_service_grace_days: PREFERENCE_SERVICE_GRACE_DAYS,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::UnknownRuleSet;

    fn date(y: i32, m: u8, d: u8) -> Timestamp {
        Timestamp::from_date(y, m, d).expect("valid test date")
    }

    #[test]
    fn commencement_constants_are_the_dates_they_name() {
        assert_eq!(PECR_2003_IN_FORCE, date(2003, 12, 11));
        assert_eq!(DUAA_IN_FORCE, date(2026, 2, 5));
    }

    /// R8: the rule set in force is the latest one whose date has come.
    #[test]
    fn in_force_at_picks_the_latest_rule_set_that_has_taken_effect() {
        let uk = RuleCatalogue::uk();
        let id = |at| uk.in_force_at(at).map(|r| r.id.as_str().to_owned());
        assert_eq!(id(date(2003, 12, 10)), None);
        assert_eq!(id(date(2003, 12, 11)).as_deref(), Some(UK_PECR_2003));
        assert_eq!(id(date(2026, 2, 4)).as_deref(), Some(UK_PECR_2003));
        assert_eq!(id(DUAA_IN_FORCE).as_deref(), Some(UK_PECR_DUAA_2026));
        assert_eq!(
            id(Timestamp::from_unix_micros(DUAA_IN_FORCE.unix_micros() - 1)).as_deref(),
            Some(UK_PECR_2003)
        );
        assert_eq!(id(date(2030, 1, 1)).as_deref(), Some(UK_PECR_DUAA_2026));
    }

    /// R8: a requested rule set wins over the one in force, even a later
    /// one (replay); an unknown id is a typed error naming it.
    #[test]
    fn select_honours_the_request_and_names_an_unknown_id() {
        let uk = RuleCatalogue::uk();
        let before = date(2025, 6, 1);
        let chosen = |requested: Option<&str>, at| {
            uk.select(requested.map(RuleSetId::from).as_ref(), at)
                .map(|r| r.id.as_str().to_owned())
        };
        assert_eq!(chosen(None, before).as_deref(), Ok(UK_PECR_2003));
        assert_eq!(
            chosen(Some(UK_PECR_DUAA_2026), before).as_deref(),
            Ok(UK_PECR_DUAA_2026)
        );
        assert_eq!(
            chosen(Some(UK_PECR_2003), date(2027, 1, 1)).as_deref(),
            Ok(UK_PECR_2003)
        );

        let unknown = uk.select(Some(&RuleSetId::from("eu-eprivacy-2002")), before);
        assert_eq!(
            unknown.map(|r| r.id.clone()),
            Err(UnknownRuleSet::NotInCatalogue {
                id: RuleSetId::from("eu-eprivacy-2002")
            })
        );
        let error = uk
            .select(Some(&RuleSetId::from("eu-eprivacy-2002")), before)
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            error.as_deref(),
            Some("unknown rule set `eu-eprivacy-2002`")
        );
        assert_eq!(
            uk.select(None, date(2000, 1, 1)).map(|r| r.id.clone()),
            Err(UnknownRuleSet::NoneInForce {
                at: date(2000, 1, 1)
            })
        );
    }

    #[test]
    fn get_and_all_list_both_uk_rule_sets_oldest_first() {
        let uk = RuleCatalogue::uk();
        let ids: Vec<&str> = uk.all().iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, [UK_PECR_2003, UK_PECR_DUAA_2026]);
        assert!(uk.get(&RuleSetId::from(UK_PECR_2003)).is_some());
        assert!(uk.get(&RuleSetId::from("uk-pecr-1999")).is_none());
    }

    /// R3c exists only from DUAA; both sets share every other rule id, in
    /// the same order, each with a title and a citation.
    #[test]
    fn the_duaa_rule_set_adds_exactly_the_charity_soft_opt_in() {
        let uk = RuleCatalogue::uk();
        let [pecr, duaa] = uk.all() else {
            panic!("expected two UK rule sets");
        };
        let ids = |r: &RuleSet| {
            r.rules
                .iter()
                .map(|d| d.id.as_str().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            ids(pecr),
            ["R0", "R1", "R2", "R3", "R3a", "R3b", "R4", "R5", "R6", "R7", "R8", "R9"]
        );
        assert_eq!(
            ids(duaa),
            ["R0", "R1", "R2", "R3", "R3a", "R3b", "R3c", "R4", "R5", "R6", "R7", "R8", "R9"]
        );
        assert_eq!(pecr.charity_soft_opt_in(), None);
        assert_eq!(
            duaa.charity_soft_opt_in().map(|c| c.details_obtained_from),
            Some(DUAA_IN_FORCE)
        );
        for set in uk.all() {
            assert_eq!(set.third_party_consent_max_age_days, 183);
            assert_eq!(set.preference_service_grace_days, 28);
            for rule in &set.rules {
                assert!(
                    !rule.title.is_empty() && !rule.citation.is_empty(),
                    "{rule:?}"
                );
            }
        }
        assert!(duaa.rule(R3C).is_some_and(
            |r| r.citation.contains("reg 22(3A)") && r.citation.contains("SI 2026/82")
        ));
        assert!(!pecr.rule(R0).is_some_and(|r| r.citation.contains("DUAA")));
    }
}
