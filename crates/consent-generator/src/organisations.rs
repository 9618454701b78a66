//! The generated organisations: every kind the law distinguishes, with
//! product categories (and what a customer would reasonably expect to hear
//! about) for those that sell.

use crate::rng::Rng;
use consent_schema::v1;

/// The kinds, in the proportions generated: six commercial organisations
/// in ten, two charities, one political party, one other not-for-profit.
const KIND_CYCLE: [v1::OrganisationKind; 10] = [
    v1::OrganisationKind::Commercial,
    v1::OrganisationKind::Commercial,
    v1::OrganisationKind::Charity,
    v1::OrganisationKind::Commercial,
    v1::OrganisationKind::Commercial,
    v1::OrganisationKind::PoliticalParty,
    v1::OrganisationKind::Commercial,
    v1::OrganisationKind::Charity,
    v1::OrganisationKind::Commercial,
    v1::OrganisationKind::OtherNotForProfit,
];

/// Sectors a commercial organisation sells in: its categories, in an
/// order where neighbours are the likely similar ones.
const SECTORS: [(&str, &[&str]); 6] = [
    (
        "motors",
        &["cars", "servicing", "mot", "tyres", "insurance"],
    ),
    ("tea", &["tea", "teapots", "cakes", "gifts"]),
    (
        "telecoms",
        &["broadband", "mobile", "tv", "landline", "insurance"],
    ),
    (
        "travel",
        &["flights", "hotels", "car-hire", "travel-insurance"],
    ),
    ("energy", &["gas", "electricity", "boiler-cover", "solar"]),
    (
        "fashion",
        &["womenswear", "menswear", "shoes", "accessories", "homeware"],
    ),
];

/// Charities that sell something besides asking for support.
const CHARITY_CATEGORIES: [&str; 3] = ["raffle", "shop", "lottery"];

/// One generated organisation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Organisation {
    pub id: String,
    pub kind: v1::OrganisationKind,
    /// Its product categories (empty for parties and other not-for-profits).
    pub categories: Vec<Category>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Category {
    pub id: String,
    pub similar: Vec<String>,
}

impl Organisation {
    /// The purpose its marketing serves.
    pub fn purpose(&self) -> v1::Purpose {
        match self.kind {
            v1::OrganisationKind::Commercial => v1::Purpose::Commercial,
            v1::OrganisationKind::Charity => v1::Purpose::Charitable,
            _ => v1::Purpose::Campaigning,
        }
    }

    /// The organisation-level facts that define it: registration, then its
    /// categories when it has any.
    pub fn facts(&self, index: u32) -> Vec<v1::envelope::Payload> {
        let name = match self.kind {
            v1::OrganisationKind::Commercial => format!("Generated Trading {index} Ltd"),
            v1::OrganisationKind::Charity => format!("Generated Trust {index}"),
            v1::OrganisationKind::PoliticalParty => format!("Generated Party {index}"),
            _ => format!("Generated Society {index}"),
        };
        let mut facts = vec![v1::envelope::Payload::OrganisationRegistered(
            v1::OrganisationRegistered {
                name,
                kind: self.kind.into(),
                charity_register_number: if self.kind == v1::OrganisationKind::Charity {
                    format!("{}", 1_100_000 + index)
                } else {
                    String::new()
                },
            },
        )];
        if !self.categories.is_empty() {
            facts.push(v1::envelope::Payload::ProductCategoriesDefined(
                v1::ProductCategoriesDefined {
                    categories: self
                        .categories
                        .iter()
                        .map(|category| v1::ProductCategory {
                            id: category.id.clone(),
                            name: category.id.replace('-', " "),
                            similar_category_ids: category.similar.clone(),
                        })
                        .collect(),
                },
            ));
        }
        facts
    }
}

/// The `index`th organisation under `seed`.
pub fn organisation(seed: u64, index: u32) -> Organisation {
    let mut rng = Rng::for_item(seed, 1, u64::from(index));
    let kind = KIND_CYCLE[index as usize % KIND_CYCLE.len()];
    let prefix = match kind {
        v1::OrganisationKind::Commercial => "com",
        v1::OrganisationKind::Charity => "chy",
        v1::OrganisationKind::PoliticalParty => "pol",
        _ => "npo",
    };
    let categories = match kind {
        v1::OrganisationKind::Commercial => {
            let (_, names) = *rng.pick(&SECTORS);
            let count = crate::rng::index(rng.between(2, names.len() as u64));
            let names = &names[..count];
            names
                .iter()
                .enumerate()
                .map(|(position, name)| Category {
                    id: (*name).to_owned(),
                    // The next category is similar more often than not;
                    // any other one now and then.
                    similar: names
                        .iter()
                        .enumerate()
                        .filter(|(other, _)| {
                            *other != position
                                && if *other == position + 1 {
                                    rng.chance(700)
                                } else {
                                    rng.chance(150)
                                }
                        })
                        .map(|(_, other)| (*other).to_owned())
                        .collect(),
                })
                .collect()
        }
        v1::OrganisationKind::Charity if rng.chance(500) => {
            let count = crate::rng::index(rng.between(1, CHARITY_CATEGORIES.len() as u64));
            CHARITY_CATEGORIES[..count]
                .iter()
                .map(|name| Category {
                    id: (*name).to_owned(),
                    similar: Vec::new(),
                })
                .collect()
        }
        _ => Vec::new(),
    };
    Organisation {
        id: format!("{prefix}-{index:04}"),
        kind,
        categories,
    }
}
