//! `idp registry import FILE.csv`: loads the tax registry's export (domain notes §7) into
//! the database. The header row names the columns (any order):
//! `inn,kind,legal_form,name_ru,ugns_code,address,vat_payer,vat_reg_date,foreign_trade,
//! parent_inn,head_pin,large_taxpayer,status` and optionally `accountant_pin`.
//!
//! Every row is checked before anything is written; one bad row and nothing is imported,
//! each problem reported as `line N: …` (the header is line 1). Rows are upserted by INN in
//! one transaction, so importing the same file twice changes nothing.

use std::collections::HashSet;

use crate::accounts::inn::normalize_inn;
use crate::store::{ForeignTrade, Store, StoreError, Taxpayer, TaxpayerKind};

/// One problem in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportError {
    /// 1-based line of the file (the header is line 1).
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Why an import did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ImportFailure {
    #[error("{} bad line(s): {}", .0.len(), .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<ImportError>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

const REQUIRED: [&str; 13] = [
    "inn",
    "kind",
    "legal_form",
    "name_ru",
    "ugns_code",
    "address",
    "vat_payer",
    "vat_reg_date",
    "foreign_trade",
    "parent_inn",
    "head_pin",
    "large_taxpayer",
    "status",
];
const OPTIONAL: [&str; 1] = ["accountant_pin"];

/// Parses and validates the whole file; all rows or the list of every problem.
pub fn parse_csv(text: &str) -> Result<Vec<Taxpayer>, Vec<ImportError>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let records = match split_records(text) {
        Ok(r) => r,
        Err(e) => return Err(vec![e]),
    };
    let mut records = records.into_iter().filter(|(_, fields)| !is_blank(fields));
    let Some((header_line, header)) = records.next() else {
        return Err(vec![ImportError {
            line: 1,
            message: "the file is empty (a header row is expected)".into(),
        }]);
    };
    let columns: Vec<String> = header
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    let mut errors = Vec::new();
    let header_error = |message: String| ImportError {
        line: header_line,
        message,
    };
    for (i, c) in columns.iter().enumerate() {
        if !REQUIRED.contains(&c.as_str()) && !OPTIONAL.contains(&c.as_str()) {
            errors.push(header_error(format!("unknown column {c:?}")));
        } else if columns[..i].contains(c) {
            errors.push(header_error(format!("column {c:?} appears twice")));
        }
    }
    for r in REQUIRED {
        if !columns.iter().any(|c| c == r) {
            errors.push(header_error(format!("missing column {r:?}")));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }

    let mut taxpayers = Vec::new();
    let mut seen = HashSet::new();
    for (line, fields) in records {
        if fields.len() != columns.len() {
            errors.push(ImportError {
                line,
                message: format!("{} fields, the header has {}", fields.len(), columns.len()),
            });
            continue;
        }
        let row = Row {
            columns: &columns,
            fields: &fields,
        };
        match parse_row(&row) {
            Ok(t) => {
                if seen.insert(t.inn.clone()) {
                    taxpayers.push(t);
                } else {
                    errors.push(ImportError {
                        line,
                        message: format!("INN {} appears twice in the file", t.inn),
                    });
                }
            }
            Err(problems) => errors.push(ImportError {
                line,
                message: problems.join("; "),
            }),
        }
    }
    if errors.is_empty() {
        Ok(taxpayers)
    } else {
        Err(errors)
    }
}

/// Parses `text` and upserts every row in one transaction; returns how many.
pub async fn import_csv(store: &dyn Store, text: &str) -> Result<usize, ImportFailure> {
    let taxpayers = parse_csv(text).map_err(ImportFailure::Invalid)?;
    store.upsert_taxpayers(&taxpayers).await?;
    Ok(taxpayers.len())
}

struct Row<'a> {
    columns: &'a [String],
    fields: &'a [String],
}

impl Row<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        self.columns
            .iter()
            .position(|c| c == name)
            .map(|i| self.fields[i].trim())
    }

    /// The value, or `None` for an absent column, an empty cell or a dash.
    fn optional(&self, name: &str) -> Option<&str> {
        self.get(name)
            .filter(|v| !v.is_empty() && !matches!(*v, "—" | "–" | "-"))
    }
}

fn parse_row(row: &Row<'_>) -> Result<Taxpayer, Vec<String>> {
    let mut problems = Vec::new();
    let mut problem = |p: String| problems.push(p);

    let raw_inn = row.get("inn").unwrap_or_default();
    let inn = normalize_inn(raw_inn, false).unwrap_or_else(|e| {
        problem(format!("inn {raw_inn:?}: {e}"));
        String::new()
    });
    let kind_text = row.get("kind").unwrap_or_default();
    let kind = TaxpayerKind::from_code(kind_text);
    if kind.is_none() {
        problem(format!(
            "kind {kind_text:?} is not one of ORG, BRANCH, IP, KFH, PERSON"
        ));
    }
    let name = row.get("name_ru").unwrap_or_default().to_string();
    if name.is_empty() {
        problem("name_ru is empty".into());
    }
    let ugns_code = row.get("ugns_code").unwrap_or_default().to_string();
    if !(ugns_code.len() == 3 && ugns_code.bytes().all(|b| b.is_ascii_digit())) {
        problem(format!("ugns_code {ugns_code:?} is not 3 digits"));
    }
    let address = row.get("address").unwrap_or_default().to_string();
    if address.is_empty() {
        problem("address is empty".into());
    }
    let vat_payer = boolean(row, "vat_payer", &mut problem);
    let large_taxpayer = boolean(row, "large_taxpayer", &mut problem);
    let vat_reg_date = row.optional("vat_reg_date").map(str::to_string);
    if let Some(d) = &vat_reg_date {
        if !is_iso_date(d) {
            problem(format!("vat_reg_date {d:?} is not a date YYYY-MM-DD"));
        }
    }
    let trade_text = row.get("foreign_trade").unwrap_or_default();
    let foreign_trade = ForeignTrade::from_code(trade_text).unwrap_or_else(|| {
        problem(format!(
            "foreign_trade {trade_text:?} is not one of NONE, IMPORT, EXPORT, BOTH"
        ));
        ForeignTrade::None
    });
    let status = row.get("status").unwrap_or_default();
    let liquidated = if status.eq_ignore_ascii_case("ACTIVE") {
        false
    } else if status.eq_ignore_ascii_case("LIQUIDATED") {
        true
    } else {
        problem(format!("status {status:?} is not ACTIVE or LIQUIDATED"));
        false
    };
    let mut pin = |column: &str| -> Option<String> {
        let value = row.optional(column)?;
        if value.eq_ignore_ascii_case("(self)") {
            return Some(inn.clone());
        }
        match normalize_inn(value, false) {
            Ok(v) => Some(v),
            Err(e) => {
                problem(format!("{column} {value:?}: {e}"));
                None
            }
        }
    };
    let parent_inn = pin("parent_inn");
    let head_pin = pin("head_pin");
    let accountant_pin = pin("accountant_pin");
    match (kind, &parent_inn) {
        (Some(TaxpayerKind::Branch), None) => problem("a BRANCH needs parent_inn".into()),
        (Some(k), Some(_)) if k != TaxpayerKind::Branch => {
            problem("parent_inn is only for a BRANCH".into())
        }
        _ => {}
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Taxpayer {
        inn,
        kind: kind.unwrap_or(TaxpayerKind::Person),
        legal_form: row.optional("legal_form").map(str::to_string),
        name,
        address,
        ugns_code,
        vat_payer,
        vat_reg_date,
        foreign_trade,
        parent_inn,
        head_pin,
        accountant_pin,
        large_taxpayer,
        liquidated,
    })
}

fn boolean(row: &Row<'_>, column: &str, problem: &mut impl FnMut(String)) -> bool {
    let value = row.get(column).unwrap_or_default();
    match value.to_ascii_lowercase().as_str() {
        "yes" | "true" | "1" => true,
        "no" | "false" | "0" => false,
        _ => {
            problem(format!(
                "{column} {value:?} is not one of yes/no/true/false/1/0"
            ));
            false
        }
    }
}

fn is_iso_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let (Ok(y), Ok(m), Ok(d)) = (s[..4].parse(), s[5..7].parse::<u8>(), s[8..].parse()) else {
        return false;
    };
    time::Month::try_from(m)
        .ok()
        .and_then(|m| time::Date::from_calendar_date(y, m, d).ok())
        .is_some()
}

fn is_blank(fields: &[String]) -> bool {
    fields.iter().all(|f| f.trim().is_empty())
}

/// Splits RFC 4180 text into records with the line each starts on. Quoted fields may hold
/// commas, doubled quotes and line breaks.
fn split_records(text: &str) -> Result<Vec<(usize, Vec<String>)>, ImportError> {
    let mut records = Vec::new();
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut line = 1;
    let mut start = 1;
    let mut quoted = false;
    let mut at_field_start = true;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                '\n' => {
                    line += 1;
                    field.push(c);
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if at_field_start => {
                quoted = true;
                at_field_start = false;
            }
            ',' => {
                fields.push(std::mem::take(&mut field));
                at_field_start = true;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                fields.push(std::mem::take(&mut field));
                records.push((start, std::mem::take(&mut fields)));
                line += 1;
                start = line;
                at_field_start = true;
            }
            _ => {
                field.push(c);
                at_field_start = false;
            }
        }
    }
    if quoted {
        return Err(ImportError {
            line: start,
            message: "a quoted field is not closed".into(),
        });
    }
    if !field.is_empty() || !fields.is_empty() {
        fields.push(field);
        records.push((start, fields));
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "inn,kind,legal_form,name_ru,ugns_code,address,vat_payer,vat_reg_date,foreign_trade,parent_inn,head_pin,large_taxpayer,status";

    #[test]
    fn the_demo_dataset_parses() {
        let rows = parse_csv(include_str!("../demo/registry.csv")).unwrap();
        assert!(rows.len() >= 12);
        let soft = rows.iter().find(|t| t.inn == "00211201999002").unwrap();
        assert_eq!(soft.accountant_pin.as_deref(), Some("11908199599014"));
        let ip = rows.iter().find(|t| t.inn == "21207198599011").unwrap();
        assert_eq!(ip.head_pin.as_deref(), Some("21207198599011"));
        assert_eq!(ip.kind, TaxpayerKind::Entrepreneur);
        // Every head and accountant is a taxpayer of the file.
        for t in &rows {
            for pin in [&t.head_pin, &t.accountant_pin].into_iter().flatten() {
                assert!(rows.iter().any(|p| &p.inn == pin), "{pin}");
            }
        }
    }

    #[test]
    fn quoted_fields_and_any_column_order() {
        let text = "status,inn,name_ru,kind,legal_form,ugns_code,address,vat_payer,vat_reg_date,foreign_trade,parent_inn,head_pin,large_taxpayer\r\n\
                    LIQUIDATED,01503201699001,\"ОсОО «Х, \"\"Y\"\"»\",org,ОсОО,004,\"г. Бишкек, 1\",TRUE,2017-01-01,both,—,,0\r\n";
        let rows = parse_csv(text).unwrap();
        assert_eq!(rows[0].name, "ОсОО «Х, \"Y\"»");
        assert_eq!(rows[0].address, "г. Бишкек, 1");
        assert!(rows[0].liquidated && rows[0].vat_payer && !rows[0].large_taxpayer);
        assert_eq!(rows[0].foreign_trade, ForeignTrade::Both);
        assert_eq!(rows[0].head_pin, None);
    }

    #[test]
    fn every_bad_line_is_reported() {
        let text = format!(
            "{HEADER}\n\
             1234567890123,ORG,ОсОО,A,004,addr,no,,NONE,,,no,ACTIVE\n\
             01503201699001,ORG,ОсОО,A,004,addr,no,,NONE,,,no,ACTIVE\n\
             00211201999002,SHOP,ОсОО,B,4,addr,maybe,,NONE,,,no,ACTIVE\n\
             00709202199004,BRANCH,филиал,C,032,addr,no,,NONE,,,no,ACTIVE\n"
        );
        let errors = parse_csv(&text).unwrap_err();
        let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![2, 4, 5], "{errors:?}");
        assert!(errors[1].message.contains("kind") && errors[1].message.contains("ugns_code"));
        assert!(errors[1].message.contains("vat_payer"));
        assert!(errors[2].message.contains("parent_inn"));
    }

    #[test]
    fn header_problems() {
        let errors = parse_csv("inn,kind,colour\n").unwrap_err();
        assert!(errors.iter().all(|e| e.line == 1));
        assert!(errors.iter().any(|e| e.message.contains("\"colour\"")));
        assert!(errors
            .iter()
            .any(|e| e.message.contains("missing column \"status\"")));
        assert_eq!(parse_csv("").unwrap_err()[0].line, 1);
    }

    #[test]
    fn duplicates_and_field_counts() {
        let row = "01503201699001,ORG,ОсОО,A,004,addr,no,,NONE,,,no,ACTIVE";
        let errors =
            parse_csv(&format!("{HEADER}\n{row}\n\n{row}\n01503201699001,ORG\n")).unwrap_err();
        assert_eq!(errors[0].line, 4);
        assert!(errors[0].message.contains("twice"));
        assert_eq!(errors[1].line, 5);
    }
}
