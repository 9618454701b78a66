//! The PostgreSQL peer: the same generated facts loaded into the schema of
//! `bench/postgres/schema.sql`, the same sampled questions answered by
//! `bench/postgres/check.sql`, driven by the same load generator.

use crate::load::{drive, Load};
use anyhow::Context;
use consent_log::{EventLog, StartOffsets};
use consent_schema::v1::{self, envelope::Payload};
use futures::SinkExt;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio_postgres::{Client, NoTls, Statement};

pub const SCHEMA: &str = include_str!("../../../bench/postgres/schema.sql");
pub const CHECK: &str = include_str!("../../../bench/postgres/check.sql");

/// Queries each pipelined call sends at once on its connection.
pub const PIPELINE: usize = 100;

pub struct Loaded {
    pub rows: u64,
    pub seconds: f64,
    pub table_bytes: i64,
}

pub async fn connect(url: &str) -> anyhow::Result<Client> {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .with_context(|| format!("connecting to PostgreSQL at `{url}`"))?;
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::warn!(%error, "a PostgreSQL connection ended");
        }
    });
    Ok(client)
}

/// Creates the schema and loads every record of `log` with COPY, then
/// analyses the tables.
pub async fn load(client: &Client, log: Arc<dyn EventLog>) -> anyhow::Result<Loaded> {
    client
        .batch_execute(SCHEMA)
        .await
        .context("creating the schema")?;
    let started = Instant::now();
    let ends = log.end_offsets().await?;
    let total: u64 = ends.values().sum();
    let start: StartOffsets = ends.keys().map(|tp| (tp.clone(), 0)).collect();
    let mut reader = log.reader(start).await?;
    let (mut organisations, mut similarity) = (String::new(), String::new());
    let sink = client
        .copy_in(
            "COPY subject_events (organisation_id, subject_id, occurred_at, event_id, kind, channels, \
             purposes, all_channels, product_category_id, route, opt_out_offered, opt_out_taken, \
             negotiation_kind, consent_method) FROM STDIN",
        )
        .await?;
    let mut sink = Box::pin(sink);
    let (mut read, mut rows) = (0u64, 0u64);
    let mut buffer = String::with_capacity(1 << 22);
    while read < total {
        let records = reader.next_batch(5_000, Duration::from_millis(200)).await?;
        if records.is_empty() {
            anyhow::bail!("the log ended at {read} of {total} records");
        }
        read += records.len() as u64;
        for record in records {
            let envelope = consent_schema::decode_envelope(&record.payload)?;
            let Some(payload) = &envelope.payload else {
                continue;
            };
            match payload {
                Payload::OrganisationRegistered(org) => {
                    let kind = short(
                        v1::OrganisationKind::try_from(org.kind)
                            .map_or("UNKNOWN", |k| k.as_str_name()),
                        "ORGANISATION_KIND_",
                    );
                    writeln!(organisations, "{}\t{kind}", envelope.organisation_id)?;
                }
                Payload::ProductCategoriesDefined(defined) => {
                    for category in &defined.categories {
                        let mut similar: Vec<&String> =
                            category.similar_category_ids.iter().collect();
                        similar.push(&category.id);
                        similar.sort();
                        similar.dedup();
                        for other in similar {
                            writeln!(
                                similarity,
                                "{}\t{}\t{}",
                                envelope.organisation_id, category.id, other
                            )?;
                        }
                    }
                }
                _ if envelope.subject_id.is_empty() => {}
                payload => {
                    subject_row(&mut buffer, &envelope, payload)?;
                    rows += 1;
                }
            }
        }
        if buffer.len() > 1 << 21 {
            sink.send(bytes::Bytes::from(std::mem::take(&mut buffer)))
                .await?;
        }
    }
    if !buffer.is_empty() {
        sink.send(bytes::Bytes::from(buffer)).await?;
    }
    sink.as_mut()
        .finish()
        .await
        .context("loading subject_events")?;
    copy_text(
        client,
        "COPY organisations (organisation_id, kind) FROM STDIN",
        organisations,
    )
    .await?;
    copy_text(
        client,
        "COPY product_similarity (organisation_id, category_id, similar_id) FROM STDIN",
        similarity,
    )
    .await?;
    client.batch_execute("ANALYZE").await?;
    let seconds = started.elapsed().as_secs_f64();
    let table_bytes: i64 = client
        .query_one(
            "SELECT (pg_total_relation_size('subject_events') + pg_total_relation_size('organisations') \
             + pg_total_relation_size('product_similarity'))::bigint",
            &[],
        )
        .await?
        .get(0);
    Ok(Loaded {
        rows,
        seconds,
        table_bytes,
    })
}

async fn copy_text(client: &Client, statement: &str, text: String) -> anyhow::Result<()> {
    let sink = client.copy_in(statement).await?;
    let mut sink = Box::pin(sink);
    sink.send(bytes::Bytes::from(text)).await?;
    sink.as_mut().finish().await?;
    Ok(())
}

fn subject_row(out: &mut String, envelope: &v1::Envelope, payload: &Payload) -> anyhow::Result<()> {
    const NULL: &str = "\\N";
    let channel_names = |channels: &[i32]| {
        let names: Vec<String> = channels
            .iter()
            .map(|c| {
                short(
                    v1::Channel::try_from(*c).map_or("UNKNOWN", |c| c.as_str_name()),
                    "CHANNEL_",
                )
            })
            .collect();
        format!("{{{}}}", names.join(","))
    };
    let purpose_names = |purposes: &[i32]| {
        let names: Vec<String> = purposes
            .iter()
            .map(|p| {
                short(
                    v1::Purpose::try_from(*p).map_or("UNKNOWN", |p| p.as_str_name()),
                    "PURPOSE_",
                )
            })
            .collect();
        format!("{{{}}}", names.join(","))
    };
    let collection = |c: &Option<v1::DetailsCollection>| match c {
        Some(c) => (
            short(
                v1::CollectionRoute::try_from(c.route).map_or("UNKNOWN", |r| r.as_str_name()),
                "COLLECTION_ROUTE_",
            ),
            c.opt_out_offered.to_string(),
            c.opt_out_taken.to_string(),
        ),
        None => (NULL.to_owned(), NULL.to_owned(), NULL.to_owned()),
    };
    let empty = "{}".to_owned();
    let (mut channels, mut purposes, mut all_channels) = (empty.clone(), empty.clone(), "false");
    let (mut category, mut route, mut offered, mut taken) = (
        NULL.to_owned(),
        NULL.to_owned(),
        NULL.to_owned(),
        NULL.to_owned(),
    );
    let (mut negotiation, mut method) = (NULL.to_owned(), NULL.to_owned());
    let kind = match payload {
        Payload::ConsentGiven(p) => {
            channels = channel_names(&p.channels);
            purposes = purpose_names(&p.purposes);
            method = short(
                v1::CollectionMethod::try_from(p.method).map_or("UNKNOWN", |m| m.as_str_name()),
                "COLLECTION_METHOD_",
            );
            "consent_given"
        }
        Payload::ConsentWithdrawn(p) => {
            channels = channel_names(&p.channels);
            purposes = purpose_names(&p.purposes);
            "consent_withdrawn"
        }
        Payload::SaleRecorded(p) => {
            category = escape(&p.product_category_id);
            (route, offered, taken) = collection(&p.collection);
            "sale_recorded"
        }
        Payload::NegotiationRecorded(p) => {
            category = escape(&p.product_category_id);
            (route, offered, taken) = collection(&p.collection);
            negotiation = short(
                v1::NegotiationKind::try_from(p.kind).map_or("UNKNOWN", |k| k.as_str_name()),
                "NEGOTIATION_KIND_",
            );
            "negotiation_recorded"
        }
        Payload::CharitySupportRecorded(p) => {
            (route, offered, taken) = collection(&p.collection);
            "charity_support_recorded"
        }
        Payload::OptOutRecorded(p) => {
            channels = channel_names(&p.channels);
            all_channels = if p.all_channels { "true" } else { "false" };
            "opt_out_recorded"
        }
        Payload::ObjectionRecorded(_) => "objection_recorded",
        Payload::MarketingMessageSent(p) => {
            channels = channel_names(&[p.channel]);
            purposes = purpose_names(&[p.purpose]);
            if !p.product_category_id.is_empty() {
                category = escape(&p.product_category_id);
            }
            "marketing_message_sent"
        }
        Payload::PreferenceServiceListing(_) => "preference_service_listing",
        Payload::ToldNotToCall(_) => "told_not_to_call",
        Payload::DoesNotObjectToCalls(_) => "does_not_object_to_calls",
        Payload::SubscriberTypeDeclared(_) => "subscriber_type_declared",
        Payload::ContactPointRecorded(_) => "contact_point_recorded",
        Payload::ErasureRequested(_) => "erasure_requested",
        Payload::OrganisationRegistered(_)
        | Payload::ProductCategoriesDefined(_)
        | Payload::ContactsSuppressed(_)
        | Payload::PreferenceServiceScreened(_) => return Ok(()),
    };
    let at = envelope.occurred_at.as_ref().map_or(0, |t| t.seconds);
    writeln!(
        out,
        "{}\t{}\t{}\t{}\t{kind}\t{channels}\t{purposes}\t{all_channels}\t{category}\t{route}\t{offered}\t{taken}\t{negotiation}\t{method}",
        escape(&envelope.organisation_id),
        escape(&envelope.subject_id),
        rfc3339(at),
        envelope.event_id,
    )?;
    Ok(())
}

/// `CHANNEL_EMAIL` -> `email`.
fn short(name: &str, prefix: &str) -> String {
    name.strip_prefix(prefix)
        .unwrap_or(name)
        .to_ascii_lowercase()
}

/// COPY text format escapes.
fn escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('\t', "\\t")
        .replace('\n', "\\n")
        .replace('\r', "\\r")
}

fn rfc3339(seconds: i64) -> String {
    // Days since the epoch to a civil date (Howard Hinnant's algorithm).
    let days = seconds.div_euclid(86_400);
    let secs = seconds.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3_600,
        secs % 3_600 / 60,
        secs % 60
    )
}

/// The parameters of a check as the peer's query takes them.
#[derive(Clone)]
pub struct Question {
    organisation: String,
    subject: String,
    channel: String,
    purpose: String,
    category: String,
    at: SystemTime,
}

pub fn question(request: &v1::CheckRequest) -> Question {
    Question {
        organisation: request.organisation_id.clone(),
        subject: request.subject_id.clone(),
        channel: short(
            v1::Channel::try_from(request.channel).map_or("UNKNOWN", |c| c.as_str_name()),
            "CHANNEL_",
        ),
        purpose: short(
            v1::Purpose::try_from(request.purpose).map_or("UNKNOWN", |p| p.as_str_name()),
            "PURPOSE_",
        ),
        category: request.product_category_id.clone(),
        at: UNIX_EPOCH
            + Duration::from_secs(request.at.as_ref().map_or(0, |t| t.seconds.max(0) as u64)),
    }
}

async fn ask(client: &Client, statement: &Statement, q: &Question) -> anyhow::Result<bool> {
    let row = client
        .query_one(
            statement,
            &[
                &q.organisation,
                &q.subject,
                &q.channel,
                &q.purpose,
                &q.category,
                &q.at,
            ],
        )
        .await?;
    Ok(row.get(0))
}

pub struct PeerFigures {
    pub unary: Load,
    pub pipelined: Load,
    pub allowed_share: f64,
}

/// Drives the peer's query with `concurrency` connections: one query per
/// call, then [`PIPELINE`] queries in flight per connection.
pub async fn measure(
    url: &str,
    questions: Arc<Vec<Question>>,
    concurrency: usize,
    duration: Duration,
) -> anyhow::Result<PeerFigures> {
    let mut connections = Vec::new();
    for _ in 0..concurrency {
        let client = connect(url).await?;
        let statement = client.prepare(CHECK).await.context("preparing check.sql")?;
        connections.push(Arc::new((client, statement)));
    }
    let connections = Arc::new(connections);
    // Warm up and take the allowed share of the first questions.
    let (first, _) = &*connections[0].clone();
    let statement = &connections[0].1;
    let sample = questions.len().min(2_000);
    let mut allowed = 0;
    for q in questions.iter().take(sample) {
        allowed += u64::from(ask(first, statement, q).await?);
    }
    let unary = {
        let (connections, questions) = (connections.clone(), questions.clone());
        drive(concurrency, duration, move |task, n| {
            let connection = connections[task].clone();
            let q = crate::load::nth(&questions, n).clone();
            async move {
                let (client, statement) = &*connection;
                ask(client, statement, &q).await?;
                Ok(1)
            }
        })
        .await?
    };
    let pipelined = {
        let (connections, questions) = (connections.clone(), questions.clone());
        drive(concurrency, duration, move |task, n| {
            let connection = connections[task].clone();
            let batch: Vec<Question> = (0..PIPELINE as u64)
                .map(|i| crate::load::nth(&questions, n * PIPELINE as u64 + i).clone())
                .collect();
            async move {
                let (client, statement) = &*connection;
                let answers =
                    futures::future::try_join_all(batch.iter().map(|q| ask(client, statement, q)))
                        .await?;
                Ok(answers.len() as u64)
            }
        })
        .await?
    };
    Ok(PeerFigures {
        unary,
        pipelined,
        allowed_share: allowed as f64 / sample.max(1) as f64,
    })
}
