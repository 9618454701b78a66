//! The `consent.v1.ConsentLedger` methods: each takes the wire request,
//! calls one ledger operation and returns its answer, or its error as a
//! status ([`crate::error`]). Each call runs in a `grpc_request` span
//! (method, peer) and ends with one `rpc served` event (code, latency).
//!
//! Every method first authenticates its caller (`authorization: Bearer
//! <key>` metadata, [`LedgerService::authorized`]) and reaches the ledger
//! only through the authorization rule ([`Guarded`]): appends and checks
//! for the caller's organisation, history for its own (the admin: any),
//! rule sets and waits for any authenticated caller.

use crate::check_stream::{decide_stream, DecisionStream};
use crate::error::{auth_status, invalid_argument, status_from};
use crate::proto::consent_ledger_server::ConsentLedger;
use crate::wait::wait_for_positions;
use consent_auth::{Action, Guard, Guarded};
use consent_domain::{OrganisationId, SubjectId};
use consent_schema::{timestamp_from_proto, v1};
use consent_service::metrics::Transport;
use consent_service::Ledger;
use std::future::Future;
use std::time::Instant;
use tonic::{Code, Request, Response, Status, Streaming};
use tracing::Instrument;

/// The gRPC service over one ledger.
#[derive(Clone, Debug)]
pub struct LedgerService {
    ledger: Ledger,
    guard: Guard,
}

impl LedgerService {
    /// The service without API keys (open mode).
    pub fn new(ledger: Ledger) -> Self {
        Self::guarded(ledger, Guard::Open)
    }

    /// The service with `guard` authenticating every call. The checks and
    /// appends it serves are counted as gRPC's.
    pub fn guarded(ledger: Ledger, guard: Guard) -> Self {
        Self {
            ledger: ledger.serving(Transport::Grpc),
            guard,
        }
    }

    /// The ledger for the caller of `request` (its `authorization`
    /// metadata), or `UNAUTHENTICATED`.
    /// The ledger for reading what `request`'s `organisation_id` names,
    /// once the caller may: the id is required and checked against the
    /// caller's key.
    fn reader_of<R>(
        &self,
        request: &Request<R>,
        organisation_id: &str,
    ) -> Result<(Ledger, OrganisationId), Status> {
        let authorized = self.authorized(request)?;
        let organisation =
            OrganisationId::new(required_id("organisation_id", organisation_id.to_owned())?);
        let ledger = authorized
            .for_organisation(Action::Read, "organisation_id", &organisation)
            .map_err(auth_status)?
            .clone();
        Ok((ledger, organisation))
    }

    fn authorized<R>(&self, request: &Request<R>) -> Result<Guarded<Ledger>, Status> {
        let authorization = request
            .metadata()
            .get("authorization")
            .map(|value| value.as_bytes());
        let caller = self
            .guard
            .authenticate(authorization)
            .map_err(auth_status)?;
        Ok(Guarded::new(self.ledger.clone(), caller))
    }
}

#[tonic::async_trait]
impl ConsentLedger for LedgerService {
    async fn append(
        &self,
        request: Request<v1::AppendRequest>,
    ) -> Result<Response<v1::AppendResponse>, Status> {
        Call::start("Append", &request)
            .serve(async {
                let authorized = self.authorized(&request)?;
                let events = request.into_inner().events;
                let ledger = authorized
                    .for_each_organisation(
                        Action::Append,
                        "events",
                        events.iter().map(|event| event.organisation_id.as_str()),
                    )
                    .map_err(auth_status)?;
                let count = events.len();
                let appended = ledger.append_response(events).await.map_err(status_from)?;
                tracing::debug!(events = count, "appended");
                Ok(v1::AppendResponse { appended })
            })
            .await
    }

    async fn check(
        &self,
        request: Request<v1::CheckRequest>,
    ) -> Result<Response<v1::Decision>, Status> {
        Call::start("Check", &request)
            .serve(async {
                let authorized = self.authorized(&request)?;
                let request = request.into_inner();
                let ledger = authorized
                    .for_organisation(
                        Action::Check,
                        "organisation_id",
                        &OrganisationId::new(request.organisation_id.as_str()),
                    )
                    .map_err(auth_status)?;
                ledger.check(request).await.map_err(status_from)
            })
            .await
    }

    async fn check_batch(
        &self,
        request: Request<v1::CheckBatchRequest>,
    ) -> Result<Response<v1::CheckBatchResponse>, Status> {
        Call::start("CheckBatch", &request)
            .serve(async {
                let authorized = self.authorized(&request)?;
                let checks = request.into_inner().checks;
                let ledger = authorized
                    .for_each_organisation(
                        Action::Check,
                        "checks",
                        checks.iter().map(|check| check.organisation_id.as_str()),
                    )
                    .map_err(auth_status)?;
                let decisions = ledger.check_batch(checks).await.map_err(status_from)?;
                Ok(v1::CheckBatchResponse { decisions })
            })
            .await
    }

    type CheckStreamStream = DecisionStream;

    async fn check_stream(
        &self,
        request: Request<Streaming<v1::CheckRequest>>,
    ) -> Result<Response<Self::CheckStreamStream>, Status> {
        // The call is served once the stream is set up; the task deciding
        // it logs its own end, in the same span.
        Call::start("CheckStream", &request)
            .serve(async {
                let authorized = self.authorized(&request)?;
                Ok(decide_stream(authorized, request.into_inner()))
            })
            .await
    }

    async fn history(
        &self,
        request: Request<v1::HistoryRequest>,
    ) -> Result<Response<v1::HistoryResponse>, Status> {
        Call::start("History", &request)
            .serve(async {
                let (ledger, organisation) =
                    self.reader_of(&request, &request.get_ref().organisation_id)?;
                let request = request.into_inner();
                let subject = required_id("subject_id", request.subject_id)?;
                let at = request
                    .at
                    .as_ref()
                    .map(|at| timestamp_from_proto("at", at))
                    .transpose()
                    .map_err(|error| invalid_argument(error.field, error.reason))?;
                ledger
                    .history(
                        &organisation,
                        &SubjectId::new(subject),
                        at,
                        request.decision_for,
                    )
                    .await
                    .map_err(status_from)
            })
            .await
    }

    async fn list_rule_sets(
        &self,
        request: Request<v1::ListRuleSetsRequest>,
    ) -> Result<Response<v1::ListRuleSetsResponse>, Status> {
        Call::start("ListRuleSets", &request)
            .serve(async {
                let authorized = self.authorized(&request)?;
                Ok(v1::ListRuleSetsResponse {
                    rule_sets: authorized.for_any_caller().rule_sets(),
                })
            })
            .await
    }

    async fn export(
        &self,
        request: Request<v1::ExportRequest>,
    ) -> Result<Response<v1::ExportResponse>, Status> {
        Call::start("Export", &request)
            .serve(async {
                let (ledger, _) = self.reader_of(&request, &request.get_ref().organisation_id)?;
                let request = request.into_inner();
                let bundle = ledger.export(request).await.map_err(status_from)?;
                let bundle = bundle
                    .to_json_pretty()
                    .map_err(|error| Status::internal(format!("writing the bundle: {error}")))?;
                Ok(v1::ExportResponse { bundle })
            })
            .await
    }

    async fn list_suppressions(
        &self,
        request: Request<v1::SuppressionListRequest>,
    ) -> Result<Response<v1::SuppressionListResponse>, Status> {
        Call::start("ListSuppressions", &request)
            .serve(async {
                let (ledger, _) = self.reader_of(&request, &request.get_ref().organisation_id)?;
                let request = request.into_inner();
                ledger.suppressions(request).await.map_err(status_from)
            })
            .await
    }

    async fn wait_for_positions(
        &self,
        request: Request<v1::WaitRequest>,
    ) -> Result<Response<v1::WaitResponse>, Status> {
        Call::start("WaitForPositions", &request)
            .serve(async {
                let authorized = self.authorized(&request)?;
                wait_for_positions(authorized.for_any_caller(), request.into_inner()).await
            })
            .await
    }
}

/// An identifier the request must give; the history's path segments over
/// HTTP cannot be empty either.
fn required_id(field: &str, value: String) -> Result<String, Status> {
    if value.is_empty() {
        return Err(invalid_argument(field, "required"));
    }
    Ok(value)
}

/// One call: its span, its request id, and when it started.
struct Call {
    method: &'static str,
    request_id: String,
    span: tracing::Span,
    started: Instant,
}

/// The metadata key of the request id, both ways (as the HTTP API's
/// `x-request-id` header).
pub const REQUEST_ID_KEY: &str = "x-request-id";

/// The longest request id taken from a caller; a longer one is replaced.
const MAX_REQUEST_ID_LEN: usize = 128;

/// The caller's request id when usable (1 to 128 visible ASCII
/// characters), else a new UUIDv7.
fn request_id<R>(request: &Request<R>) -> String {
    request
        .metadata()
        .get(REQUEST_ID_KEY)
        .and_then(|value| value.to_str().ok())
        .filter(|id| {
            !id.is_empty()
                && id.len() <= MAX_REQUEST_ID_LEN
                && id.bytes().all(|byte| byte.is_ascii_graphic())
        })
        .map_or_else(|| uuid::Uuid::now_v7().to_string(), str::to_owned)
}

impl Call {
    fn start<R>(method: &'static str, request: &Request<R>) -> Self {
        let peer = request
            .remote_addr()
            .map(|address| address.to_string())
            .unwrap_or_default();
        let request_id = request_id(request);
        let span = tracing::info_span!("grpc_request", request_id = %request_id, method, peer);
        // The caller's W3C `traceparent` metadata, when traces are on.
        consent_trace_context::continue_trace(&span, |name| {
            request.metadata().get(name).and_then(|v| v.to_str().ok())
        });
        Self {
            method,
            span,
            request_id,
            started: Instant::now(),
        }
    }

    /// Runs the call's work in its span, logs how it ended, records its
    /// metrics, and echoes the request id in the response's (or the
    /// status's) metadata.
    async fn serve<T>(
        self,
        work: impl Future<Output = Result<T, Status>>,
    ) -> Result<Response<T>, Status> {
        let outcome = work.instrument(self.span.clone()).await;
        let latency = self.started.elapsed();
        let latency_ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX);
        let _entered = self.span.enter();
        let code = match &outcome {
            Ok(_) => Code::Ok,
            Err(status) => status.code(),
        };
        match &outcome {
            Ok(_) => tracing::info!(code = ?code, latency_ms, "rpc served"),
            Err(status) => tracing::info!(
                code = ?code,
                latency_ms,
                message = status.message(),
                "rpc served"
            ),
        }
        crate::metrics::record_call(self.method, code, latency);
        let id = tonic::metadata::MetadataValue::try_from(self.request_id.as_str()).ok();
        match outcome {
            Ok(answer) => {
                let mut response = Response::new(answer);
                if let Some(id) = id {
                    response.metadata_mut().insert(REQUEST_ID_KEY, id);
                }
                Ok(response)
            }
            Err(mut status) => {
                if let Some(id) = id {
                    status.metadata_mut().insert(REQUEST_ID_KEY, id);
                }
                Err(status)
            }
        }
    }
}
