//! The published rule ids (RULES.md). An id never changes meaning; a rule
//! that changes is a new rule set, not a reused id.

/// Scope: is this direct marketing at all, and about a known sender and
/// subject?
pub const R0: &str = "R0";
/// Objection and opt-out win.
pub const R1: &str = "R1";
/// Demonstrable consent.
pub const R2: &str = "R2";
/// Electronic mail to individual subscribers needs R3a, R3b or R3c.
pub const R3: &str = "R3";
/// Consent to this sender.
pub const R3A: &str = "R3a";
/// Commercial soft opt-in.
pub const R3B: &str = "R3b";
/// Charity soft opt-in.
pub const R3C: &str = "R3c";
/// Live calls.
pub const R4: &str = "R4";
/// Automated calls.
pub const R5: &str = "R5";
/// Sender identified and opt-out in every electronic message.
pub const R6: &str = "R6";
/// Post.
pub const R7: &str = "R7";
/// Effective dating.
pub const R8: &str = "R8";
/// Erasure suppresses the subject.
pub const R9: &str = "R9";

/// Every published id.
pub const PUBLISHED: [&str; 13] = [R0, R1, R2, R3, R3A, R3B, R3C, R4, R5, R6, R7, R8, R9];

/// The published id equal to `id`, if it is one.
pub(crate) fn published(id: &str) -> Option<&'static str> {
    index(id).map(|i| PUBLISHED[i])
}

/// The position of `id` in [`PUBLISHED`], if it is a published id. (A
/// match on the text: a few byte comparisons, where a search of
/// `PUBLISHED` compared whole strings one by one.)
pub(crate) fn index(id: &str) -> Option<usize> {
    let index = match id {
        R0 => 0,
        R1 => 1,
        R2 => 2,
        R3 => 3,
        R3A => 4,
        R3B => 5,
        R3C => 6,
        R4 => 7,
        R5 => 8,
        R6 => 9,
        R7 => 10,
        R8 => 11,
        R9 => 12,
        _ => return None,
    };
    debug_assert_eq!(PUBLISHED[index], id);
    Some(index)
}
