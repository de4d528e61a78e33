//! Input rules shared by every domain: they trim, bound and explain.
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

/// A phone number someone can be called on: a mainland mobile number (1[3-9] and 9 more
/// digits), or a landline: 7–8 digits not starting with 0 or 1, optionally after an area code
/// (0 and 2–3 digits, then an optional dash), as residents write them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    pub fn parse(field: &str, value: &str) -> AppResult<Self> {
        let value = value.trim();
        if is_mobile(value) || is_landline(value) {
            Ok(Self(value.to_owned()))
        } else {
            Err(AppError::bad_input(format!(
                "{field} must be a mobile number like 13812341234 or a landline like 0531-88888888"
            )))
        }
    }
}

impl AsRef<str> for Phone {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<Phone> for String {
    fn from(phone: Phone) -> Self {
        phone.0
    }
}

/// A member's skills: at most 10 distinct labels of 1–20 characters without commas, kept in
/// the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skills(Vec<String>);

impl Skills {
    pub const MAX: usize = 10;

    pub fn parse(labels: &[String]) -> AppResult<Self> {
        // Counted before any label is looked at: the de-duplication below is quadratic.
        if labels.len() > Self::MAX {
            return Err(AppError::bad_input(format!("at most {} skills", Self::MAX)));
        }
        let mut skills: Vec<String> = Vec::new();
        for label in labels {
            let label = text("skills", label, 1, 20)?;
            if label.contains(',') {
                return Err(AppError::bad_input("a skill may not contain a comma"));
            }
            if !skills.contains(&label) {
                skills.push(label);
            }
        }
        Ok(Self(skills))
    }

    /// The stored form's skills.
    pub fn stored(stored: &str) -> Vec<String> {
        stored
            .split(',')
            .filter(|label| !label.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// The pattern that finds `label` in the stored form.
    pub fn pattern(label: &str) -> String {
        format!("%,{},%", label.trim())
    }
}

impl From<Skills> for String {
    fn from(skills: Skills) -> Self {
        if skills.0.is_empty() {
            String::new()
        } else {
            format!(",{},", skills.0.join(","))
        }
    }
}

fn all_digits(value: &str) -> bool {
    !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit())
}

fn is_mobile(value: &str) -> bool {
    value.len() == 11
        && all_digits(value)
        && value.starts_with('1')
        && matches!(value.as_bytes()[1], b'3'..=b'9')
}

fn is_local_number(value: &str) -> bool {
    (7..=8).contains(&value.len())
        && all_digits(value)
        && matches!(value.as_bytes()[0], b'2'..=b'9')
}

fn is_landline(value: &str) -> bool {
    if is_local_number(value) {
        return true;
    }
    let (area, local) = match value.split_once('-') {
        Some(parts) => parts,
        // Without a dash, an area code of 3 or 4 digits: try both.
        None => {
            return [3, 4].iter().any(|&n| {
                value.len() > n && is_area_code(&value[..n]) && is_local_number(&value[n..])
            });
        }
    };
    is_area_code(area) && is_local_number(local)
}

fn is_area_code(value: &str) -> bool {
    (3..=4).contains(&value.len()) && all_digits(value) && value.starts_with('0') && value != "000"
}

/// Shows the first three and last four digits: 138****1234.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() < 8 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 7))
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

    #[test]
    fn phone_numbers_are_checked() {
        for good in [
            "13812341234",
            "0531-8888888",
            "053188888888",
            "010-62345678",
            "88888888",
        ] {
            assert!(Phone::parse("phone", good).is_ok(), "{good}");
        }
        for bad in [
            "0000000",
            "call me",
            "1-2-3-4-5-6-7",
            "12812341234",
            "1381234123",
            "0531-0888888",
            "000-88888888",
        ] {
            assert!(Phone::parse("phone", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn skills_are_stored_so_that_one_is_found_exactly() {
        let labels = ["水电".to_owned(), " 法律 ".to_owned(), "水电".to_owned()];
        let stored = String::from(Skills::parse(&labels).unwrap());
        assert_eq!(stored, ",水电,法律,");
        assert_eq!(Skills::stored(&stored), ["水电", "法律"]);
        assert_eq!(Skills::pattern("水电"), "%,水电,%");
        assert!(Skills::parse(&["a,b".to_owned()]).is_err());
        let many: Vec<String> = (0..11).map(|i| i.to_string()).collect();
        assert!(Skills::parse(&many).is_err());
        assert_eq!(String::from(Skills::parse(&[]).unwrap()), "");
    }

    #[test]
    fn phones_are_masked_in_the_middle() {
        assert_eq!(mask_phone("13812341234"), "138****1234");
        assert_eq!(mask_phone("0531-8888888"), "053*****8888");
        assert_eq!(mask_phone("12345"), "*****");
    }
}
