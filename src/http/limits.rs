//! Rate limits that follow identities, not addresses: a whole audience may reach the server
//! from one address (venue Wi-Fi, an office or carrier NAT), so answers, reactions,
//! heartbeats and reconnects are limited per participant, joins per session, and logins per
//! account. Per address there are only a flood guard, whose ceiling a full room never meets,
//! and a limit on failed join-code lookups, so codes cannot be enumerated.
//! docs/security.md gives the threat model. Keyed token buckets from `governor`, pruned every
//! minute so memory stays bounded.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use parking_lot::Mutex;

use super::error::ApiError;
use crate::config::Config;
use crate::ids::{ParticipantId, SessionId};

/// Answers per second per participant, and the burst: far beyond a person's thumb.
pub const SUBMIT_PER_SECOND: u32 = 10;
const SUBMIT_BURST: u32 = 20;
/// Reactions are taps: per participant, with bursts.
pub const REACT_PER_SECOND: u32 = 5;
const REACT_BURST: u32 = 10;
/// Heartbeats per participant; a phone sends one every 15–30 s.
pub const HEARTBEAT_PER_SECOND: u32 = 1;
const HEARTBEAT_BURST: u32 = 5;
/// Stream opens and rejoins per participant: a phone reconnects after a lost network or a
/// deploy, not in a loop.
pub const RECONNECT_PER_SECOND: u32 = 2;
const RECONNECT_BURST: u32 = 20;
/// Seconds of the session's join rate that may arrive at once.
const JOIN_BURST_SECONDS: u32 = 5;
/// Seconds of the flood guard's rate that may arrive at once.
const ADDRESS_BURST_SECONDS: u32 = 2;

/// Every limiter the API uses.
pub struct RateLimits {
    address: Option<DefaultKeyedRateLimiter<IpAddr>>,
    code_misses: Option<CodeMisses>,
    session_joins: Option<DefaultKeyedRateLimiter<SessionId>>,
    login_ip: DefaultKeyedRateLimiter<IpAddr>,
    login_email: DefaultKeyedRateLimiter<String>,
    login_known: DefaultKeyedRateLimiter<String>,
    submit: DefaultKeyedRateLimiter<ParticipantId>,
    react: DefaultKeyedRateLimiter<ParticipantId>,
    heartbeat: DefaultKeyedRateLimiter<ParticipantId>,
    reconnect: DefaultKeyedRateLimiter<ParticipantId>,
}

/// Failed join-code lookups per address. Only misses drain the bucket, so a room typing the
/// right code never does; once an address has used it up, every lookup from it is refused
/// until it refills, hits included, so that a refusal cannot tell a guesser "miss".
struct CodeMisses {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    blocked: Mutex<HashMap<IpAddr, Instant>>,
}

fn nonzero(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

fn per_second(n: u32, burst: u32) -> Quota {
    Quota::per_second(nonzero(n)).allow_burst(nonzero(burst))
}

fn per_minute(n: u32, burst: u32) -> Quota {
    Quota::per_minute(nonzero(n)).allow_burst(nonzero(burst))
}

type Checked = Result<(), governor::NotUntil<<DefaultClock as Clock>::Instant>>;

fn wait_of(result: Checked) -> Option<Duration> {
    result
        .err()
        .map(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
}

fn refuse(result: Checked, what: &str) -> Result<(), ApiError> {
    match wait_of(result) {
        Some(wait) => Err(ApiError::rate_limited(what, wait)),
        None => Ok(()),
    }
}

impl RateLimits {
    /// Limits from the configuration; a limit set to 0 is off.
    pub fn new(config: &Config) -> Arc<Self> {
        let address = config.rate_limit_address_per_second;
        let joins = config.rate_limit_session_joins_per_second;
        let misses = config.rate_limit_code_misses_per_minute;
        Arc::new(Self {
            address: (address > 0).then(|| {
                RateLimiter::keyed(per_second(
                    address,
                    address.saturating_mul(ADDRESS_BURST_SECONDS),
                ))
            }),
            code_misses: (misses > 0).then(|| CodeMisses {
                limiter: RateLimiter::keyed(per_minute(misses, misses)),
                blocked: Mutex::new(HashMap::new()),
            }),
            session_joins: (joins > 0).then(|| {
                RateLimiter::keyed(per_second(joins, joins.saturating_mul(JOIN_BURST_SECONDS)))
            }),
            login_ip: RateLimiter::keyed(per_minute(30, 10)),
            login_email: RateLimiter::keyed(per_minute(10, 5)),
            login_known: RateLimiter::keyed(per_minute(10, 5)),
            submit: RateLimiter::keyed(per_second(SUBMIT_PER_SECOND, SUBMIT_BURST)),
            react: RateLimiter::keyed(per_second(REACT_PER_SECOND, REACT_BURST)),
            heartbeat: RateLimiter::keyed(per_second(HEARTBEAT_PER_SECOND, HEARTBEAT_BURST)),
            reconnect: RateLimiter::keyed(per_second(RECONNECT_PER_SECOND, RECONNECT_BURST)),
        })
    }

    /// Any request: the flood guard per address.
    pub fn request(&self, ip: IpAddr) -> Result<(), ApiError> {
        match &self.address {
            Some(limiter) => refuse(limiter.check_key(&ip), "requests from this address"),
            None => Ok(()),
        }
    }

    /// A login attempt.
    /// Attempts are slowed down per address and per account. A browser that signed in to
    /// the account before (`known`: it brings the account's device cookie) counts against a
    /// bucket of its own, so guesses from elsewhere never lock the owner out.
    pub fn login(&self, ip: IpAddr, email: &str, known: bool) -> Result<(), ApiError> {
        refuse(
            self.login_ip.check_key(&ip),
            "login attempts from this address",
        )?;
        let account = email.trim().to_lowercase();
        let bucket = if known {
            &self.login_known
        } else {
            &self.login_email
        };
        refuse(
            bucket.check_key(&account),
            "login attempts for this account",
        )
    }

    /// Before looking up a join code: refused while this address has used up its misses.
    /// A malformed code (wrong length or letters) cannot name a session, so the caller
    /// answers it without a lookup and without counting it.
    pub fn code_lookup(&self, ip: IpAddr) -> Result<(), ApiError> {
        let Some(misses) = &self.code_misses else {
            return Ok(());
        };
        let now = Instant::now();
        let mut blocked = misses.blocked.lock();
        match blocked.get(&ip).copied() {
            Some(until) if until > now => Err(ApiError::rate_limited(
                "failed join-code lookups from this address",
                until - now,
            )),
            Some(_) => {
                blocked.remove(&ip);
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// A join code that names no open session. Refused (and the address blocked until its
    /// bucket refills) once the address has missed too often.
    pub fn code_missed(&self, ip: IpAddr) -> Result<(), ApiError> {
        let Some(misses) = &self.code_misses else {
            return Ok(());
        };
        match wait_of(misses.limiter.check_key(&ip)) {
            Some(wait) => {
                misses.blocked.lock().insert(ip, Instant::now() + wait);
                Err(ApiError::rate_limited(
                    "failed join-code lookups from this address",
                    wait,
                ))
            }
            None => Ok(()),
        }
    }

    /// A new participant asking to join a session: its admission rate.
    pub fn admit(&self, session: SessionId) -> Result<(), ApiError> {
        match &self.session_joins {
            Some(limiter) => refuse(limiter.check_key(&session), "joins to this session"),
            None => Ok(()),
        }
    }

    /// A participant coming back: a rejoin or a live stream opened again.
    pub fn reconnect(&self, participant: ParticipantId) -> Result<(), ApiError> {
        refuse(self.reconnect.check_key(&participant), "reconnects")
    }

    /// An answer.
    pub fn submit(&self, participant: ParticipantId) -> Result<(), ApiError> {
        refuse(self.submit.check_key(&participant), "answers")
    }

    /// An emoji reaction.
    pub fn react(&self, participant: ParticipantId) -> Result<(), ApiError> {
        refuse(self.react.check_key(&participant), "reactions")
    }

    /// A heartbeat.
    pub fn heartbeat(&self, participant: ParticipantId) -> Result<(), ApiError> {
        refuse(self.heartbeat.check_key(&participant), "heartbeats")
    }

    /// Forgets keys whose buckets are full again, and blocks that have run out.
    pub fn prune(&self) {
        if let Some(l) = &self.address {
            l.retain_recent();
        }
        if let Some(misses) = &self.code_misses {
            misses.limiter.retain_recent();
            let now = Instant::now();
            misses.blocked.lock().retain(|_, until| *until > now);
        }
        if let Some(l) = &self.session_joins {
            l.retain_recent();
        }
        self.login_ip.retain_recent();
        self.login_email.retain_recent();
        self.login_known.retain_recent();
        self.submit.retain_recent();
        self.react.retain_recent();
        self.heartbeat.retain_recent();
        self.reconnect.retain_recent();
    }

    /// Prunes every minute until `stop` is cancelled.
    pub fn start_pruning(self: &Arc<Self>, stop: tokio_util::sync::CancellationToken) {
        let limits = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tokio::select! {
                    _ = tick.tick() => limits.prune(),
                    () = stop.cancelled() => return,
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::DatabaseUrl;

    fn limits() -> Arc<RateLimits> {
        RateLimits::new(&Config::with_database(
            DatabaseUrl::parse("sqlite://unused.db").unwrap(),
        ))
    }

    #[test]
    fn a_room_behind_one_address_meets_no_address_limit() {
        let limits = limits();
        let ip = IpAddr::from([203, 0, 113, 7]);
        // 5,000 phones' joins, lookups, streams and a vote each, all at once.
        for _ in 0..20_000 {
            limits.request(ip).unwrap();
        }
        let session = SessionId::new();
        for _ in 0..5_000 {
            limits.admit(session).unwrap();
        }
    }

    #[test]
    fn only_misses_drain_the_code_budget_and_a_spent_one_refuses_every_lookup() {
        let limits = limits();
        let ip = IpAddr::from([198, 51, 100, 1]);
        let mut refused_at = None;
        for n in 0..10_000 {
            limits.code_lookup(ip).unwrap();
            if limits.code_missed(ip).is_err() {
                refused_at = Some(n);
                break;
            }
        }
        let refused_at = refused_at.expect("misses are limited");
        assert!(
            refused_at >= 100,
            "an honest room's typos fit: {refused_at}"
        );
        assert!(limits.code_lookup(ip).is_err(), "a hit is refused too");
        let other = IpAddr::from([198, 51, 100, 2]);
        assert!(limits.code_lookup(other).is_ok(), "other addresses are not");
    }

    #[test]
    fn one_token_is_held_to_its_own_rate() {
        let limits = limits();
        let flooder = ParticipantId::new();
        let refused = (0..100).filter(|_| limits.submit(flooder).is_err()).count();
        assert!(refused >= 70, "{refused}");
        assert!(limits.submit(ParticipantId::new()).is_ok());
    }
}
