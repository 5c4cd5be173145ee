//! Micro-benchmarks of the hot paths of a live event: checking an answer, folding a round's
//! answers into results, framing a live event, and checking a participant token. CI builds
//! and runs them once each (`cargo test --all-targets` runs benches in test mode); numbers
//! come from `cargo bench --bench hot_paths` and go in docs/performance.md.

use chrono::Utc;
use conflicto::auth::SigningKey;
use conflicto::ids::{ParticipantId, SessionId};
use conflicto::kinds::poll::{Poll, PollAnswer, PollConfig, PollState};
use conflicto::kinds::{ActivityKind, AnswerContext, Entry};
use conflicto::moderation::Moderator;
use conflicto::realtime::events::frame;
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn poll_config() -> PollConfig {
    PollConfig {
        question: "Where do we eat?".into(),
        options: (1..=4).map(|i| format!("Option {i}")).collect(),
        multiple: false,
        max_picks: None,
    }
}

fn answers(c: &mut Criterion) {
    let config = poll_config();
    let state = PollState::default();
    let moderator = Moderator::OFF;
    let context = AnswerContext {
        participant: ParticipantId::new(),
        received: Utc::now(),
        revealed: false,
        moderator: &moderator,
        own_slots: &Vec::new,
    };
    c.bench_function("poll check_answer", |b| {
        b.iter(|| {
            Poll::check_answer(
                &config,
                &state,
                black_box(PollAnswer { options: vec![2] }),
                &context,
            )
        })
    });
}

fn tallies(c: &mut Criterion) {
    let config = poll_config();
    let state = PollState::default();
    let people: Vec<(ParticipantId, String, PollAnswer)> = (0..10_000)
        .map(|i| {
            (
                ParticipantId::new(),
                format!("p{i}"),
                PollAnswer {
                    options: vec![i % 4],
                },
            )
        })
        .collect();
    let at = Utc::now();
    let entries: Vec<Entry<'_, PollAnswer>> = people
        .iter()
        .map(|(participant, nickname, answer)| Entry {
            participant: *participant,
            nickname,
            slot: "vote",
            at,
            since: None,
            team: None,
            answer,
        })
        .collect();
    c.bench_function("poll tally of 10,000 answers", |b| {
        b.iter(|| Poll::tally(&config, &state, black_box(&entries)))
    });
}

fn events(c: &mut Criterion) {
    let results = serde_json::json!({
        "activity_id": ParticipantId::new().to_string(),
        "results": {"total_voters": 10000, "options": [
            {"label": "Option 1", "count": 2511, "percent": 25.11},
            {"label": "Option 2", "count": 2553, "percent": 25.53},
            {"label": "Option 3", "count": 2485, "percent": 24.85},
            {"label": "Option 4", "count": 2451, "percent": 24.51}]}
    });
    c.bench_function("frame a results event", |b| {
        b.iter(|| frame(black_box("1764300000-42"), "results", black_box(&results)))
    });
}

fn tokens(c: &mut Criterion) {
    let key = SigningKey::generate();
    let token = key.participant_token(SessionId::new(), ParticipantId::new());
    c.bench_function("verify a participant token", |b| {
        b.iter(|| key.verify_participant_token(black_box(&token)))
    });
}

criterion_group!(hot_paths, answers, tallies, events, tokens);
criterion_main!(hot_paths);
