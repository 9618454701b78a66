//! `consent-ledger check`: ask a running ledger whether a message may be sent.

use crate::client::{LedgerClient, ServerArgs};
use anyhow::Context;
use consent_schema::v1;
use serde_json::Value;

#[derive(clap::Args)]
pub struct CheckArgs {
    #[arg(long = "org")]
    pub organisation: String,
    #[arg(long)]
    pub subject: String,
    #[arg(long, value_enum)]
    pub channel: ChannelArg,
    #[arg(long, value_enum, default_value_t = PurposeArg::Commercial)]
    pub purpose: PurposeArg,
    /// The product category the message markets.
    #[arg(long)]
    pub category: Option<String>,
    /// A service message (not marketing) unless --promotional is also given.
    #[arg(long)]
    pub service: bool,
    /// The message carries promotion.
    #[arg(long)]
    pub promotional: bool,
    /// The message's sole purpose is furthering the charity's charitable purposes.
    #[arg(long)]
    pub sole_charitable_purpose: bool,
    /// The message carries no opt-out (the default assumes it does, as PECR reg 23 requires).
    #[arg(long)]
    pub no_opt_out: bool,
    /// The message does not identify the sender.
    #[arg(long)]
    pub anonymous: bool,
    #[arg(long, value_enum, default_value_t = CallCategoryArg::General)]
    pub call_category: CallCategoryArg,
    /// The number to call (for TPS/CTPS screening): E.164, or national format in the server's `--phone-region` (`07700 900123`).
    #[arg(long)]
    pub number: Option<String>,
    /// Decide as of this time (RFC 3339); default now.
    #[arg(long)]
    pub at: Option<String>,
    /// Decide under this rule set instead of the one in force.
    #[arg(long)]
    pub rule_set: Option<String>,
    /// Wait until the view includes this position (TOPIC/PARTITION@OFFSET, as printed by append); repeatable.
    #[arg(long = "wait-for")]
    pub wait_for: Vec<String>,
    /// Print the decision as proto3 JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub server: ServerArgs,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum ChannelArg {
    Email,
    Sms,
    LiveCall,
    AutomatedCall,
    Post,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum PurposeArg {
    Commercial,
    Campaigning,
    Charitable,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum CallCategoryArg {
    General,
    ClaimsManagement,
    PensionScheme,
}

impl ChannelArg {
    pub fn to_proto(self) -> v1::Channel {
        match self {
            ChannelArg::Email => v1::Channel::Email,
            ChannelArg::Sms => v1::Channel::Sms,
            ChannelArg::LiveCall => v1::Channel::LiveCall,
            ChannelArg::AutomatedCall => v1::Channel::AutomatedCall,
            ChannelArg::Post => v1::Channel::Post,
        }
    }
}

impl PurposeArg {
    pub fn to_proto(self) -> v1::Purpose {
        match self {
            PurposeArg::Commercial => v1::Purpose::Commercial,
            PurposeArg::Campaigning => v1::Purpose::Campaigning,
            PurposeArg::Charitable => v1::Purpose::Charitable,
        }
    }
}

impl CheckArgs {
    fn to_request(&self) -> anyhow::Result<v1::CheckRequest> {
        let channel = self.channel.to_proto();
        let purpose = self.purpose.to_proto();
        let call_category = match self.call_category {
            CallCategoryArg::General => v1::CallCategory::General,
            CallCategoryArg::ClaimsManagement => v1::CallCategory::ClaimsManagement,
            CallCategoryArg::PensionScheme => v1::CallCategory::PensionScheme,
        };
        let message_class = if self.service {
            v1::MessageClass::Service
        } else {
            v1::MessageClass::Marketing
        };
        let contact_point = self.number.as_ref().map(|number| v1::ContactPoint {
            kind: if matches!(self.channel, ChannelArg::Sms) {
                v1::ContactKind::Mobile as i32
            } else {
                v1::ContactKind::Landline as i32
            },
            value: number.clone(),
            sealed: None,
        });
        let at = match &self.at {
            Some(text) => Some(parse_timestamp(text)?),
            None => None,
        };
        let wait_for = self
            .wait_for
            .iter()
            .map(|p| parse_position(p))
            .collect::<Result<_, _>>()?;
        Ok(v1::CheckRequest {
            organisation_id: self.organisation.clone(),
            subject_id: self.subject.clone(),
            channel: channel as i32,
            purpose: purpose as i32,
            product_category_id: self.category.clone().unwrap_or_default(),
            message_class: message_class as i32,
            promotional_content: self.promotional || !self.service,
            sole_charitable_purpose: self.sole_charitable_purpose,
            opt_out_included: !self.no_opt_out,
            sender_identified: !self.anonymous,
            call_category: call_category as i32,
            contact_point,
            at,
            rule_set_id: self.rule_set.clone().unwrap_or_default(),
            wait_for,
            omit_texts: false,
        })
    }
}

pub fn parse_timestamp(text: &str) -> anyhow::Result<consent_schema::pbjson_types::Timestamp> {
    let at = consent_domain::Timestamp::parse_rfc3339(text).with_context(|| {
        format!("`{text}` is not an RFC 3339 time such as 2026-02-05T09:00:00Z")
    })?;
    let (seconds, nanos) = at.unix_parts();
    Ok(consent_schema::pbjson_types::Timestamp { seconds, nanos })
}

/// Parses `TOPIC/PARTITION@OFFSET`.
fn parse_position(text: &str) -> anyhow::Result<v1::LogPosition> {
    let parsed = (|| {
        let (topic_partition, offset) = text.rsplit_once('@')?;
        let (topic, partition) = topic_partition.rsplit_once('/')?;
        Some(v1::LogPosition {
            topic: topic.to_owned(),
            partition: partition.parse().ok()?,
            offset: offset.parse().ok()?,
        })
    })();
    parsed.with_context(|| format!("`{text}` is not a log position TOPIC/PARTITION@OFFSET"))
}

pub async fn run(args: CheckArgs) -> anyhow::Result<std::process::ExitCode> {
    let client = LedgerClient::new(&args.server)?;
    let request = args.to_request()?;
    let decision = client.post("/v1/checks", &request).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&decision)?);
    } else {
        print_decision(&decision);
    }
    // Exit status answers the question, for scripts: 0 allowed, 3 refused.
    Ok(if decision["allowed"].as_bool() == Some(true) {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::from(3)
    })
}

/// Prints a decision (proto3 JSON of consent.v1.Decision) for a person.
pub fn print_decision(decision: &Value) {
    let allowed = decision["allowed"].as_bool() == Some(true);
    let basis = decision["lawfulBasis"]
        .as_str()
        .unwrap_or("LAWFUL_BASIS_NONE");
    let rule_set = decision["ruleSetId"].as_str().unwrap_or("?");
    println!(
        "{} - basis {} - rule set {}",
        if allowed { "ALLOWED" } else { "REFUSED" },
        basis.trim_start_matches("LAWFUL_BASIS_"),
        rule_set
    );
    if let Some(reasons) = decision["reasonsAgainst"].as_array() {
        for reason in reasons {
            println!(
                "  against  [{}] {} ({})",
                reason["ruleId"].as_str().unwrap_or("?"),
                reason["message"].as_str().unwrap_or(""),
                reason["citation"].as_str().unwrap_or("")
            );
        }
    }
    if let Some(rules) = decision["rules"].as_array() {
        for rule in rules {
            let outcome = rule["outcome"]
                .as_str()
                .unwrap_or("?")
                .trim_start_matches("RULE_OUTCOME_");
            if outcome == "NOT_APPLICABLE" {
                continue;
            }
            println!(
                "  rule     [{}] {:<10} {} - {}",
                rule["ruleId"].as_str().unwrap_or("?"),
                outcome,
                rule["title"].as_str().unwrap_or(""),
                rule["citation"].as_str().unwrap_or("")
            );
        }
    }
    if let Some(events) = decision["reliedOn"].as_array() {
        for event in events {
            let position = &event["position"];
            println!(
                "  relied   {} {} at {}/{}@{}",
                event["kind"].as_str().unwrap_or("?"),
                event["eventId"].as_str().unwrap_or("?"),
                position["topic"].as_str().unwrap_or("?"),
                position["partition"].as_u64().unwrap_or(0),
                // proto3 JSON omits zero values: a missing offset is 0.
                position["offset"].as_str().unwrap_or("0"),
            );
        }
    }
    if let Some(behind) = decision["freshness"]["recordsBehind"].as_str() {
        println!("  view     {behind} records behind the log");
    }
}
