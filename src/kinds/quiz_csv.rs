//! Quiz questions from a spreadsheet: a CSV file with a header row, one question per row
//! (`docs/templates.md`). Columns, in any order, names case-insensitive:
//!
//! - `question` (required);
//! - `choice1` … `choice8` (`choice 1` works too); empty cells are skipped, 2–8 must remain;
//! - `correct` (required): the numbers of the correct choices, from 1, separated by `;`,
//!   `,` or spaces (`2` or `1;3`);
//! - `time_limit_seconds` (5–300, default 20) and `points` (0–10000, default 1000), optional.
//!
//! Commas or semicolons separate the cells (the header row decides, so a spreadsheet saved
//! with either works), and a UTF-8 byte-order mark is skipped.

use serde_json::{Value, json};

use super::ImportError;
use super::quiz::{CHOICES, QUESTIONS_MAX};

/// Reads the CSV into a quiz configuration. Errors name the line and column.
pub fn quiz_config(text: &str) -> Result<Value, ImportError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let header = text.lines().next().unwrap_or_default();
    let delimiter = if header.contains(';') && !header.contains(',') {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| fault(1, "", format!("the header row cannot be read: {e}")))?
        .clone();
    let mut question = None;
    let mut correct = None;
    let mut limit = None;
    let mut points = None;
    let mut choices: Vec<(u32, usize)> = Vec::new();
    for (index, name) in headers.iter().enumerate() {
        let name = name.to_lowercase().replace(' ', "");
        match name.as_str() {
            "question" => question = Some(index),
            "correct" => correct = Some(index),
            "time_limit_seconds" => limit = Some(index),
            "points" => points = Some(index),
            other => match other.strip_prefix("choice").map(str::parse::<u32>) {
                Some(Ok(number)) if (1..=8).contains(&number) => choices.push((number, index)),
                _ => {
                    return Err(fault(
                        1,
                        headers.get(index).unwrap_or_default(),
                        "unknown column; use question, choice1 … choice8, correct, time_limit_seconds, points",
                    ));
                }
            },
        }
    }
    let question = question.ok_or_else(|| fault(1, "question", "the column is missing"))?;
    let correct = correct.ok_or_else(|| fault(1, "correct", "the column is missing"))?;
    choices.sort_unstable();
    if choices.len() < *CHOICES.start() {
        return Err(fault(
            1,
            "choice1",
            "give at least the columns choice1 and choice2",
        ));
    }

    let mut questions = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, csv::Position::line);
            fault(line, "", format!("cannot be read: {e}"))
        })?;
        let line = record.position().map_or(0, csv::Position::line);
        if record.iter().all(str::is_empty) {
            continue;
        }
        let cell = |index: usize| record.get(index).unwrap_or_default();
        let text = cell(question);
        if text.is_empty() {
            return Err(fault(line, "question", "is empty"));
        }
        // Choice numbers as written, and where each landed once empty cells are skipped.
        let mut given: Vec<(u32, usize)> = Vec::new();
        let mut labels = Vec::new();
        for (number, index) in &choices {
            if !cell(*index).is_empty() {
                given.push((*number, labels.len()));
                labels.push(cell(*index).to_owned());
            }
        }
        if !CHOICES.contains(&labels.len()) {
            return Err(fault(
                line,
                "choice1",
                format!(
                    "has {} choices; give {} to {}",
                    labels.len(),
                    CHOICES.start(),
                    CHOICES.end()
                ),
            ));
        }
        let mut right = Vec::new();
        for part in cell(correct)
            .split([';', ',', ' '])
            .filter(|p| !p.is_empty())
        {
            let number: u32 = part.parse().map_err(|_| {
                fault(
                    line,
                    "correct",
                    format!("`{part}` is not a choice number (1 for choice1, …)"),
                )
            })?;
            let at = given
                .iter()
                .find(|(n, _)| *n == number)
                .map(|(_, at)| *at)
                .ok_or_else(|| fault(line, "correct", format!("choice{number} is empty")))?;
            right.push(at);
        }
        if right.is_empty() {
            return Err(fault(line, "correct", "name at least one correct choice"));
        }
        let mut entry = json!({"question": text, "choices": labels, "correct": right});
        for (column, name) in [(limit, "time_limit_seconds"), (points, "points")] {
            if let Some(index) = column
                && !cell(index).is_empty()
            {
                let value: u32 = cell(index)
                    .parse()
                    .map_err(|_| fault(line, name, "must be a whole number"))?;
                entry[name] = json!(value);
            }
        }
        questions.push(entry);
        if questions.len() > QUESTIONS_MAX {
            return Err(fault(
                line,
                "",
                format!("at most {QUESTIONS_MAX} questions"),
            ));
        }
    }
    if questions.is_empty() {
        return Err(fault(2, "", "no questions: add one row per question"));
    }
    Ok(json!({ "questions": questions }))
}

fn fault(line: u64, column: &str, message: impl Into<String>) -> ImportError {
    ImportError {
        field: if column.is_empty() {
            format!("line {line}")
        } else {
            format!("line {line}, column {column}")
        },
        message: message.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spreadsheet_becomes_questions() {
        let csv = "\u{feff}Question,Choice 1,Choice 2,Choice 3,Correct,Points\n\
                   \"Capital of France, today?\",Paris,Lyon,,1,500\n\
                   \n\
                   2+2?,3,4,5,2;3,\n";
        let config = quiz_config(csv).unwrap();
        assert_eq!(
            config,
            json!({"questions": [
                {"question": "Capital of France, today?", "choices": ["Paris", "Lyon"], "correct": [0], "points": 500},
                {"question": "2+2?", "choices": ["3", "4", "5"], "correct": [1, 2]},
            ]})
        );
        let german =
            "question;choice1;choice2;correct;time_limit_seconds\nHauptstadt?;Berlin;Bonn;1;30\n";
        let config = quiz_config(german).unwrap();
        assert_eq!(config["questions"][0]["time_limit_seconds"], 30);
        assert_eq!(config["questions"][0]["choices"], json!(["Berlin", "Bonn"]));
    }

    #[test]
    fn errors_name_the_line_and_column() {
        let cases = [
            (
                "question,choice1,choice2\nq,a,b\n",
                "line 1, column correct",
                "missing",
            ),
            (
                "question,choice1,correct\nq,a,1\n",
                "line 1, column choice1",
                "choice2",
            ),
            (
                "question,choice1,choice2,colour,correct\n",
                "line 1, column colour",
                "unknown",
            ),
            (
                "question,choice1,choice2,correct\nq,a,b,1\nq2,a,,1\n",
                "line 3, column choice1",
                "has 1 choices",
            ),
            (
                "question,choice1,choice2,correct\nq,a,b,3\n",
                "line 2, column correct",
                "choice3 is empty",
            ),
            (
                "question,choice1,choice2,correct\nq,a,b,x\n",
                "line 2, column correct",
                "not a choice number",
            ),
            (
                "question,choice1,choice2,correct\nq,a,b,\n",
                "line 2, column correct",
                "at least one",
            ),
            (
                "question,choice1,choice2,correct\n,a,b,1\n",
                "line 2, column question",
                "empty",
            ),
            (
                "question,choice1,choice2,correct\n",
                "line 2",
                "no questions",
            ),
        ];
        for (csv, field, message) in cases {
            let e = quiz_config(csv).expect_err(csv);
            assert_eq!(e.field, field, "{csv}: {}", e.message);
            assert!(e.message.contains(message), "{csv}: {}", e.message);
        }
    }
}
