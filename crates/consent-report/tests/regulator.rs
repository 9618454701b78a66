//! The page a regulator reads on its own: it opens with the status, says
//! who verified it and ends with how to verify it yourself; a campaign of
//! 100,000 recipients reads as a summary and a few groups.

mod support;

use consent_domain::event::*;
use consent_domain::fold::{OrganisationState, SubjectState};
use consent_domain::identity::{OrganisationId, ProductCategoryId, SubjectId};
use consent_domain::rules::{decide, CheckRequest, Decision, RuleCatalogue};
use consent_domain::vocabulary::*;
use consent_report::*;
use support::*;

const TODAY: &str = "2026-06-01T10:00:00Z";

/// The status questions of the car dealer's customer at 10:00 on 1 June
/// (after the unsubscribe): email and post, as the export asks them.
fn status_questions(example: &Example) -> (Vec<CheckRequest>, Vec<Decision>) {
    let mut organisation = OrganisationState::default();
    let mut subject = SubjectState::default();
    for (position, event) in &example.events {
        organisation.apply(event, Some(position.clone()));
        if event.subject.as_ref().map(SubjectId::as_str) == Some(SUBJECT) {
            subject.apply(event, Some(position.clone()));
        }
    }
    let catalogue = RuleCatalogue::uk();
    let requests: Vec<CheckRequest> = [Channel::Email, Channel::Post]
        .into_iter()
        .map(|channel| CheckRequest {
            channel,
            product_category: None,
            contact_point: None,
            ..servicing_email(TODAY)
        })
        .collect();
    let decisions = requests
        .iter()
        .map(|request| {
            let rule_set = catalogue.select(None, request.at).expect("in force");
            decide(rule_set, &organisation, &subject, &[], request)
        })
        .collect();
    (requests, decisions)
}

fn verified_by(verifier: Verifier) -> VerifiedBy {
    VerifiedBy {
        verifier,
        version: "0.1.0".to_owned(),
        ran_at: at("2026-06-01T10:05:00Z"),
        trusted_keys: vec![SIGNER.to_owned()],
    }
}

fn position_of(html: &str, id: &str) -> usize {
    html.find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no element with id {id}"))
}

#[test]
fn a_subject_report_opens_with_whether_they_may_be_contacted_today_by_channel() {
    let example = Example::car_dealer();
    let (requests, decisions) = status_questions(&example);
    let mut report = example.report();
    let first = report.decisions.len();
    report
        .decisions
        .extend(
            requests
                .iter()
                .zip(&decisions)
                .map(|(request, decision)| ReportDecision {
                    request,
                    decision,
                    recomputed: true,
                }),
        );
    let context = ReportContext {
        status: Some(StatusQuestions {
            at: at(TODAY),
            first,
        }),
        verified_by: Some(verified_by(Verifier::ExportingLedger)),
        bundle_file: Some("cust-42.json".to_owned()),
    };
    let html = render_report(&report, &context);

    // The status comes before anything else in the body but the heading.
    let status_at = position_of(&html, "status");
    assert!(status_at < position_of(&html, "verification"));
    assert!(status_at < position_of(&html, "summary"));
    assert!(status_at < position_of(&html, "timeline"));

    let status = section(&html, "status");
    assert!(
        status.contains("May acme-motors contact cust-42 today (2026-06-01)?"),
        "{status}"
    );
    let email = &decisions[0];
    assert!(!email.allowed, "{email:#?}");
    let email_line = status
        .split("<div class=\"status-line\">")
        .nth(1)
        .expect("a line for email");
    assert!(
        email_line.contains("<strong>Email</strong>"),
        "{email_line}"
    );
    assert!(email_line.contains("REFUSED"), "{email_line}");
    for reason in &email.reasons_against {
        assert!(
            email_line.contains(&escaped(&reason.message)),
            "{} missing",
            reason.message
        );
        assert!(
            email_line.contains(&escaped(&reason.citation)),
            "{} missing",
            reason.citation
        );
    }
    assert!(email_line.contains(&format!("href=\"#decision-{}\"", first + 1)));
    let post = &decisions[1];
    let post_line = status
        .split("<div class=\"status-line\">")
        .nth(2)
        .expect("a line for post");
    assert!(post_line.contains("<strong>Post</strong>"), "{post_line}");
    if post.allowed {
        assert!(post_line.contains("ALLOWED</span>, on the lawful basis of"));
    } else {
        assert!(post_line.contains("REFUSED"));
    }
}

#[test]
fn a_subject_bundle_without_a_status_says_so_instead_of_no_decision() {
    let example = Example::car_dealer();
    let mut report = example.report();
    report.decisions.clear();
    let html = render_html(&report);
    let status = section(&html, "status");
    assert!(status.contains("May acme-motors contact cust-42 today?"));
    assert!(status.contains("This evidence does not say"));
}

#[test]
fn the_verification_says_who_ran_it_with_which_version_when_and_against_which_key() {
    let example = Example::car_dealer();
    let report = example.report();

    let by_ledger = ReportContext {
        verified_by: Some(verified_by(Verifier::ExportingLedger)),
        ..ReportContext::default()
    };
    let html = render_report(&report, &by_ledger);
    let verdict = section(&html, "verification");
    assert!(verdict.contains(">VERIFIED<"));
    assert!(
        verdict.contains(&format!(
            "Checked by the exporting ledger (consent-ledger 0.1.0) at 2026-06-01 10:05:00 UTC, against its own key {SIGNER}"
        )),
        "{verdict}"
    );
    assert!(verdict.contains("not an independent check"));

    let by_reader = ReportContext {
        verified_by: Some(verified_by(Verifier::Reader)),
        ..ReportContext::default()
    };
    let html = render_report(&report, &by_reader);
    let verdict = section(&html, "verification");
    assert!(
        verdict.contains("Checked by consent-ledger 0.1.0, run by the holder of this file, at 2026-06-01 10:05:00 UTC"),
        "{verdict}"
    );
    assert!(!verdict.contains("exporting ledger"));

    let html = render_html(&report);
    assert!(section(&html, "verification").contains("Who ran this check is not stated"));
}

#[test]
fn the_page_ends_with_the_commands_to_verify_it_yourself() {
    let example = Example::car_dealer();
    let report = example.report();
    let context = ReportContext {
        verified_by: Some(verified_by(Verifier::Reader)),
        bundle_file: Some("cust-42 bundle.json".to_owned()),
        ..ReportContext::default()
    };
    let html = render_report(&report, &context);
    let last_section = html.rfind("<section").expect("sections");
    assert_eq!(
        last_section + "<section class=\"reverify\" ".len(),
        position_of(&html, "verify-yourself"),
        "the last section is how to verify"
    );
    let how = section(&html, "verify-yourself");
    assert!(how.contains("How to verify this yourself"));
    for command in [
        "cargo install --locked --path crates/consent-cli",
        "consent-ledger --version",
        "consent-ledger verify 'cust-42 bundle.json' --key checkpoint.pub",
        "consent-ledger report 'cust-42 bundle.json' --key checkpoint.pub --out report.html",
    ] {
        assert!(
            how.contains(
                &format!(
                    "<pre class=\"command\"><code>{}</code></pre>",
                    escaped(command)
                )
                .replace('\'', "'")
            ),
            "{command} missing from {how}"
        );
    }
    assert_eq!(
        verify_commands(&context)[1],
        "consent-ledger verify 'cust-42 bundle.json' --key checkpoint.pub"
    );
    assert!(how.contains("version <strong>0.1.0</strong>"));
    assert!(how.contains("GET /v1/checkpoint-key"));
    assert!(how.contains(&format!("<code>{SIGNER}</code>")));
}

#[test]
fn a_category_without_similar_categories_does_not_read_none() {
    let fact = Fact::ProductCategoriesDefined(ProductCategoriesDefined {
        categories: vec![ProductCategory {
            id: ProductCategoryId::from("mot"),
            name: "MOT tests".to_owned(),
            similar: vec![],
        }],
    });
    let description = describe(&fact);
    assert_eq!(
        description.details,
        ["MOT tests (mot): no other category is similar, so customers would expect to hear only about MOT tests itself"]
    );
    assert!(!description.details[0].contains("none"));
    let opt_out = Fact::OptOutRecorded(OptOutRecorded {
        channels: vec![],
        all_channels: false,
        received_via: OptOutMethod::Letter,
        contact_point: None,
    });
    assert!(!describe(&opt_out).headline.contains("none"));
}

/// A campaign of `n` recipients: one in ten refused (opted out), the rest
/// allowed, decided once each and reused (the page only reads them).
#[test]
fn a_campaign_of_100k_recipients_opens_with_counts_and_lists_recipients_by_group() {
    const N: usize = 100_000;
    let example = Example::car_dealer();
    let [allowed, refused] = example.decisions.as_slice() else {
        panic!("two decisions");
    };
    let requests: Vec<CheckRequest> = (0..N)
        .map(|i| CheckRequest {
            subject: Some(SubjectId::new(format!("cust-{i:06}"))),
            ..servicing_email("2026-06-01T09:00:00Z")
        })
        .collect();
    let mut report = example.report();
    report.scope = ReportScope::Campaign {
        organisation: OrganisationId::from(ORG),
        subjects: requests.iter().filter_map(|r| r.subject.clone()).collect(),
        channel: Channel::Email,
        purpose: Purpose::Commercial,
        product_category: Some(ProductCategoryId::from("servicing")),
        send_at: at("2026-06-01T09:00:00Z"),
    };
    report.decisions = requests
        .iter()
        .enumerate()
        .map(|(i, request)| ReportDecision {
            request,
            decision: if i % 10 == 3 { refused } else { allowed },
            recomputed: true,
        })
        .collect();
    let html = render_report(&report, &ReportContext::default());

    // The summary first: the counts by outcome and by reason.
    let status_at = position_of(&html, "status");
    assert!(status_at < position_of(&html, "verification"));
    assert!(status_at < position_of(&html, "groups"));
    let status = section(&html, "status");
    assert!(
        status.contains(
            "May acme-motors send this commercial email message to these 100,000 recipients"
        ),
        "{}",
        &status[..status.len().min(3000)]
    );
    assert!(status.contains("90,000 allowed"), "{status}");
    assert!(status.contains("10,000 refused"), "{status}");
    assert!(status.contains("<td>commercial soft opt-in</td><td class=\"count\">90,000</td>"));
    let r1 = refused
        .reasons_against
        .iter()
        .find(|r| r.rule.as_str() == "R1")
        .expect("R1");
    assert!(status.contains(&escaped(&r1.citation)));
    assert!(status.contains("<td class=\"count\">10,000</td>"));

    // Then two groups, each listing its recipients compactly, and one
    // decision in full per group.
    let groups = section(&html, "groups");
    assert!(html.contains("id=\"group-1\"") && html.contains("id=\"group-2\""));
    assert!(!html.contains("id=\"group-3\""));
    assert!(groups.contains("90,000 recipients: Allowed: commercial soft opt-in"));
    assert!(groups.contains("10,000 recipients: Refused: R1 (opted out)"));
    assert!(groups.contains("The first 500 of 90,000 recipients"));
    assert!(groups.contains("And 89,500 more"));
    assert_eq!(html.matches("<section class=\"decision\"").count(), 2);
    assert!(html.contains("id=\"decision-1\""), "allowed representative");
    assert!(html.contains("id=\"decision-4\""), "refused representative");
    assert!(!html.contains("cust-099999"), "not every recipient listed");
    assert!(html.contains("100,000 subjects, listed by answer below"));

    // Its size grows modestly: far less than a line per recipient.
    assert!(
        html.len() < 400_000,
        "a {} byte page for 100,000 recipients",
        html.len()
    );
}
