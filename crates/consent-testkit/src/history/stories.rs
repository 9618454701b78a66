//! The histories the tests replay.

use super::History;
use consent_domain::vocabulary::CollectionRoute;
use consent_domain::vocabulary::Purpose::{Charitable, Commercial};

/// A charity and its supporters, and a car dealer using the ordinary
/// (commercial) soft opt-in.
pub fn charity_history() -> History {
    let mut h = History::default();
    charity_story(&mut h);
    h
}

/// Tells [`charity_history`] into `h`.
pub fn charity_story(h: &mut History) {
    h.charity("hope-trust", "2024-01-01");
    // Ann gave after 5 February 2026: her later emails become lawful.
    h.support("hope-trust", "ann", "2026-02-10", CollectionRoute::Direct)
        .email(
            "hope-trust",
            "ann",
            "2026-03-01",
            "c-ann-0301",
            Charitable,
            None,
        );
    // Bob gave only before the date: not retrospective.
    h.support("hope-trust", "bob", "2025-06-01", CollectionRoute::Direct)
        .email(
            "hope-trust",
            "bob",
            "2025-07-01",
            "c-bob-2507",
            Charitable,
            None,
        )
        .email(
            "hope-trust",
            "bob",
            "2026-03-01",
            "c-bob-2603",
            Charitable,
            None,
        );
    // Cat gave before the date and again after it: only the email after
    // her second gift flips.
    h.support("hope-trust", "cat", "2025-05-01", CollectionRoute::Direct)
        .email(
            "hope-trust",
            "cat",
            "2026-02-12",
            "c-cat-0212",
            Charitable,
            None,
        )
        .support("hope-trust", "cat", "2026-02-20", CollectionRoute::Direct)
        .email(
            "hope-trust",
            "cat",
            "2026-03-01",
            "c-cat-0301",
            Charitable,
            None,
        );
    // Dan's details came through the charity's trading subsidiary.
    h.support(
        "hope-trust",
        "dan",
        "2026-02-15",
        CollectionRoute::TradingSubsidiary,
    )
    .email(
        "hope-trust",
        "dan",
        "2026-03-01",
        "c-dan-0301",
        Charitable,
        None,
    );
    // Eve gave after the date, then unsubscribed: the email before her
    // opt-out flips, the one after does not.
    h.support("hope-trust", "eve", "2026-02-11", CollectionRoute::Direct)
        .email(
            "hope-trust",
            "eve",
            "2026-02-20",
            "c-eve-0220",
            Charitable,
            None,
        )
        .email_opt_out("hope-trust", "eve", "2026-02-25")
        .email(
            "hope-trust",
            "eve",
            "2026-03-01",
            "c-eve-0301",
            Charitable,
            None,
        );
    // Fay gave on the commencement date itself.
    h.support("hope-trust", "fay", "2026-02-05", CollectionRoute::Direct)
        .email(
            "hope-trust",
            "fay",
            "2026-02-06",
            "c-fay-0206",
            Charitable,
            None,
        );
    // Gus consented: lawful under both, on the same basis.
    h.consent("hope-trust", "gus", "2025-01-01", Charitable)
        .email(
            "hope-trust",
            "gus",
            "2025-03-01",
            "c-gus-2503",
            Charitable,
            None,
        );
    // Hal gave after the date but the email carried no opt-out.
    h.support("hope-trust", "hal", "2026-02-10", CollectionRoute::Direct)
        .email_without_opt_out("hope-trust", "hal", "2026-03-01", "c-hal-0301", Charitable);

    // A car dealer: the commercial soft opt-in, before and after the date.
    h.company("acme-motors", "2024-01-01").categories(
        "acme-motors",
        "2024-01-01",
        &[("cars", &["servicing"]), ("servicing", &[])],
    );
    h.sale("acme-motors", "cust-1", "2025-03-01", "cars")
        .email(
            "acme-motors",
            "cust-1",
            "2025-04-01",
            "m-acme-2504",
            Commercial,
            Some("servicing"),
        )
        .email(
            "acme-motors",
            "cust-1",
            "2026-03-01",
            "m-acme-2603",
            Commercial,
            Some("servicing"),
        );
    h.sale("acme-motors", "cust-2", "2026-02-10", "cars").email(
        "acme-motors",
        "cust-2",
        "2026-02-11",
        "m-acme-0211",
        Commercial,
        Some("cars"),
    );
    h.enquiry("acme-motors", "cust-3", "2025-09-01", "cars")
        .email(
            "acme-motors",
            "cust-3",
            "2025-10-01",
            "m-acme-2510",
            Commercial,
            Some("cars"),
        );
}

/// A specialist tea shop whose map says nothing is similar to anything,
/// and another shop with the same category names.
pub fn tea_history() -> History {
    let mut h = History::default();
    tea_story(&mut h);
    h
}

/// Tells [`tea_history`] into `h`.
pub fn tea_story(h: &mut History) {
    h.company("tea-shop", "2024-01-01").categories(
        "tea-shop",
        "2024-01-01",
        &[("tea", &[]), ("teapots", &[]), ("cakes", &[])],
    );
    // Tea buyers: teapot emails are not similar today; tea emails are.
    h.sale("tea-shop", "tom", "2025-03-01", "tea")
        .email(
            "tea-shop",
            "tom",
            "2025-04-01",
            "t-tom-pots",
            Commercial,
            Some("teapots"),
        )
        .email(
            "tea-shop",
            "tom",
            "2025-05-01",
            "t-tom-tea",
            Commercial,
            Some("tea"),
        )
        .email(
            "tea-shop",
            "tom",
            "2025-06-01",
            "t-tom-cakes",
            Commercial,
            Some("cakes"),
        );
    h.sale("tea-shop", "uma", "2026-01-10", "tea").email(
        "tea-shop",
        "uma",
        "2026-03-01",
        "t-uma-pots",
        Commercial,
        Some("teapots"),
    );
    // A cake buyer: teapots are not similar to cakes under either map.
    h.sale("tea-shop", "val", "2025-03-01", "cakes").email(
        "tea-shop",
        "val",
        "2025-04-01",
        "t-val-pots",
        Commercial,
        Some("teapots"),
    );
    // Another shop with the same category names is not affected.
    h.company("other-shop", "2024-01-01").categories(
        "other-shop",
        "2024-01-01",
        &[("tea", &[]), ("teapots", &[])],
    );
    h.sale("other-shop", "wyn", "2025-03-01", "tea").email(
        "other-shop",
        "wyn",
        "2025-04-01",
        "o-wyn-pots",
        Commercial,
        Some("teapots"),
    );
}
