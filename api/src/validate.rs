//! Text rules shared by every domain: they trim, bound and explain. Parsed values (phones,
//! skills, months) are in `values`.
use crate::error::{AppError, AppResult};

/// The most characters any text field takes (an order's description).
pub const LONGEST_TEXT: usize = 2000;

/// Trims `value` and checks it has between `min` and `max` characters, none of them a control
/// character other than newline and tab: PostgreSQL cannot store NUL at all, and the others
/// only garble what staff read.
pub fn text(field: &str, value: &str, min: usize, max: usize) -> AppResult<String> {
    let value = value.trim();
    // A character is at most 4 bytes: longer text is refused before it is walked.
    if value.len() > max.saturating_mul(4) {
        return Err(too_long(field, max));
    }
    if value
        .chars()
        .any(|c| c.is_ascii_control() && c != '\n' && c != '\t')
    {
        return Err(AppError::bad_input(format!(
            "{field} must not contain control characters"
        )));
    }
    let length = value.chars().count();
    if length < min {
        return Err(if min == 1 {
            AppError::bad_input(format!("{field} must not be empty"))
        } else {
            AppError::bad_input(format!("{field} must have at least {min} characters"))
        });
    }
    if length > max {
        return Err(too_long(field, max));
    }
    Ok(value.to_owned())
}

fn too_long(field: &str, max: usize) -> AppError {
    AppError::bad_input(format!("{field} must have at most {max} characters"))
}

/// Optional free text: empty means absent.
pub fn optional_text(field: &str, value: Option<&str>, max: usize) -> AppResult<Option<String>> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(value) => text(field, value, 1, max).map(Some),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_and_bounded() {
        assert_eq!(text("title", "  修水管 ", 1, 10).expect("ok"), "修水管");
        assert!(text("title", "   ", 1, 10).is_err());
        assert!(text("title", &"长".repeat(11), 1, 10).is_err());
        assert_eq!(text("note", "一\n\t二", 1, 10).expect("ok"), "一\n\t二");
        for control in ["a\0b", "a\u{1b}[31mb", "a\rb", "a\u{7f}b"] {
            assert!(text("title", control, 1, 10).is_err(), "{control:?}");
        }
    }
}
