//! The session as a spreadsheet people open: a summary sheet, the participants, and one
//! sheet per activity with one row per answer in the kind's own columns (labels, not
//! indexes). Written with `rust_xlsxwriter`; every cell from people is written as text, so
//! nothing typed can run as a formula.

use std::collections::HashSet;

use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

use super::{AnswerRow, Report, answer_rows, kind_columns, seconds_to_answer};
use crate::ids::ActivityId;
use crate::kinds::ActivityRegistry;
use crate::model::session::Session;

/// Excel's limit on a sheet's name.
const SHEET_NAME_MAX: usize = 31;

/// The report as an `.xlsx` file.
pub fn to_xlsx(
    session: &Session,
    report: &Report,
    registry: &ActivityRegistry,
) -> Result<Vec<u8>, XlsxError> {
    let bold = Format::new().set_bold();
    let mut book = Workbook::new();
    let rows = answer_rows(report, registry);

    let summary = book.add_worksheet().set_name("Summary")?;
    summary.write_string_with_format(0, 0, "Session", &bold)?;
    summary.write_string(0, 1, &session.title)?;
    summary.write_string_with_format(1, 0, "Join code", &bold)?;
    summary.write_string(1, 1, session.join_code.as_str())?;
    let counts = &report.summary.participants;
    for (row, (label, value)) in [
        ("Joined", counts.total),
        ("Still in", counts.active),
        ("Removed", counts.removed),
        ("Banned", counts.banned),
    ]
    .into_iter()
    .enumerate()
    {
        let row = row_number(row + 2);
        summary.write_string_with_format(row, 0, label, &bold)?;
        summary.write_number(row, 1, value as f64)?;
    }
    header(
        summary,
        7,
        &[
            "Position",
            "Activity",
            "Kind",
            "Round",
            "Respondents",
            "Participation (%)",
        ],
        &bold,
    )?;
    let mut row = 8;
    for activity in &report.summary.activities {
        for round in &activity.rounds {
            summary.write_number(row, 0, f64::from(activity.position))?;
            summary.write_string(row, 1, &activity.title)?;
            summary.write_string(row, 2, &activity.kind)?;
            summary.write_number(row, 3, f64::from(round.round))?;
            summary.write_number(row, 4, round.respondents as f64)?;
            summary.write_number(row, 5, round.participation_rate)?;
            row += 1;
        }
    }
    summary.autofit();

    let people = book.add_worksheet().set_name("Participants")?;
    header(
        people,
        0,
        &["Nickname", "Status", "Joined", "Last seen"],
        &bold,
    )?;
    for (index, participant) in report.participants.iter().enumerate() {
        let row = row_number(index + 1);
        people.write_string(row, 0, participant.nickname.as_str())?;
        people.write_string(row, 1, participant.status.as_str())?;
        people.write_string(row, 2, participant.joined_at.to_rfc3339())?;
        people.write_string(row, 3, participant.last_seen_at.to_rfc3339())?;
    }
    people.autofit();

    let mut names = HashSet::new();
    for activity in &report.activities {
        let mine: Vec<&AnswerRow<'_>> = rows
            .iter()
            .filter(|row| row.response.activity_id == activity.id)
            .collect();
        let sheet = book.add_worksheet().set_name(sheet_name(
            activity.position,
            &activity.title,
            activity.id,
            &mut names,
        ))?;
        activity_sheet(sheet, &mine, &bold)?;
    }
    book.save_to_buffer()
}

/// One activity's answers: round, person, the kind's columns, time to answer, and when.
fn activity_sheet(
    sheet: &mut Worksheet,
    rows: &[&AnswerRow<'_>],
    bold: &Format,
) -> Result<(), XlsxError> {
    let names = kind_columns(rows.iter().copied());
    let mut titles = vec!["Round", "Nickname"];
    titles.extend(&names);
    titles.extend(["Seconds to answer", "Submitted", "Answer (JSON)"]);
    header(sheet, 0, &titles, bold)?;
    for (index, row) in rows.iter().enumerate() {
        let at = row_number(index + 1);
        sheet.write_number(at, 0, f64::from(row.response.round))?;
        sheet.write_string(at, 1, row.nickname)?;
        let mut col: u16 = 2;
        for name in &names {
            let cell = row
                .columns
                .iter()
                .find(|(n, _)| n == name)
                .map_or("", |(_, v)| v.as_str());
            sheet.write_string(at, col, cell)?;
            col += 1;
        }
        if let Some(seconds) = seconds_to_answer(row.response) {
            sheet.write_number(at, col, seconds)?;
        }
        sheet.write_string(at, col + 1, row.response.created_at.to_rfc3339())?;
        sheet.write_string(at, col + 2, &row.response.answer)?;
    }
    sheet.autofit();
    Ok(())
}

fn header(
    sheet: &mut Worksheet,
    row: u32,
    titles: &[&str],
    bold: &Format,
) -> Result<(), XlsxError> {
    for (col, title) in titles.iter().enumerate() {
        sheet.write_string_with_format(
            row,
            u16::try_from(col).unwrap_or(u16::MAX),
            *title,
            bold,
        )?;
    }
    Ok(())
}

fn row_number(index: usize) -> u32 {
    u32::try_from(index).unwrap_or(u32::MAX)
}

/// A sheet name Excel takes: "3 Lunch", without the characters it refuses, at most 31
/// characters, and unique in the book.
fn sheet_name(position: i32, title: &str, id: ActivityId, taken: &mut HashSet<String>) -> String {
    let clean: String = title
        .chars()
        .filter(|c| !matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\'))
        .collect();
    let mut name: String = format!("{position} {}", clean.trim())
        .chars()
        .take(SHEET_NAME_MAX)
        .collect();
    name = name.trim_end_matches('\'').trim().to_owned();
    if !taken.insert(name.to_lowercase()) {
        let suffix = id.to_string();
        let suffix = &suffix[suffix.len() - 4..];
        name = format!(
            "{} {suffix}",
            name.chars().take(SHEET_NAME_MAX - 5).collect::<String>()
        );
        taken.insert(name.to_lowercase());
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sheet_names_are_short_clean_and_unique() {
        let mut taken = HashSet::new();
        let id = ActivityId::new();
        let long = sheet_name(
            12,
            "What is: the [best] lunch/dinner? A very long title",
            id,
            &mut taken,
        );
        assert!(long.chars().count() <= SHEET_NAME_MAX, "{long}");
        assert!(!long.contains([':', '[', ']', '/', '?']), "{long}");
        let first = sheet_name(1, "Lunch", id, &mut taken);
        let again = sheet_name(1, "Lunch", ActivityId::new(), &mut taken);
        assert_eq!(first, "1 Lunch");
        assert_ne!(first, again);
    }
}
