//! Rate limits for the endpoints a stranger can hammer: login (per IP and per email), join
//! (per IP) and submit (per IP and per participant). Keyed token buckets from `governor`,
//! pruned every minute so memory stays bounded.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::error::ApiError;
use crate::config::Config;
use crate::ids::ParticipantId;

/// Every limiter the API uses.
pub struct RateLimits {
    login_ip: DefaultKeyedRateLimiter<IpAddr>,
    login_email: DefaultKeyedRateLimiter<String>,
    join_ip: Option<DefaultKeyedRateLimiter<IpAddr>>,
    submit_ip: Option<DefaultKeyedRateLimiter<IpAddr>>,
    submit_participant: DefaultKeyedRateLimiter<ParticipantId>,
    react_participant: DefaultKeyedRateLimiter<ParticipantId>,
}

fn per_minute(n: u32, burst: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN))
        .allow_burst(NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN))
}

fn per_second(n: u32, burst: u32) -> Quota {
    Quota::per_second(NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN))
        .allow_burst(NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN))
}

type Checked = Result<(), governor::NotUntil<<DefaultClock as Clock>::Instant>>;

fn refuse(result: Checked, what: &str) -> Result<(), ApiError> {
    result.map_err(|not_until| {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        ApiError::rate_limited(what, wait)
    })
}

impl RateLimits {
    /// Limits from the configuration; a per-IP limit of 0 turns that limit off.
    pub fn new(config: &Config) -> Arc<Self> {
        let join = config.rate_limit_join_per_minute;
        let submit = config.rate_limit_submit_per_second;
        Arc::new(Self {
            login_ip: RateLimiter::keyed(per_minute(30, 10)),
            login_email: RateLimiter::keyed(per_minute(10, 5)),
            join_ip: (join > 0).then(|| RateLimiter::keyed(per_minute(join, join.div_ceil(4)))),
            submit_ip: (submit > 0)
                .then(|| RateLimiter::keyed(per_second(submit, submit.saturating_mul(2)))),
            // Ten answers a second with bursts of twenty is far beyond a person's thumb.
            submit_participant: RateLimiter::keyed(per_second(10, 20)),
            // Reactions are taps: five a second with bursts of ten, per person.
            react_participant: RateLimiter::keyed(per_second(5, 10)),
        })
    }

    /// A login attempt.
    pub fn login(&self, ip: IpAddr, email: &str) -> Result<(), ApiError> {
        refuse(
            self.login_ip.check_key(&ip),
            "login attempts from this address",
        )?;
        refuse(
            self.login_email.check_key(&email.trim().to_lowercase()),
            "login attempts for this account",
        )
    }

    /// A join attempt.
    pub fn join(&self, ip: IpAddr) -> Result<(), ApiError> {
        match &self.join_ip {
            Some(limiter) => refuse(limiter.check_key(&ip), "joins from this address"),
            None => Ok(()),
        }
    }

    /// A submission.
    pub fn submit(&self, ip: IpAddr, participant: ParticipantId) -> Result<(), ApiError> {
        if let Some(limiter) = &self.submit_ip {
            refuse(limiter.check_key(&ip), "submissions from this address")?;
        }
        refuse(
            self.submit_participant.check_key(&participant),
            "submissions",
        )
    }

    /// An emoji reaction.
    pub fn react(&self, participant: ParticipantId) -> Result<(), ApiError> {
        refuse(self.react_participant.check_key(&participant), "reactions")
    }

    /// Forgets keys whose buckets are full again.
    pub fn prune(&self) {
        self.login_ip.retain_recent();
        self.login_email.retain_recent();
        if let Some(l) = &self.join_ip {
            l.retain_recent();
        }
        if let Some(l) = &self.submit_ip {
            l.retain_recent();
        }
        self.submit_participant.retain_recent();
        self.react_participant.retain_recent();
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
