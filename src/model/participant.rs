//! The participant type, nickname rules (trimmed, 1–40 characters, unique per session
//! without regard to case) and presence (online < 30 s, idle < 120 s, else disconnected).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ids::{ParticipantId, SessionId};
use crate::model::invalid::{Invalid, Rule};

/// Longest nickname, in characters.
pub const NICKNAME_MAX: usize = 40;
/// Seconds since last contact under which a participant is online.
pub const ONLINE_SECONDS: i64 = 30;
/// Seconds since last contact under which a participant is idle rather than disconnected.
pub const IDLE_SECONDS: i64 = 120;

/// Whether a participant may still take part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ParticipantStatus {
    /// Taking part.
    Active,
    /// Removed by the organizer; may join again under any free nickname.
    Removed,
    /// Removed and banned: the token and the nickname are refused in this session.
    Banned,
}

impl ParticipantStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ParticipantStatus::Active => "active",
            ParticipantStatus::Removed => "removed",
            ParticipantStatus::Banned => "banned",
        }
    }

    /// Parses the stored name.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "active" => Some(ParticipantStatus::Active),
            "removed" => Some(ParticipantStatus::Removed),
            "banned" => Some(ParticipantStatus::Banned),
            _ => None,
        }
    }
}

/// How recently a participant was in touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    /// Seen in the last 30 seconds (or holding a live stream).
    Online,
    /// Seen in the last 2 minutes.
    Idle,
    /// Not seen for longer.
    Disconnected,
}

impl Presence {
    /// Presence from the last contact.
    pub fn at(last_seen: DateTime<Utc>, now: DateTime<Utc>) -> Presence {
        let seconds = (now - last_seen).num_seconds();
        if seconds < ONLINE_SECONDS {
            Presence::Online
        } else if seconds < IDLE_SECONDS {
            Presence::Idle
        } else {
            Presence::Disconnected
        }
    }
}

/// Someone taking part in a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participant {
    /// Its id.
    pub id: ParticipantId,
    /// The session.
    pub session_id: SessionId,
    /// As typed, trimmed.
    pub nickname: Nickname,
    /// Active, removed or banned.
    pub status: ParticipantStatus,
    /// Joined.
    pub joined_at: DateTime<Utc>,
    /// Last contact recorded in storage.
    pub last_seen_at: DateTime<Utc>,
    /// SHA-256 (hex) of the browser cookie it joined with, so that a ban can cover the
    /// browser; `None` for clients that keep no cookies.
    pub browser: Option<String>,
    /// Their team, an index into the session's team names; `None` without teams.
    pub team: Option<u16>,
}

/// A valid nickname and the key that makes it unique.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nickname {
    display: String,
    key: String,
}

/// Why a nickname is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidNickname {
    /// Nothing left after trimming.
    #[error("the nickname must not be empty")]
    Empty,
    /// More than 40 characters.
    #[error("the nickname must have at most {NICKNAME_MAX} characters")]
    TooLong,
    /// Control or invisible formatting characters.
    #[error("the nickname contains characters that cannot be shown")]
    Unprintable,
    /// The session's filter or banned words refuse it.
    #[error("this nickname is not allowed in this session; please choose another")]
    NotAllowed,
}

impl InvalidNickname {
    /// The rule it broke, for pages to say in their language.
    pub fn invalid(&self) -> Invalid {
        let rule = match self {
            InvalidNickname::Empty | InvalidNickname::TooLong => Rule::Length {
                min: 1,
                max: NICKNAME_MAX,
            },
            InvalidNickname::Unprintable => Rule::Unprintable,
            InvalidNickname::NotAllowed => Rule::Refused,
        };
        Invalid::new("nickname", rule)
    }
}

impl Nickname {
    /// Trims, collapses inner whitespace, and checks length and characters.
    pub fn parse(raw: &str) -> Result<Nickname, InvalidNickname> {
        if !is_printable(raw) {
            return Err(InvalidNickname::Unprintable);
        }
        let display = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        let length = display.chars().count();
        if length == 0 {
            return Err(InvalidNickname::Empty);
        }
        if length > NICKNAME_MAX {
            return Err(InvalidNickname::TooLong);
        }
        let key = display.to_lowercase();
        Ok(Nickname { display, key })
    }

    /// Rebuilds a nickname read back from storage.
    pub(crate) fn from_stored(display: String) -> Nickname {
        let key = display.to_lowercase();
        Nickname { display, key }
    }

    /// As shown.
    pub fn as_str(&self) -> &str {
        &self.display
    }

    /// Case-folded; unique per session.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The first of "Name 2", "Name 3", … that `taken` does not contain, shortened to fit.
    pub fn suggestion(&self, taken: &dyn Fn(&str) -> bool) -> Nickname {
        (2..10_000)
            .map(|n| {
                let suffix = format!(" {n}");
                let room = NICKNAME_MAX - suffix.chars().count();
                let stem: String = self.display.chars().take(room).collect();
                Nickname::from_stored(format!("{}{suffix}", stem.trim_end()))
            })
            .find(|candidate| !taken(candidate.key()))
            .unwrap_or_else(|| {
                Nickname::from_stored(format!("Guest {}", rand::random_range(1000..10_000)))
            })
    }

    /// A made-up nickname for sessions that do not require one.
    pub fn guest() -> Nickname {
        Nickname::from_stored(format!("Guest {}", rand::random_range(1000..10_000)))
    }
}

/// No control characters, no direction overrides, nothing invisible; joiners, variation
/// selectors, keycaps and tags only inside a sequence that shows as one emoji (👩‍💻, 🏳️‍🌈,
/// 1️⃣, 🏴󠁧󠁢󠁳󠁣󠁴󠁿).
fn is_printable(raw: &str) -> bool {
    use unicode_segmentation::UnicodeSegmentation;
    raw.graphemes(true).all(|grapheme| {
        !grapheme.chars().any(|c| c.is_control() || is_invisible(c))
            && (!grapheme.chars().any(is_emoji_glue) || is_one_emoji(grapheme))
    })
}

/// Zero-width, direction-control and filler characters, which make look-alike or
/// reordered nicknames.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}' | '\u{200C}' | '\u{200E}' | '\u{200F}'
        | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FEFF}'
        | '\u{FFA0}' | '\u{FFF0}'..='\u{FFFB}' | '\u{1D173}'..='\u{1D17A}')
}

/// Characters that are invisible alone and join or modify an emoji.
fn is_emoji_glue(c: char) -> bool {
    matches!(
        c,
        '\u{200D}' | '\u{FE0E}' | '\u{FE0F}' | '\u{20E3}' | '\u{E0020}'..='\u{E007F}'
    )
}

/// Whether a grapheme is one emoji, typed fully qualified or without its variation selector.
fn is_one_emoji(grapheme: &str) -> bool {
    emojis::get(grapheme).is_some() || emojis::get(&grapheme.replace('\u{FE0F}', "")).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nicknames_are_trimmed_collapsed_and_case_folded() {
        let nick = Nickname::parse("  Ada   Lovelace ").unwrap();
        assert_eq!(nick.as_str(), "Ada Lovelace");
        assert_eq!(nick.key(), "ada lovelace");
        assert_eq!(Nickname::parse("ADA lovelace").unwrap().key(), nick.key());
    }

    #[test]
    fn nickname_rules_table() {
        let cases: [(&str, Result<(), InvalidNickname>); 19] = [
            ("", Err(InvalidNickname::Empty)),
            ("   ", Err(InvalidNickname::Empty)),
            (&"x".repeat(40), Ok(())),
            (&"x".repeat(41), Err(InvalidNickname::TooLong)),
            ("bad\u{0007}bell", Err(InvalidNickname::Unprintable)),
            ("zero\u{200B}width", Err(InvalidNickname::Unprintable)),
            ("👩\u{200D}💻 Ada", Ok(())),
            ("🏳\u{FE0F}\u{200D}🌈", Ok(())),
            ("🏳\u{200D}🌈", Ok(())),
            ("👍🏽 Kim", Ok(())),
            ("1\u{FE0F}\u{20E3} Team", Ok(())),
            ("🇩🇪 Jonas", Ok(())),
            (
                "🏴\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}",
                Ok(()),
            ),
            ("Ana\u{200D}Lena", Err(InvalidNickname::Unprintable)),
            ("a\u{FE0F}", Err(InvalidNickname::Unprintable)),
            ("evil\u{202E}txt.exe", Err(InvalidNickname::Unprintable)),
            ("iso\u{2066}late", Err(InvalidNickname::Unprintable)),
            ("tag\u{E0041}", Err(InvalidNickname::Unprintable)),
            ("\u{3164}", Err(InvalidNickname::Unprintable)),
        ];
        for (raw, expected) in cases {
            assert_eq!(Nickname::parse(raw).map(|_| ()), expected, "{raw:?}");
        }
    }

    #[test]
    fn a_suggestion_is_free_and_fits() {
        let nick = Nickname::parse("Ada").unwrap();
        let taken = |key: &str| key == "ada 2" || key == "ada 3";
        assert_eq!(nick.suggestion(&taken).as_str(), "Ada 4");
        let long = Nickname::parse(&"y".repeat(40)).unwrap();
        let suggestion = long.suggestion(&|_| false);
        assert_eq!(suggestion.as_str().chars().count(), 40);
        assert!(suggestion.as_str().ends_with(" 2"));
    }

    #[test]
    fn presence_follows_the_thresholds() {
        let now = Utc::now();
        assert_eq!(
            Presence::at(now - chrono::Duration::seconds(5), now),
            Presence::Online
        );
        assert_eq!(
            Presence::at(now - chrono::Duration::seconds(60), now),
            Presence::Idle
        );
        assert_eq!(
            Presence::at(now - chrono::Duration::seconds(121), now),
            Presence::Disconnected
        );
    }
}
