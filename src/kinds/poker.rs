//! `poker` (planning poker): everyone picks a card privately and may change it until the
//! reveal. Before the reveal every audience, the organizer included, sees who has voted but
//! not what. On reveal: the distribution, lowest and highest card, the average and median of
//! the numeric cards, and whether the team agrees. `new_round` starts a re-vote and keeps the
//! ended round in `history`. Results of this kind are always hidden until revealed.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{
    ActivityKind, AnswerContext, Entry, Invalid, Rule, Viewer, arg, check_count, check_length,
    to_json,
};

/// The "I don't know" card.
pub const UNSURE: &str = "?";
/// The "I need a break" card.
pub const COFFEE: &str = "coffee";
/// Most cards in a custom deck.
pub const CUSTOM_MAX: usize = 30;
/// Most rounds kept in the history.
pub const HISTORY_MAX: usize = 50;

/// The planning poker kind.
pub struct Poker;

/// The built-in decks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Deck {
    /// 0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89.
    #[default]
    Fibonacci,
    /// 0, ½, 1, 2, 3, 5, 8, 13, 20, 40, 100.
    ModifiedFibonacci,
    /// XS, S, M, L, XL, XXL.
    TShirt,
    /// 0, 1, 2, 4, 8, 16, 32, 64.
    PowersOf2,
    /// The organizer's `custom_cards`.
    Custom,
}

impl Deck {
    fn cards(self) -> &'static [&'static str] {
        match self {
            Deck::Fibonacci => &["0", "1", "2", "3", "5", "8", "13", "21", "34", "55", "89"],
            Deck::ModifiedFibonacci => {
                &["0", "½", "1", "2", "3", "5", "8", "13", "20", "40", "100"]
            }
            Deck::TShirt => &["XS", "S", "M", "L", "XL", "XXL"],
            Deck::PowersOf2 => &["0", "1", "2", "4", "8", "16", "32", "64"],
            Deck::Custom => &[],
        }
    }
}

/// A poker table's configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PokerConfig {
    /// The story being estimated.
    #[serde(default)]
    pub story: String,
    /// The deck.
    #[serde(default)]
    pub deck: Deck,
    /// The cards of a custom deck, lowest first (2–30, each 1–10 characters).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub custom_cards: Vec<String>,
    /// Offer the `?` card (default on).
    #[serde(default = "yes")]
    pub unsure_card: bool,
    /// Offer the coffee card (default on).
    #[serde(default = "yes")]
    pub coffee_card: bool,
}

fn yes() -> bool {
    true
}

impl PokerConfig {
    /// The playable cards in order: the deck, then `?` and coffee when offered.
    pub fn cards(&self) -> Vec<String> {
        let mut cards: Vec<String> = if self.deck == Deck::Custom {
            self.custom_cards.clone()
        } else {
            self.deck.cards().iter().map(|c| (*c).to_owned()).collect()
        };
        if self.unsure_card {
            cards.push(UNSURE.into());
        }
        if self.coffee_card {
            cards.push(COFFEE.into());
        }
        cards
    }
}

/// The story (when changed at the table) and the rounds played before this one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PokerState {
    /// The story, when the organizer changed it while playing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub story: Option<String>,
    /// Earlier rounds, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<PastRound>,
}

/// One ended round, as the history keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PastRound {
    /// Its number.
    pub round: i32,
    /// The story estimated.
    pub story: String,
    /// Votes cast.
    pub votes: usize,
    /// Cards and how many picked each (revealed rounds only; empty otherwise).
    pub distribution: Vec<CardCount>,
    /// Average of the numeric cards.
    pub average: Option<f64>,
    /// Median of the numeric cards.
    pub median: Option<f64>,
    /// Whether everyone agreed.
    pub consensus: bool,
}

/// One card pick.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PokerAnswer {
    /// The card, as the deck names it.
    pub card: String,
}

/// How many picked one card, and who.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardCount {
    /// The card.
    pub card: String,
    /// Votes for it.
    pub count: usize,
    /// Who picked it.
    #[serde(default)]
    pub voters: Vec<String>,
}

/// One voter at the table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Voter {
    /// Their nickname.
    pub nickname: String,
    /// Their card; only after the reveal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub card: Option<String>,
}

/// The table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PokerResults {
    /// The story being estimated.
    pub story: String,
    /// Whether the cards are face up (as folded: always; a view before the reveal says no).
    pub revealed: bool,
    /// Votes cast.
    pub votes: usize,
    /// Who has voted (with their card once revealed), by nickname.
    pub voters: Vec<Voter>,
    /// Cards picked, in deck order, with counts (after the reveal).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distribution: Option<Vec<CardCount>>,
    /// The lowest card picked, in deck order, ignoring `?` and coffee.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lowest: Option<String>,
    /// The highest card picked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub highest: Option<String>,
    /// Average of the numeric cards, two decimals.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub average: Option<f64>,
    /// Median of the numeric cards.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub median: Option<f64>,
    /// Every estimate is the same card (and there is at least one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consensus: Option<bool>,
    /// Earlier rounds.
    pub history: Vec<PastRound>,
}

/// A card's numeric value, if it has one.
fn numeric(card: &str) -> Option<f64> {
    if card == "½" {
        return Some(0.5);
    }
    card.replace(',', ".")
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
}

fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

fn median(sorted: &[f64]) -> Option<f64> {
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some(round2(f64::midpoint(sorted[n / 2 - 1], sorted[n / 2]))),
    }
}

impl ActivityKind for Poker {
    const KIND: &'static str = "poker";
    const NAME: &'static str = "Planning poker";
    const DESCRIPTION: &'static str =
        "Everyone estimates in secret; the cards turn over together, then re-vote if you disagree.";
    const HIDDEN_UNTIL_REVEAL: bool = true;
    type Config = PokerConfig;
    type State = PokerState;
    type Answer = PokerAnswer;
    type Results = PokerResults;

    fn config_schema() -> Value {
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "Planning poker",
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "story": {"type": "string", "maxLength": 300, "title": "Story"},
                "deck": {"enum": ["fibonacci", "modified_fibonacci", "t_shirt", "powers_of_2", "custom"], "default": "fibonacci", "title": "Deck",
                         // Each deck's cards, so an editor can preview them (an annotation; validation ignores it).
                         "x-cards": {
                             "fibonacci": Deck::Fibonacci.cards(),
                             "modified_fibonacci": Deck::ModifiedFibonacci.cards(),
                             "t_shirt": Deck::TShirt.cards(),
                             "powers_of_2": Deck::PowersOf2.cards(),
                         }},
                "custom_cards": {"type": "array", "minItems": 2, "maxItems": CUSTOM_MAX, "items": {"type": "string", "minLength": 1, "maxLength": 10}, "title": "Custom cards, lowest first", "x-shown-if": {"deck": "custom"}},
                "unsure_card": {"type": "boolean", "default": true, "title": "Offer the ? card"},
                "coffee_card": {"type": "boolean", "default": true, "title": "Offer the coffee card"}
            }
        })
    }

    fn answer_schema() -> Value {
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "additionalProperties": false,
            "required": ["card"],
            "properties": {"card": {"type": "string", "minLength": 1, "maxLength": 10}}
        })
    }

    fn check_config(config: &PokerConfig) -> Result<(), Invalid> {
        check_length("story", &config.story, 0, 300)?;
        match (config.deck, config.custom_cards.len()) {
            (Deck::Custom, n) => check_count("custom_cards", n, 2, CUSTOM_MAX)?,
            (_, 0) => {}
            (_, _) => {
                return Err(Invalid::new(
                    "custom_cards",
                    Rule::Needs {
                        other: "deck".into(),
                    },
                ));
            }
        }
        for (index, card) in config.custom_cards.iter().enumerate() {
            let field = format!("custom_cards[{index}]");
            // A card is shown as it is typed: no outer spaces to trim away.
            if card.trim() != card || card.is_empty() || card.chars().count() > 10 {
                return Err(Invalid::new(field, Rule::Length { min: 1, max: 10 }));
            }
            if card == UNSURE || card == COFFEE {
                return Err(Invalid::new(field, Rule::Reserved));
            }
        }
        let mut seen = std::collections::HashSet::new();
        if !config.custom_cards.iter().all(|c| seen.insert(c)) {
            return Err(Invalid::new("custom_cards", Rule::Distinct));
        }
        Ok(())
    }

    fn check_answer(
        config: &PokerConfig,
        _state: &PokerState,
        answer: PokerAnswer,
        context: &AnswerContext<'_>,
    ) -> Result<PokerAnswer, Invalid> {
        if context.revealed {
            return Err(Invalid::new("", Rule::FaceUp));
        }
        if !config.cards().contains(&answer.card) {
            return Err(Invalid::new("card", Rule::NotInDeck));
        }
        Ok(answer)
    }

    fn export(
        _config: &PokerConfig,
        _state: &PokerState,
        answer: &PokerAnswer,
        _at: DateTime<Utc>,
    ) -> Vec<(&'static str, String)> {
        vec![("card", answer.card.clone())]
    }

    fn slot(_config: &PokerConfig, _answer: &PokerAnswer) -> String {
        "card".into()
    }

    fn tally(
        config: &PokerConfig,
        state: &PokerState,
        entries: &[Entry<'_, PokerAnswer>],
    ) -> PokerResults {
        let cards = config.cards();
        let position = |card: &str| cards.iter().position(|c| c == card).unwrap_or(usize::MAX);
        let mut votes: Vec<(&str, &str)> = entries
            .iter()
            .map(|e| (e.nickname, e.answer.card.as_str()))
            .collect();
        votes.sort_by(|a, b| a.0.cmp(b.0));
        let distribution: Vec<CardCount> = cards
            .iter()
            .filter_map(|card| {
                let voters: Vec<String> = votes
                    .iter()
                    .filter(|(_, c)| c == card)
                    .map(|(n, _)| (*n).to_owned())
                    .collect();
                (!voters.is_empty()).then(|| CardCount {
                    card: card.clone(),
                    count: voters.len(),
                    voters,
                })
            })
            .collect();
        let estimates: Vec<&str> = votes
            .iter()
            .map(|(_, c)| *c)
            .filter(|c| *c != UNSURE && *c != COFFEE)
            .collect();
        let mut values: Vec<f64> = estimates.iter().filter_map(|c| numeric(c)).collect();
        values.sort_by(f64::total_cmp);
        #[expect(clippy::cast_precision_loss, reason = "a handful of votes")]
        let average =
            (!values.is_empty()).then(|| round2(values.iter().sum::<f64>() / values.len() as f64));
        let story = state.story.clone().unwrap_or_else(|| config.story.clone());
        PokerResults {
            story,
            revealed: true,
            votes: votes.len(),
            voters: votes
                .iter()
                .map(|(n, c)| Voter {
                    nickname: (*n).to_owned(),
                    card: Some((*c).to_owned()),
                })
                .collect(),
            distribution: Some(distribution),
            lowest: estimates
                .iter()
                .min_by_key(|c| position(c))
                .map(|c| (*c).to_owned()),
            highest: estimates
                .iter()
                .max_by_key(|c| position(c))
                .map(|c| (*c).to_owned()),
            average,
            median: median(&values),
            consensus: Some(!estimates.is_empty() && estimates.iter().all(|c| *c == estimates[0])),
            history: state.history.clone(),
        }
    }

    /// The config with the deck's cards spelled out, so a phone can show them.
    fn participant_config(config: &PokerConfig, _state: &PokerState) -> Value {
        let mut value = to_json(config);
        value["cards"] = json!(config.cards());
        value
    }

    fn view(
        _config: &PokerConfig,
        _state: &PokerState,
        results: &PokerResults,
        _viewer: Viewer,
        revealed: bool,
    ) -> Option<Value> {
        // Nobody peeks, not even the organizer: the table sees who voted until the reveal.
        if revealed {
            return Some(to_json(results));
        }
        Some(to_json(&PokerResults {
            revealed: false,
            voters: results
                .voters
                .iter()
                .map(|v| Voter {
                    card: None,
                    ..v.clone()
                })
                .collect(),
            distribution: None,
            lowest: None,
            highest: None,
            average: None,
            median: None,
            consensus: None,
            ..results.clone()
        }))
    }

    fn host_command(
        _config: &PokerConfig,
        state: &mut PokerState,
        command: &str,
        args: &Value,
        _now: DateTime<Utc>,
    ) -> Result<(), Invalid> {
        match command {
            "set_story" => {
                let story: String = arg(args, "story")?;
                check_length("args.story", &story, 0, 300)?;
                state.story = Some(story.trim().to_owned());
                Ok(())
            }
            other => Err(super::unknown_command(
                other,
                &["reveal", "hide", "new_round", "set_story"],
            )),
        }
    }

    fn next_round(
        _config: &PokerConfig,
        state: &PokerState,
        results: &PokerResults,
        round: i32,
    ) -> PokerState {
        let mut history = state.history.clone();
        history.push(PastRound {
            round,
            story: results.story.clone(),
            votes: results.votes,
            distribution: results.distribution.clone().unwrap_or_default(),
            average: results.average,
            median: results.median,
            consensus: results.consensus.unwrap_or(false),
        });
        if history.len() > HISTORY_MAX {
            history.remove(0);
        }
        PokerState {
            story: state.story.clone(),
            history,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::testing::{context, fold};

    fn config(deck: Deck) -> PokerConfig {
        PokerConfig {
            story: "Login page".into(),
            deck,
            custom_cards: vec![],
            unsure_card: true,
            coffee_card: true,
        }
    }

    fn card(c: &str) -> PokerAnswer {
        PokerAnswer { card: c.into() }
    }

    #[test]
    fn decks_and_cards_are_checked() {
        assert!(Poker::check_config(&config(Deck::Fibonacci)).is_ok());
        let mut custom = config(Deck::Custom);
        assert!(Poker::check_config(&custom).is_err(), "custom needs cards");
        custom.custom_cards = vec!["small".into(), "big".into()];
        assert!(Poker::check_config(&custom).is_ok());
        custom.custom_cards.push("?".into());
        assert!(Poker::check_config(&custom).is_err());
        let state = PokerState::default();
        let fib = config(Deck::ModifiedFibonacci);
        for ok in ["½", "40", "?", "coffee"] {
            assert!(
                Poker::check_answer(&fib, &state, card(ok), &context()).is_ok(),
                "{ok}"
            );
        }
        assert!(Poker::check_answer(&fib, &state, card("21"), &context()).is_err());
        let revealed = AnswerContext {
            revealed: true,
            ..context()
        };
        assert!(Poker::check_answer(&fib, &state, card("1"), &revealed).is_err());
    }

    #[test]
    fn cards_stay_hidden_until_the_reveal_then_give_stats_and_consensus() {
        let cfg = config(Deck::Fibonacci);
        let answers = [card("3"), card("8"), card("?"), card("5"), card("coffee")];
        let refs: Vec<&PokerAnswer> = answers.iter().collect();
        let results = fold::<Poker>(&cfg, &refs);
        let state = PokerState::default();
        let hidden = Poker::view(&cfg, &state, &results, Viewer::Organizer, false).unwrap();
        assert_eq!(hidden["votes"], 5);
        assert_eq!(hidden["revealed"], false);
        assert!(hidden["voters"][0].get("card").is_none());
        assert!(hidden.get("average").is_none() && hidden.get("distribution").is_none());

        let shown = Poker::view(&cfg, &state, &results, Viewer::Screen, true).unwrap();
        assert_eq!(shown["revealed"], true);
        assert_eq!(shown["lowest"], "3");
        assert_eq!(shown["highest"], "8");
        assert_eq!(shown["average"], 5.33);
        assert_eq!(shown["median"], 5.0);
        assert_eq!(shown["consensus"], false);
        let cards: Vec<&str> = shown["distribution"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["card"].as_str().unwrap())
            .collect();
        assert_eq!(cards, ["3", "5", "8", "?", "coffee"], "deck order");

        let agree = [card("5"), card("5"), card("?")];
        let refs: Vec<&PokerAnswer> = agree.iter().collect();
        let results = fold::<Poker>(&cfg, &refs);
        let shown = Poker::view(&cfg, &state, &results, Viewer::Screen, true).unwrap();
        assert_eq!(shown["consensus"], true);
    }

    #[test]
    fn a_revote_keeps_the_ended_round_in_the_history() {
        let cfg = config(Deck::TShirt);
        let answers = [card("S"), card("XL")];
        let refs: Vec<&PokerAnswer> = answers.iter().collect();
        let results = fold::<Poker>(&cfg, &refs);
        let next = Poker::next_round(&cfg, &PokerState::default(), &results, 1);
        assert_eq!(next.history.len(), 1);
        assert_eq!(next.history[0].round, 1);
        assert_eq!(next.history[0].distribution.len(), 2);
        assert_eq!(
            next.history[0].average, None,
            "t-shirt sizes have no average"
        );
        let again = fold::<Poker>(&cfg, &[]);
        let view = Poker::view(
            &cfg,
            &next,
            &Poker::tally(&cfg, &next, &[]),
            Viewer::Screen,
            false,
        )
        .unwrap();
        assert_eq!(view["history"][0]["round"], 1);
        assert_eq!(again.votes, 0);
    }
}
