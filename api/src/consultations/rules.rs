//! The pure rules of a vote: what a ballot may choose, how ballots are counted, the digest
//! anyone can recompute from the published list, and whether the turnout makes it valid.
use entity::enums::BallotKind;
use sha2::{Digest, Sha256};

use crate::{
    error::{AppError, AppResult},
    validate,
};

/// The labels of a yes/no/abstain ballot, in index order.
pub const YES_NO_ABSTAIN: [&str; 3] = ["赞成", "反对", "弃权"];
pub const MAX_OPTIONS: usize = 20;
pub const MAX_OPTION_CHARS: usize = 50;

/// The options a topic offers: the fixed three, or its own 2 to `MAX_OPTIONS` labels.
pub fn options(kind: BallotKind, labels: Vec<String>) -> AppResult<Vec<String>> {
    if kind == BallotKind::YesNoAbstain {
        return Ok(YES_NO_ABSTAIN.map(str::to_owned).to_vec());
    }
    if !(2..=MAX_OPTIONS).contains(&labels.len()) {
        return Err(AppError::bad_input(format!(
            "a ballot offers 2 to {MAX_OPTIONS} options"
        )));
    }
    let labels = labels
        .iter()
        .map(
            |label| match validate::text("options", label, 1, MAX_OPTION_CHARS)? {
                label if label.contains(['\n', '\t']) => {
                    Err(AppError::bad_input("an option is one line"))
                }
                label => Ok(label),
            },
        )
        .collect::<AppResult<Vec<_>>>()?;
    let mut seen = labels.clone();
    seen.sort();
    seen.dedup();
    if seen.len() != labels.len() {
        return Err(AppError::bad_input("each option appears once"));
    }
    Ok(labels)
}

/// How many options one ballot may choose.
pub fn max_choices(kind: BallotKind, options: usize, asked: Option<i32>) -> AppResult<i32> {
    match (kind, asked) {
        (BallotKind::UpTo, Some(k)) if k >= 1 && (k as usize) <= options => Ok(k),
        (BallotKind::UpTo, _) => Err(AppError::bad_input(
            "an up-to-K ballot needs maxChoices between 1 and the number of options",
        )),
        _ => Ok(1),
    }
}

/// A ballot's choices, sorted: one option, or up to `max_choices` different ones.
pub fn choices(options: usize, max_choices: i32, chosen: &[i32]) -> AppResult<Vec<i32>> {
    let mut chosen = chosen.to_vec();
    chosen.sort_unstable();
    chosen.dedup();
    if chosen.is_empty() || chosen.len() > max_choices as usize {
        return Err(AppError::bad_input(format!(
            "choose 1 to {max_choices} options"
        )));
    }
    if chosen.iter().any(|&i| i < 0 || i as usize >= options) {
        return Err(AppError::bad_input("no such option"));
    }
    Ok(chosen)
}

/// Ballots per option, in the options' order.
pub fn tally<'a>(options: usize, ballots: impl IntoIterator<Item = &'a [i32]>) -> Vec<i64> {
    let mut counts = vec![0; options];
    for ballot in ballots {
        for &choice in ballot {
            if let Some(count) = counts.get_mut(choice as usize) {
                *count += 1;
            }
        }
    }
    counts
}

/// One published ballot as its digest reads it: `receipt:choice,choice`.
pub fn line(receipt: &str, choices: &[i32]) -> String {
    let choices: Vec<String> = choices.iter().map(i32::to_string).collect();
    format!("{receipt}:{}", choices.join(","))
}

/// SHA-256, in hex, over the published ballots' lines sorted by receipt, each ending in "\n".
pub fn digest<'a>(ballots: impl IntoIterator<Item = (&'a str, &'a [i32])>) -> String {
    sealed_digest(
        ballots
            .into_iter()
            .map(|(receipt, choices)| line(receipt, choices)),
    )
}

/// SHA-256, in hex, over published lines sorted, each ending in "\n": what a sealed result
/// shows, so that anyone can recompute it from the published list.
pub fn sealed_digest(lines: impl IntoIterator<Item = String>) -> String {
    let mut lines: Vec<String> = lines.into_iter().collect();
    lines.sort();
    let mut hasher = Sha256::new();
    for line in lines {
        hasher.update(line.as_bytes());
        hasher.update(b"\n");
    }
    hex::encode(hasher.finalize())
}

/// Whether `turnout` of `eligible` voters reaches `percent`.
pub fn quorum_met(turnout: i64, eligible: i64, percent: i32) -> bool {
    eligible > 0 && turnout * 100 >= eligible * i64::from(percent)
}

/// The voter a household's ballot stands for: a digest of its address within the
/// community, so that the roll names no address.
pub fn household_key(community: uuid::Uuid, address: &str) -> String {
    let address: String = address.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut hasher = Sha256::new();
    hasher.update(community.as_bytes());
    hasher.update(address.as_bytes());
    format!("h:{}", hex::encode(hasher.finalize()))
}

pub fn person_key(user: uuid::Uuid) -> String {
    format!("p:{user}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ballot_chooses_within_its_kind() {
        assert_eq!(choices(3, 1, &[2]).expect("one"), [2]);
        assert!(choices(3, 1, &[0, 1]).is_err(), "one of N");
        assert!(choices(3, 1, &[]).is_err(), "empty");
        assert!(choices(3, 1, &[3]).is_err(), "no such option");
        assert!(choices(3, 1, &[-1]).is_err(), "no such option");
        assert_eq!(choices(5, 2, &[4, 1, 4]).expect("two"), [1, 4]);
        assert!(choices(5, 2, &[0, 1, 2]).is_err(), "up to K");
    }

    #[test]
    fn options_are_fixed_for_yes_no_and_distinct_otherwise() {
        assert_eq!(
            options(BallotKind::YesNoAbstain, vec![]).expect("fixed"),
            YES_NO_ABSTAIN
        );
        assert!(options(BallotKind::OneOf, vec!["甲".into()]).is_err());
        assert!(options(BallotKind::OneOf, vec!["甲".into(), "甲".into()]).is_err());
        assert!(max_choices(BallotKind::UpTo, 3, Some(4)).is_err());
        assert_eq!(max_choices(BallotKind::OneOf, 3, Some(3)).expect("k"), 1);
    }

    #[test]
    fn the_digest_is_over_sorted_lines_and_anyone_can_recompute_it() {
        let one = digest([("B", &[1][..]), ("A", &[0, 2][..])]);
        let other = digest([("A", &[0, 2][..]), ("B", &[1][..])]);
        assert_eq!(one, other, "order of the list does not matter");
        let expected = hex::encode(Sha256::digest(b"A:0,2\nB:1\n"));
        assert_eq!(one, expected);
        assert_ne!(one, digest([("A", &[0][..]), ("B", &[1][..])]));
    }

    #[test]
    fn counts_and_quorum() {
        assert_eq!(tally(3, [&[0][..], &[0, 2][..], &[1][..]]), [2, 1, 1]);
        assert!(quorum_met(50, 100, 50));
        assert!(!quorum_met(49, 100, 50));
        assert!(!quorum_met(0, 0, 0), "no electorate, no result");
    }

    #[test]
    fn a_household_is_its_address_whitespace_aside() {
        let community = uuid::Uuid::nil();
        assert_eq!(
            household_key(community, " 3号楼  2单元 401 "),
            household_key(community, "3号楼 2单元 401")
        );
        assert_ne!(
            household_key(community, "3号楼2单元401"),
            household_key(uuid::Uuid::max(), "3号楼2单元401")
        );
    }
}
