//! `ranking`: each participant puts 2–10 items in order, best first. Results give each
//! item's average position, its Borda score (an item gets `n − position` points from each
//! ranking, so first of five earns 4 and last 0) and how often it landed in each position.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::poll::percent;
use super::{
    ActivityKind, AnswerContext, Entry, Invalid, Rule, check_count, check_distinct_texts,
    check_length, check_lengths, competition_ranks, labels_of,
};

/// Fewest items to order.
pub const ITEMS_MIN: usize = 2;
/// Most items to order.
pub const ITEMS_MAX: usize = 10;
/// Longest item.
pub const ITEM_MAX_LENGTH: usize = 120;

/// The ranking kind.
pub struct Ranking;

/// A ranking's configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RankingConfig {
    /// What the order is about ("Which feature first?").
    pub question: String,
    /// The items, in the order phones first show them.
    pub items: Vec<String>,
}

/// Nothing to control while it runs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RankingState {}

/// One participant's order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RankingAnswer {
    /// Every item's index exactly once, the best first.
    pub order: Vec<usize>,
}

/// Where the items stand.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RankingResults {
    /// People who ranked.
    pub total_voters: usize,
    /// One entry per item, best Borda score first (ties: better average position, then the
    /// configured order).
    pub items: Vec<RankedItem>,
}

/// One item's standing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RankedItem {
    /// Its index in the configuration.
    pub index: usize,
    /// Its text.
    pub label: String,
    /// Its place in the results, 1 for the best (equal scores share a place).
    pub rank: usize,
    /// Sum over rankings of `items − position`.
    pub borda: u64,
    /// Mean position, 1 for first, two decimals; null before anyone ranked.
    pub average_position: Option<f64>,
    /// How many put it first, second, …: one entry per position.
    pub positions: Vec<PositionCount>,
}

/// How often an item landed in one position.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PositionCount {
    /// The position, 1 for first.
    pub position: usize,
    /// Rankings that put it there.
    pub count: usize,
    /// Share of rankings, 0–100.
    pub percent: f64,
}

#[expect(clippy::cast_precision_loss, reason = "positions and counts are small")]
fn as_f64(value: usize) -> f64 {
    value as f64
}

impl ActivityKind for Ranking {
    const KIND: &'static str = "ranking";
    const NAME: &'static str = "Ranking";
    const DESCRIPTION: &'static str =
        "Put items in order; average positions, Borda scores and a distribution per position.";
    type Config = RankingConfig;
    type State = RankingState;
    type Answer = RankingAnswer;
    type Results = RankingResults;

    fn config_schema() -> Value {
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "Ranking",
            "type": "object",
            "additionalProperties": false,
            "required": ["question", "items"],
            "properties": {
                "question": {"type": "string", "minLength": 1, "maxLength": 300, "title": "Question"},
                "items": {
                    "type": "array", "title": "Items to order",
                    "minItems": ITEMS_MIN, "maxItems": ITEMS_MAX, "uniqueItems": true,
                    "items": {"type": "string", "minLength": 1, "maxLength": ITEM_MAX_LENGTH}
                }
            }
        })
    }

    fn answer_schema() -> Value {
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "additionalProperties": false,
            "required": ["order"],
            "properties": {
                "order": {
                    "type": "array", "minItems": ITEMS_MIN, "maxItems": ITEMS_MAX, "uniqueItems": true,
                    "items": {"type": "integer", "minimum": 0, "maximum": ITEMS_MAX - 1}
                }
            }
        })
    }

    fn check_config(config: &RankingConfig) -> Result<(), Invalid> {
        check_length("question", &config.question, 1, 300)?;
        check_count("items", config.items.len(), ITEMS_MIN, ITEMS_MAX)?;
        check_lengths("items", &config.items, 1, ITEM_MAX_LENGTH)?;
        check_distinct_texts("items", &config.items)
    }

    fn check_answer(
        config: &RankingConfig,
        _state: &RankingState,
        answer: RankingAnswer,
        _context: &AnswerContext<'_>,
    ) -> Result<RankingAnswer, Invalid> {
        let count = config.items.len();
        check_count("order", answer.order.len(), count, count)?;
        let mut seen = vec![false; count];
        for (at, &item) in answer.order.iter().enumerate() {
            let Some(slot) = seen.get_mut(item) else {
                return Err(Invalid::new(format!("order[{at}]"), Rule::Index { count }));
            };
            if std::mem::replace(slot, true) {
                return Err(Invalid::new("order", Rule::Distinct));
            }
        }
        Ok(answer)
    }

    fn export(
        config: &RankingConfig,
        _state: &RankingState,
        answer: &RankingAnswer,
        _at: DateTime<Utc>,
    ) -> Vec<(&'static str, String)> {
        vec![
            ("order", labels_of(&config.items, &answer.order)),
            ("first", labels_of(&config.items, &answer.order[..1])),
        ]
    }

    fn slot(_config: &RankingConfig, _answer: &RankingAnswer) -> String {
        "ranking".into()
    }

    fn tally(
        config: &RankingConfig,
        _state: &RankingState,
        entries: &[Entry<'_, RankingAnswer>],
    ) -> RankingResults {
        let count = config.items.len();
        let total = entries.len();
        // counts[item][position]
        let mut counts = vec![vec![0_usize; count]; count];
        for entry in entries {
            for (position, &item) in entry.answer.order.iter().enumerate() {
                if let Some(row) = counts.get_mut(item) {
                    row[position] += 1;
                }
            }
        }
        let mut items: Vec<RankedItem> = counts
            .iter()
            .enumerate()
            .map(|(index, row)| {
                let borda: usize = row
                    .iter()
                    .enumerate()
                    .map(|(position, n)| n * (count - 1 - position))
                    .sum();
                let position_sum: usize = row
                    .iter()
                    .enumerate()
                    .map(|(position, n)| n * (position + 1))
                    .sum();
                RankedItem {
                    index,
                    label: config.items[index].clone(),
                    rank: 0,
                    borda: u64::try_from(borda).unwrap_or(u64::MAX),
                    average_position: (total > 0)
                        .then(|| (as_f64(position_sum) / as_f64(total) * 100.0).round() / 100.0),
                    positions: row
                        .iter()
                        .enumerate()
                        .map(|(position, &n)| PositionCount {
                            position: position + 1,
                            count: n,
                            percent: percent(n, total),
                        })
                        .collect(),
                }
            })
            .collect();
        // Every ranking places every item, so a higher Borda score is a lower average
        // position; the configured order breaks ties.
        items.sort_by(|a, b| b.borda.cmp(&a.borda).then(a.index.cmp(&b.index)));
        let scores: Vec<i64> = items
            .iter()
            .map(|i| i64::try_from(i.borda).unwrap_or(i64::MAX))
            .collect();
        for (item, rank) in items.iter_mut().zip(competition_ranks(&scores)) {
            item.rank = rank;
        }
        RankingResults {
            total_voters: total,
            items,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::testing::{context, fold};

    fn config() -> RankingConfig {
        RankingConfig {
            question: "What first?".into(),
            items: vec!["Search".into(), "Export".into(), "Themes".into()],
        }
    }

    fn order(order: &[usize]) -> RankingAnswer {
        RankingAnswer {
            order: order.to_vec(),
        }
    }

    #[test]
    fn items_are_checked() {
        assert!(Ranking::check_config(&config()).is_ok());
        let mut one = config();
        one.items.truncate(1);
        assert!(Ranking::check_config(&one).is_err());
        let mut eleven = config();
        eleven.items = (0..11).map(|i| format!("Item {i}")).collect();
        assert!(Ranking::check_config(&eleven).is_err());
        let mut twice = config();
        twice.items[2] = " search ".into();
        assert_eq!(
            Ranking::check_config(&twice).unwrap_err().rule,
            Rule::Distinct
        );
    }

    #[test]
    fn an_answer_orders_every_item_once() {
        let state = RankingState::default();
        let check = |o: &[usize]| Ranking::check_answer(&config(), &state, order(o), &context());
        assert!(check(&[2, 0, 1]).is_ok());
        assert!(check(&[2, 0]).is_err(), "every item");
        assert!(check(&[2, 0, 1, 1]).is_err(), "no more");
        assert_eq!(check(&[2, 2, 1]).unwrap_err().rule, Rule::Distinct);
        let out = check(&[0, 3, 1]).unwrap_err();
        assert_eq!(
            (out.field.as_str(), out.rule),
            ("order[1]", Rule::Index { count: 3 })
        );
    }

    #[test]
    fn the_tally_gives_borda_average_positions_and_distributions() {
        let answers = [order(&[0, 1, 2]), order(&[1, 0, 2]), order(&[0, 2, 1])];
        let refs: Vec<&RankingAnswer> = answers.iter().collect();
        let results = fold::<Ranking>(&config(), &refs);
        assert_eq!(results.total_voters, 3);
        let by_label = |label: &str| results.items.iter().find(|i| i.label == label).unwrap();
        // Search: 2 + 1 + 2; Export: 1 + 2 + 0; Themes: 0 + 0 + 1.
        assert_eq!(by_label("Search").borda, 5);
        assert_eq!(by_label("Export").borda, 3);
        assert_eq!(by_label("Themes").borda, 1);
        assert_eq!(by_label("Search").average_position, Some(1.33));
        assert_eq!(by_label("Themes").average_position, Some(2.67));
        assert_eq!(
            by_label("Search")
                .positions
                .iter()
                .map(|p| p.count)
                .collect::<Vec<_>>(),
            [2, 1, 0]
        );
        assert_eq!(
            results.items.iter().map(|i| i.rank).collect::<Vec<_>>(),
            [1, 2, 3]
        );
        assert_eq!(results.items[0].label, "Search");
        // Ties share a place, in the configured order.
        let tied = [order(&[0, 1, 2]), order(&[1, 0, 2])];
        let refs: Vec<&RankingAnswer> = tied.iter().collect();
        let results = fold::<Ranking>(&config(), &refs);
        assert_eq!(
            results
                .items
                .iter()
                .map(|i| (i.label.as_str(), i.rank))
                .collect::<Vec<_>>(),
            [("Search", 1), ("Export", 1), ("Themes", 3)]
        );
        let none = fold::<Ranking>(&config(), &[]);
        assert!(none.items.iter().all(|i| i.average_position.is_none()));
    }

    #[test]
    fn exports_name_the_order() {
        let columns = Ranking::export(
            &config(),
            &RankingState::default(),
            &order(&[2, 0, 1]),
            Utc::now(),
        );
        assert_eq!(
            columns,
            vec![
                ("order", "Themes; Search; Export".to_owned()),
                ("first", "Themes".to_owned())
            ]
        );
    }
}
