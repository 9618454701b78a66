//! What a reader of the report finds in it, checked in the HTML text.

mod support;

use consent_domain::event::{Fact, Source};
use consent_domain::identity::{OrganisationId, ProductCategoryId, SubjectId};
use consent_domain::rules::LawfulBasis;
use consent_domain::vocabulary::{Channel, Purpose};
use consent_report::*;
use support::*;

#[test]
fn the_example_decisions_are_the_ones_the_readme_describes() {
    let example = Example::car_dealer();
    let [march, june] = example.decisions.as_slice() else {
        panic!("two decisions");
    };
    assert!(march.allowed, "{march:#?}");
    assert_eq!(march.lawful_basis, LawfulBasis::SoftOptIn);
    assert!(!june.allowed, "{june:#?}");
    assert!(
        june.reasons_against
            .iter()
            .any(|r| r.rule.as_str() == "R1" && r.code == "opted_out"),
        "{june:#?}"
    );
}

#[test]
fn the_header_says_what_the_evidence_covers_and_that_it_verified() {
    let example = Example::car_dealer();
    let html = render_html(&example.report());

    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<title>Evidence for subject cust-42 of acme-motors</title>"));
    assert!(html.contains("Subject cust-42 of organisation acme-motors"));
    assert!(html.contains(
        "Report produced <time datetime=\"2026-06-01T10:05:00Z\">2026-06-01 10:05:00 UTC</time>"
    ));

    let verdict = section(&html, "verification");
    assert!(verdict.contains(">VERIFIED<"), "{verdict}");
    assert!(!verdict.contains("FAILED"), "{verdict}");
    assert!(verdict.contains("5 of 5 records proven"), "{verdict}");

    let checkpoint = section(&html, "checkpoint");
    for fact in [ORIGIN, ROOT, SIGNER, "5 leaves", "2026-06-01 10:00:00 UTC"] {
        assert!(
            checkpoint.contains(fact),
            "{fact} missing from {checkpoint}"
        );
    }
    assert!(checkpoint.contains("No earlier published checkpoint was given"));
}

#[test]
fn a_failed_verification_says_failed_with_every_finding() {
    let example = Example::car_dealer();
    let mut report = example.report();
    report.verification.passed = false;
    report.verification.records_proven = 4;
    report.verification.findings = vec![
        "record consent.optouts/2@0: the inclusion proof does not lead to the ledger head"
            .to_owned(),
        "decision 2 does not recompute: the bundle's events give ALLOWED".to_owned(),
    ];
    let html = render_html(&report);

    let verdict = section(&html, "verification");
    assert!(verdict.contains(">FAILED<"), "{verdict}");
    assert!(!verdict.contains("VERIFIED"), "{verdict}");
    assert!(verdict.contains("Do not rely on it"));
    assert!(verdict.contains("4 of 5 records proven"));
    for finding in &report.verification.findings {
        assert!(verdict.contains(&escaped(finding)), "{finding} missing");
    }
    assert!(html.contains("<section class=\"verdict failed\" id=\"verification\">"));
}

#[test]
fn a_failed_verification_without_findings_still_says_so() {
    let example = Example::car_dealer();
    let mut report = example.report();
    report.verification.passed = false;
    let html = render_html(&report);
    assert!(section(&html, "verification").contains("The verifier gave no finding."));
}

#[test]
fn the_timeline_lists_every_event_in_time_order_in_words() {
    let example = Example::car_dealer();
    let mut report = example.report();
    // Given in another order than they occurred: shown in time order.
    report.events.reverse();
    let html = render_html(&report);
    let timeline = section(&html, "timeline");

    let expected = [
        "Organisation registered: Acme Motors Ltd, a commercial organisation",
        "Product categories defined: Cars, Servicing, MOT tests and Motor insurance",
        "Sale recorded: cars, order 7781, opt-out offered",
        "Marketing message sent by email (commercial and servicing)",
        "Opt-out of email, by unsubscribe link",
    ];
    let mut last = 0;
    for headline in expected {
        let found = timeline[last..]
            .find(headline)
            .unwrap_or_else(|| panic!("{headline} missing or out of order in {timeline}"));
        last += found + headline.len();
    }
    for (position, event) in &example.events {
        let row = section(&html, &format!("event-{}", event.id));
        assert!(row.contains(&position.to_string()), "{position} in {row}");
        assert!(row.contains(&event.id.to_string()));
        assert!(row.contains(event.fact.kind()));
    }
    assert!(timeline
        .contains("Cars (cars): customers would also expect to hear about servicing and mot"));
    assert!(timeline.contains("Contact details obtained directly from the subject"));
    assert!(timeline.contains("Form version: sale-form-v3"));
    assert!(timeline.contains("Source: System: dealer-pos; Evidence: order 7781; Form: sale-form"));
    assert!(timeline.contains("2026-03-01 14:30:00 UTC"));
    assert!(timeline.contains("recorded 2026-03-01 14:30:02 UTC"));
}

#[test]
fn each_decision_shows_its_question_answer_basis_and_rules() {
    let example = Example::car_dealer();
    let html = render_html(&example.report());

    let march = section(&html, "decision-1");
    assert!(
        march.contains("<div class=\"answer allowed\">ALLOWED</div>"),
        "{march}"
    );
    assert!(!march.contains("REFUSED"));
    assert!(march.contains("Lawful basis: <strong>commercial soft opt-in</strong>"));
    assert!(march.contains("Reasons against (0)"));
    for (label, value) in [
        ("Organisation", "acme-motors"),
        ("Subject", "cust-42"),
        ("Channel", "email"),
        ("Purpose", "commercial"),
        ("Product category", "servicing"),
        ("Opt-out included", "yes"),
        ("Contact point", "email jo@example.com"),
    ] {
        let pair = format!("<dt>{label}</dt><dd>{value}</dd>");
        assert!(march.contains(&pair), "{pair} missing from {march}");
    }
    assert!(march.contains("2026-03-15 09:00:00 UTC"));
    assert!(march.contains("uk-pecr-duaa-2026-02-05"));
    assert!(march.contains(", the one in force at the time asked"));
    // The sale the soft opt-in rests on, linked to its timeline entry.
    let sale = example.event("sale_recorded");
    assert!(march.contains(&format!(
        "<a href=\"#event-{}\">#3 Sale recorded: cars, order 7781, opt-out offered</a>",
        sale.id
    )));
    // Every rule evaluated, with its outcome and citation.
    for firing in &example.decisions[0].rules {
        assert!(march.contains(&format!("<strong>{}</strong>", firing.rule)));
        assert!(
            march.contains(&escaped(&firing.citation)),
            "{}",
            firing.citation
        );
    }
    assert!(march.contains("class=\"outcome-satisfied\">satisfied</td>"));

    let june = section(&html, "decision-2");
    assert!(
        june.contains("<div class=\"answer refused\">REFUSED</div>"),
        "{june}"
    );
    assert!(!june.contains("ALLOWED"));
    assert!(june.contains("Lawful basis: <strong>none</strong>"));
    let optout = example.event("opt_out_recorded");
    for reason in &example.decisions[1].reasons_against {
        assert!(
            june.contains(&escaped(&reason.message)),
            "{}",
            reason.message
        );
        assert!(june.contains(&escaped(&reason.citation)));
        assert!(june.contains(&*reason.code));
    }
    assert!(june.contains("UK GDPR Art 21(2), 21(3), 21(5); PECR 2003 reg 22(3)(c)"));
    assert!(june.contains(&format!(
        "<a href=\"#event-{}\">#5 Opt-out of email, by unsubscribe link</a>",
        optout.id
    )));
    assert!(june.contains("href=\"#rule-uk-pecr-duaa-2026-02-05--R1\""));
    assert!(june.contains("class=\"outcome-blocked\">blocked</td>"));
}

#[test]
fn the_summary_puts_both_verdicts_and_the_refusal_citation_first() {
    let example = Example::car_dealer();
    let html = render_html(&example.report());
    let summary = section(&html, "summary");
    let allowed = summary.find(">ALLOWED<").expect("ALLOWED in summary");
    let refused = summary.find(">REFUSED<").expect("REFUSED in summary");
    assert!(allowed < refused, "in decision order");
    assert!(summary.contains("PECR 2003 reg 22(3)(c)"));
    assert!(summary.contains("href=\"#decision-2\""));
    // Before the long sections.
    assert!(html.find("id=\"summary\"") < html.find("id=\"timeline\""));
}

#[test]
fn the_rule_set_lists_every_rule_with_its_citation() {
    let example = Example::car_dealer();
    let html = render_html(&example.report());
    let rules = section(&html, "rule-set-uk-pecr-duaa-2026-02-05");
    assert!(rules.contains(&escaped(&example.rule_set.title)));
    assert!(rules.contains("2026-02-05 00:00:00 UTC"));
    assert!(rules.contains("for contact details obtained from 2026-02-05 00:00:00 UTC"));
    assert!(rules.contains("at most 183 days"));
    for rule in &example.rule_set.rules {
        let anchor = format!(
            "<tr id=\"rule-uk-pecr-duaa-2026-02-05--{}\"><td><strong>{}</strong></td><td>{}</td><td class=\"citation\">{}</td></tr>",
            rule.id,
            rule.id,
            escaped(&rule.title),
            escaped(&rule.citation)
        );
        assert!(rules.contains(&anchor), "{anchor} missing");
    }
}

#[test]
fn data_is_escaped_so_markup_in_an_event_is_inert() {
    let mut events = car_dealer_events();
    let hostile = "<script>alert('owned')</script>";
    events[2].1.source = Source {
        actor: hostile.to_owned(),
        url: "javascript:alert(1)\" onmouseover=\"alert(2)".to_owned(),
        ..Source::default()
    };
    if let Fact::SaleRecorded(sale) = &mut events[2].1.fact {
        sale.order_ref = "7781\"><img src=x onerror=alert(3)>".to_owned();
    }
    let example = Example::with_events(events);
    let mut report = example.report();
    report.title = "Evidence </title><script>alert(4)</script>".to_owned();
    report.verification.findings = vec!["<b>bold</b> & more".to_owned()];
    let html = render_html(&report);

    let lower = html.to_lowercase();
    assert!(!lower.contains("<script"), "a script element in {html}");
    assert!(!lower.contains("<img"), "an img element");
    assert!(!lower.contains("<b>"), "markup from a finding");
    assert!(
        !lower.contains("onmouseover=\""),
        "an event handler attribute"
    );
    assert!(html.contains("URL: javascript:alert(1)&quot; onmouseover=&quot;alert(2)"));
    assert!(html.contains("Actor: &lt;script&gt;alert('owned')&lt;/script&gt;"));
    assert!(html.contains("order 7781&quot;&gt;&lt;img src=x onerror=alert(3)&gt;"));
    assert!(html.contains("&lt;b&gt;bold&lt;/b&gt; &amp; more"));
    assert!(html
        .contains("<title>Evidence &lt;/title&gt;&lt;script&gt;alert(4)&lt;/script&gt;</title>"));
}

#[test]
fn the_page_is_self_contained_and_its_links_resolve() {
    let example = Example::car_dealer();
    let html = render_html(&example.report());
    let lower = html.to_lowercase();
    for forbidden in [
        "<script", "<link", "<img", "<iframe", " src=", "url(", "@import",
    ] {
        assert!(!lower.contains(forbidden), "{forbidden} in the page");
    }
    assert!(html.contains("content=\"default-src 'none'; style-src 'unsafe-inline'\""));
    let mut links = 0;
    for href in html.split("href=\"").skip(1) {
        let target = &href[..href.find('"').expect("closing quote")];
        let fragment = target
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("a link out of the page: {target}"));
        assert!(
            html.contains(&format!("id=\"{fragment}\"")),
            "link to #{fragment} has no target"
        );
        links += 1;
    }
    assert!(links > 20, "only {links} links");
}

#[test]
fn an_answer_the_verifier_did_not_reproduce_is_flagged() {
    let example = Example::car_dealer();
    let mut report = example.report();
    report.decisions[1].recomputed = false;
    let html = render_html(&report);
    assert!(section(&html, "decision-2").contains("NOT RECOMPUTED"));
    assert!(!section(&html, "decision-1").contains("NOT RECOMPUTED"));
}

#[test]
fn an_event_relied_on_but_not_in_the_report_is_named_and_flagged() {
    let example = Example::car_dealer();
    let mut report = example.report();
    let sale = example.event("sale_recorded").id;
    report.events.retain(|e| e.event.id != sale);
    let html = render_html(&report);
    let march = section(&html, "decision-1");
    assert!(march.contains(&sale.to_string()));
    assert!(march.contains("sale_recorded of 2026-03-01 14:30:00 UTC"));
    assert!(march.contains("(not included in this report)"));
    assert!(!html.contains(&format!("href=\"#event-{sale}\"")));
}

#[test]
fn a_decision_under_a_rule_set_not_in_the_report_is_flagged() {
    let example = Example::car_dealer();
    let mut report = example.report();
    report.rule_sets.clear();
    let html = render_html(&report);
    assert!(section(&html, "decision-1").contains("This rule set is not included in this report."));
    assert!(html.contains("No rule set is included in this report."));
}

#[test]
fn the_same_report_renders_the_same_bytes_whatever_the_event_order() {
    let example = Example::car_dealer();
    let first = render_html(&example.report());
    assert_eq!(first, render_html(&example.report()));
    let mut shuffled = example.report();
    shuffled.events.swap(0, 4);
    shuffled.events.swap(1, 3);
    assert_eq!(first, render_html(&shuffled));
}

#[test]
fn campaign_and_time_range_scopes_say_what_they_cover() {
    let example = Example::car_dealer();
    let mut report = example.report();
    report.scope = ReportScope::Campaign {
        organisation: OrganisationId::from(ORG),
        subjects: vec![SubjectId::from(SUBJECT), SubjectId::from("cust-43")],
        channel: Channel::Email,
        purpose: Purpose::Commercial,
        product_category: Some(ProductCategoryId::from("servicing")),
        send_at: at("2026-06-01T09:00:00Z"),
    };
    let html = render_html(&report);
    assert!(html.contains("Campaign by acme-motors: email to 2 subjects"));
    assert!(html.contains("<dt>Subjects</dt><dd>cust-42 and cust-43</dd>"));
    assert!(html.contains("<dt>Product category</dt><dd>servicing</dd>"));

    report.scope = ReportScope::TimeRange {
        organisation: OrganisationId::from(ORG),
        from: at("2026-03-01T00:00:00Z"),
        to: at("2026-04-01T00:00:00Z"),
    };
    let html = render_html(&report);
    assert!(html.contains(
        "Events of organisation acme-motors from 2026-03-01 00:00:00 UTC to 2026-04-01 00:00:00 UTC"
    ));
}

#[test]
fn a_consistency_proof_to_an_earlier_checkpoint_is_shown() {
    let example = Example::car_dealer();
    let mut report = example.report();
    report.verification.consistent_with = Some(CheckpointSummary {
        origin: ORIGIN.to_owned(),
        tree_size: 3,
        root_base64: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=".to_owned(),
        time: at("2026-03-31T23:00:00Z"),
    });
    let html = render_html(&report);
    let checkpoint = section(&html, "checkpoint");
    assert!(checkpoint.contains("Consistent with an earlier published checkpoint"));
    assert!(checkpoint.contains("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="));
    assert!(checkpoint.contains("3 leaves"));
    assert!(!checkpoint.contains("No earlier published checkpoint"));
}
