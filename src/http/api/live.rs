//! `GET /sessions/{id}/events`: the live Server-Sent Events stream. The token (header or
//! `token` query parameter, since `EventSource` cannot send headers) decides the audience.
//! `GET /sessions/{id}/snapshot` answers what a new stream would start with, for clients
//! that poll.
//! The stream subscribes first, then sends a `snapshot` (or, with a known `Last-Event-ID`,
//! the missed events), then every event for its audience, with keep-alives every 15 s.
//! On shutdown it ends with a `shutdown` event and a reconnect hint; a subscriber that falls
//! too far behind is dropped and reconnects into a fresh snapshot.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{ORGANIZER_TOKEN_PREFIX, PARTICIPANT_TOKEN_PREFIX, VIEWER_TOKEN_PREFIX};
use crate::http::error::{ApiError, ErrorCode, ErrorEnvelope};
use crate::http::extract::{AppPath, AppQuery, HostAuth};
use crate::http::state::AppState;
use crate::ids::{ParticipantId, SessionId};
use crate::model::participant::ParticipantStatus;
use crate::participants::presence::PresenceBook;
use crate::participants::roster::Roster;
use crate::realtime::events::{self, Audience, Me};
use crate::realtime::{Lagged, Subscription, keep_alive};
use crate::sessions::{self, SessionError};

/// Longest silence before a keep-alive comment; proxies and the ALB keep the stream open.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The live routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(session_events))
        .routes(routes!(session_snapshot))
        .routes(routes!(viewer_link))
}

/// The token, for clients that cannot send headers.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// An organizer, viewer or participant token. Never logged.
    pub token: Option<String>,
}

pub(crate) async fn audience_of(
    state: &AppState,
    session: SessionId,
    token: &str,
) -> Result<(Audience, Option<Me>), ApiError> {
    if token.starts_with(ORGANIZER_TOKEN_PREFIX) {
        let Some(auth) = crate::organizers::authenticate(state.store.as_ref(), token).await? else {
            return Err(ApiError::unauthorized(
                "the token is unknown or expired; sign in again",
            ));
        };
        sessions::owned(state.store.as_ref(), &auth.organizer, session).await?;
        return Ok((Audience::Organizer, None));
    }
    if token.starts_with(VIEWER_TOKEN_PREFIX) {
        return match state.key.verify_viewer_token(token) {
            Some(id) if id == session => Ok((Audience::Viewer, None)),
            Some(_) => Err(SessionError::NotFound.into()),
            None => Err(ApiError::unauthorized("the viewer link is not valid")),
        };
    }
    if token.starts_with(PARTICIPANT_TOKEN_PREFIX) {
        let Some((id, participant)) = state.key.verify_participant_token(token) else {
            return Err(ApiError::unauthorized(
                "the participant token is not valid; join the session again",
            ));
        };
        if id != session {
            return Err(SessionError::NotFound.into());
        }
        // Through the roster, like every other participant request: cached after the first
        // look, and cached before the stream starts so that a removal here ends it.
        let found = state
            .roster
            .member(state.store.as_ref(), session, participant)
            .await?;
        return match found {
            Some(m) if m.status == ParticipantStatus::Active => Ok((
                Audience::Participant,
                Some(Me {
                    participant_id: participant,
                    nickname: m.nickname.to_string(),
                }),
            )),
            Some(_) => Err(ApiError::forbidden(
                ErrorCode::ParticipantRemoved,
                "you were removed from this session",
            )),
            None => Err(ApiError::unauthorized(
                "the participant token is not valid; join the session again",
            )),
        };
    }
    Err(ApiError::unauthorized(
        "send an organizer, viewer or participant token",
    ))
}

/// The token of a live read: the Authorization header, else the `token` parameter, else
/// (the organizer's pages cannot read their HttpOnly login cookie) the login cookie.
pub(crate) fn token_of(headers: &HeaderMap, query: Option<String>) -> Result<String, ApiError> {
    let header_token = crate::http::extract::bearer_token(headers).map(str::to_owned);
    // The organizer's pages cannot read their HttpOnly login cookie, so it counts too.
    let cookie_token = || crate::http::extract::session_cookie(headers).map(str::to_owned);
    let token = header_token
        .or(query)
        .or_else(cookie_token)
        .ok_or_else(|| {
            ApiError::unauthorized(
                "send a token in the Authorization header or the token parameter",
            )
        })?;
    if token.len() > 200 {
        return Err(ApiError::unauthorized("the token is not valid"));
    }
    Ok(token)
}

/// What a new live stream of the session would start with (its `snapshot` event), for a
/// client that polls instead. Served from prepared bytes, with an ETag: a client that holds
/// the current copy gets `304` and no body.
#[utoipa::path(get, path = "/sessions/{id}/snapshot", tag = "live",
    params(("id" = SessionId, Path), StreamQuery, ("If-None-Match" = Option<String>, Header, description = "The ETag of a copy already held")),
    responses(
        (status = 200, description = "The snapshot, as the first event of a stream", body = Object, headers(("ETag" = String))),
        (status = 304, description = "The copy held is current"),
        (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope),
    ))]
async fn session_snapshot(
    State(state): State<AppState>,
    headers: HeaderMap,
    AppPath(id): AppPath<SessionId>,
    AppQuery(query): AppQuery<StreamQuery>,
) -> Result<Response, ApiError> {
    let token = token_of(&headers, query.token)?;
    let (audience, me) = audience_of(&state, id, &token).await?;
    let base = state
        .hub
        .snapshot_base(&state.live, id, audience)
        .await?
        .ok_or(SessionError::NotFound)?;
    let snapshot =
        events::snapshot(&state.hub, &state.live, &base, audience, None, me.as_ref()).await?;
    let etag = snapshot.etag();
    Ok(crate::http::prepared::prepared_json(
        &headers,
        &etag,
        || Bytes::from(snapshot.finish()),
    ))
}

/// The live event stream of a session (Server-Sent Events). The first event is `snapshot`;
/// then `session`, `activity`, `results`, `participants` and `timer` events follow, as
/// described in docs/realtime.md. Reconnect with `Last-Event-ID` to resume.
#[utoipa::path(get, path = "/sessions/{id}/events", tag = "live",
    params(("id" = SessionId, Path), StreamQuery, ("Last-Event-ID" = Option<String>, Header, description = "Resume after this event")),
    responses(
        (status = 200, description = "An event stream", content_type = "text/event-stream", body = String),
        (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope),
        (status = 429, description = "The participant reconnects too often; see Retry-After", body = ErrorEnvelope),
    ))]
async fn session_events(
    State(state): State<AppState>,
    headers: HeaderMap,
    AppPath(id): AppPath<SessionId>,
    AppQuery(query): AppQuery<StreamQuery>,
) -> Result<Response, ApiError> {
    let token = token_of(&headers, query.token)?;
    let (audience, me) = audience_of(&state, id, &token).await?;
    if let Some(me) = &me {
        state.limits.reconnect(me.participant_id)?;
    }
    let base = state
        .hub
        .snapshot_base(&state.live, id, audience)
        .await?
        .ok_or(SessionError::NotFound)?;

    // Subscribe before reading the snapshot, so nothing published in between is missed.
    let mut subscription = state.hub.subscribe(id, audience);
    let resumed = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| state.hub.parse_id(v))
        .is_some_and(|seq| state.hub.resume_after(&mut subscription, seq));
    let mut initial: VecDeque<Bytes> = VecDeque::new();
    initial.push_back(Bytes::from_static(b"retry: 2000\n\n"));
    if !resumed {
        let snapshot = events::snapshot(
            &state.hub,
            &state.live,
            &base,
            audience,
            Some(&subscription),
            me.as_ref(),
        )
        .await?;
        let (_, event_id) = state.hub.next_id();
        initial.push_back(events::json_frame(
            &event_id,
            "snapshot",
            &snapshot.finish(),
        ));
    }
    let participant = me.map(|m| m.participant_id);
    if let Some(participant) = participant {
        state.presence.touch(participant);
        state.hub.changed(id, crate::realtime::Change::Participants);
    }
    let stream = LiveStream {
        initial,
        subscription,
        shutdown: state.lifecycle.streams_token(),
        keep_alive: tokio::time::interval_at(tokio::time::Instant::now() + KEEP_ALIVE, KEEP_ALIVE),
        participant: participant.map(|id| Watched {
            id,
            presence: state.presence.clone(),
            roster: state.roster.clone(),
        }),
        done: false,
    };
    let body = Body::from_stream(futures_util::stream::unfold(stream, LiveStream::next));
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-transform"),
    );
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    // Served outside hyper once the head is ready, to keep no HTTP buffers per open stream.
    response
        .extensions_mut()
        .insert(crate::http::server::Detachable);
    Ok(response)
}

struct LiveStream {
    initial: VecDeque<Bytes>,
    subscription: Subscription,
    shutdown: CancellationToken,
    keep_alive: tokio::time::Interval,
    participant: Option<Watched>,
    done: bool,
}

/// The participant behind a participant's stream: their presence is noted while it is open,
/// and the stream ends once they are removed.
struct Watched {
    id: ParticipantId,
    presence: std::sync::Arc<PresenceBook>,
    roster: std::sync::Arc<Roster>,
}

impl Watched {
    /// Whether this instance knows the participant was removed or banned. Only the cache is
    /// read (no database round trip per frame); after a removal on another instance the
    /// stream ends at its next reconnect, which checks storage.
    fn removed(&self) -> bool {
        self.roster
            .cached_status(self.id)
            .is_some_and(|status| status != ParticipantStatus::Active)
    }
}

/// Sent to a removed participant's own stream, which then ends without a reconnect hint.
const REMOVED: &[u8] = b"event: removed\ndata: {\"reason\":\"removed\"}\n\n";

impl LiveStream {
    async fn next(mut self) -> Option<(Result<Bytes, Infallible>, Self)> {
        if self.done {
            return None;
        }
        if let Some(frame) = self.initial.pop_front() {
            return Some((Ok(frame), self));
        }
        tokio::select! {
            biased;
            () = self.shutdown.cancelled() => {
                self.done = true;
                Some((Ok(Bytes::from_static(b"retry: 1000\nevent: shutdown\ndata: {\"reason\":\"server restarting\",\"retry_ms\":1000}\n\n")), self))
            }
            received = self.subscription.recv() => match received {
                Ok(_) if self.participant.as_ref().is_some_and(Watched::removed) => {
                    self.done = true;
                    Some((Ok(Bytes::from_static(REMOVED)), self))
                }
                Ok(frame) => {
                    self.keep_alive.reset();
                    Some((Ok(frame), self))
                }
                Err(Lagged) => {
                    // Too slow: what it had not read has left the room's log. The client
                    // reconnects, and the missed events are answered with a snapshot.
                    metrics::counter!("live_streams_dropped_total").increment(1);
                    tracing::debug!("dropping a live stream that fell behind");
                    self.done = true;
                    Some((Ok(Bytes::from_static(b"retry: 1000\nevent: dropped\ndata: {\"reason\":\"too slow\"}\n\n")), self))
                }
            },
            _ = self.keep_alive.tick() => {
                // An open stream counts as contact for presence.
                if let Some(watched) = &self.participant {
                    if watched.removed() {
                        self.done = true;
                        return Some((Ok(Bytes::from_static(REMOVED)), self));
                    }
                    watched.presence.touch(watched.id);
                }
                Some((Ok(keep_alive()), self))
            }
        }
    }
}

/// A viewer link for the big screen.
#[derive(Debug, Serialize, ToSchema)]
pub struct ViewerLink {
    /// The secret token (`cfv_…`): it shows what the room may see, nothing else.
    pub token: String,
    /// The big-screen page to open, with the token in it.
    pub url: String,
}

/// The secret link a big screen opens to follow the session.
#[utoipa::path(post, path = "/sessions/{id}/viewer-link", tag = "live", params(("id" = SessionId, Path)),
    responses((status = 200, body = ViewerLink), (status = 404, body = ErrorEnvelope)))]
async fn viewer_link(
    State(state): State<AppState>,
    HostAuth(auth): HostAuth,
    AppPath(id): AppPath<SessionId>,
) -> Result<axum::Json<ViewerLink>, ApiError> {
    let session = sessions::owned(state.store.as_ref(), &auth.organizer, id).await?;
    let token = state.key.viewer_token(session.id);
    let url = state
        .public_base_url
        .join(&format!("present/{}?key={token}", session.id))
        .map_err(|e| ApiError::internal(&e))?;
    Ok(axum::Json(ViewerLink {
        token,
        url: url.to_string(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::realtime::{Hub, ROOM_LOG_BYTES};

    fn stream(subscription: Subscription) -> LiveStream {
        LiveStream {
            initial: VecDeque::new(),
            subscription,
            shutdown: CancellationToken::new(),
            keep_alive: tokio::time::interval_at(
                tokio::time::Instant::now() + KEEP_ALIVE,
                KEEP_ALIVE,
            ),
            participant: None,
            done: false,
        }
    }

    #[tokio::test]
    async fn a_subscriber_that_falls_too_far_behind_is_dropped_not_buffered() {
        let hub = Hub::new();
        let session = SessionId::new();
        let slow = stream(hub.subscribe(session, Audience::Viewer));
        let room = hub.room(session);
        // Frames of 64 KiB each, more than the log holds.
        let filler = "x".repeat(64 << 10);
        for _ in 0..(ROOM_LOG_BYTES / filler.len() + 10) {
            let (seq, id) = hub.next_id();
            hub.send(
                &room,
                Audience::Viewer,
                seq,
                events::frame(&id, "results", &filler),
            );
        }
        assert!(
            room.log_bytes() <= ROOM_LOG_BYTES,
            "the log is capped in bytes"
        );
        let (frame, slow) = slow.next().await.expect("one last frame");
        let text = String::from_utf8(frame.unwrap().to_vec()).unwrap();
        assert!(
            text.contains("event: dropped") && text.contains("retry:"),
            "{text}"
        );
        assert!(slow.next().await.is_none(), "then the stream ends");
        assert_eq!(
            room.subscribers(Audience::Viewer),
            0,
            "the subscription is released"
        );
    }

    #[tokio::test]
    async fn a_phone_is_not_dropped_for_frames_that_were_never_its_own() {
        let hub = Hub::new();
        let session = SessionId::new();
        let phone = stream(hub.subscribe(session, Audience::Participant));
        let slow_screen = stream(hub.subscribe(session, Audience::Viewer));
        let room = hub.room(session);
        // The organizer's and the screen's results roll the whole log over while the phone,
        // with nothing of its own to read, sleeps.
        let filler = "x".repeat(64 << 10);
        for i in 0..(ROOM_LOG_BYTES / filler.len() + 10) {
            let (seq, id) = hub.next_id();
            let audience = if i % 2 == 0 {
                Audience::Organizer
            } else {
                Audience::Viewer
            };
            hub.send(&room, audience, seq, events::frame(&id, "results", &filler));
        }
        let (seq, id) = hub.next_id();
        hub.send(
            &room,
            Audience::Participant,
            seq,
            events::frame(&id, "session", &serde_json::json!({})),
        );
        let (frame, _phone) = phone.next().await.expect("the phone's frame");
        let text = String::from_utf8(frame.unwrap().to_vec()).unwrap();
        assert!(text.contains("event: session"), "{text}");
        // The screen did miss frames of its own: it is dropped, as before.
        let (frame, _) = slow_screen.next().await.expect("one last frame");
        let text = String::from_utf8(frame.unwrap().to_vec()).unwrap();
        assert!(text.contains("event: dropped"), "{text}");
    }

    #[tokio::test]
    async fn a_quiet_stream_sends_a_keep_alive_every_fifteen_seconds() {
        let hub = Hub::new();
        // Paused time advances by itself when every task waits: no real 45 s wait.
        tokio::time::pause();
        let mut live = stream(hub.subscribe(SessionId::new(), Audience::Viewer));
        let started = tokio::time::Instant::now();
        for n in 1..=3u32 {
            let (frame, next) = live.next().await.unwrap();
            live = next;
            assert_eq!(frame.unwrap(), keep_alive());
            let elapsed = started.elapsed();
            let expected = KEEP_ALIVE * n;
            assert!(
                elapsed >= expected && elapsed < expected + Duration::from_millis(50),
                "{elapsed:?}, expected {expected:?}"
            );
        }
    }

    #[tokio::test]
    async fn rooms_nobody_watches_are_forgotten_and_watched_ones_kept() {
        let hub = Hub::new();
        let (watched, abandoned) = (SessionId::new(), SessionId::new());
        let _keep = hub.subscribe(watched, Audience::Organizer);
        drop(hub.subscribe(abandoned, Audience::Participant));
        assert_eq!(hub.watched_sessions().len(), 2);
        hub.sweep();
        assert_eq!(hub.watched_sessions(), vec![watched]);
    }

    #[tokio::test]
    async fn a_subscriber_that_keeps_up_gets_every_frame_in_order() {
        let hub = Hub::new();
        let session = SessionId::new();
        let mut live = stream(hub.subscribe(session, Audience::Participant));
        let room = hub.room(session);
        for n in 0..10u32 {
            let (seq, id) = hub.next_id();
            hub.send(
                &room,
                Audience::Participant,
                seq,
                events::frame(&id, "results", &n),
            );
            let (frame, next) = live.next().await.unwrap();
            live = next;
            assert!(
                String::from_utf8(frame.unwrap().to_vec())
                    .unwrap()
                    .contains(&format!("data: {n}\n"))
            );
        }
    }
}
