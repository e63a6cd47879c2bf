//! Answers about many accounts that fit an assistant's context: filtered by state and name,
//! counted by state, and cut into pages no bigger than [`ANSWER_BYTES`], with a cursor for the
//! rest. An assistant pays for every byte it reads, on every turn.

use crate::fetch::{Outcome, Target};
use crate::json::{BalanceJson, Failure, State};
use balance_api::AccountSid;
use serde::{Deserialize, Serialize};
use std::hash::{Hash, Hasher};

/// The most an answer to a tool call may be, as the client reads it: the JSON-RPC message with
/// its structured content and the same JSON again as text.
pub const ANSWER_BYTES: usize = 16 * 1024;

/// What the parts of an answer besides its entries may take (counts, cursor, times, the
/// envelope), twice over; the entries get the rest.
const FIXED_BYTES: usize = 2 * 1024;

/// Longer text from Twilio or a config (a name, a message, a currency) is cut to this many
/// characters in an answer, so that one entry can never fill a page.
const TEXT_CHARS: usize = 200;

/// How many entries a page holds when the call gives no `limit`, and the most it may ask for.
pub const DEFAULT_LIMIT: usize = 50;
/// See [`DEFAULT_LIMIT`].
pub const MAX_LIMIT: usize = 100;

/// The longest `name_prefix` and `cursor` a call may pass.
pub const MAX_ARGUMENT_CHARS: usize = 256;

/// Which accounts an answer lists, by state.
// The variants are told once, in the `state` argument's description: doc comments on them
// would be repeated in every schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum Listing {
    All,
    Attention,
    Ok,
    BelowMin,
    NoBalance,
    Unreadable,
}

impl Listing {
    fn takes(self, state: State) -> bool {
        match self {
            Self::All => true,
            Self::Attention => matches!(state, State::BelowMin | State::Unreadable),
            Self::Ok => state == State::Ok,
            Self::BelowMin => state == State::BelowMin,
            Self::NoBalance => state == State::NoBalance,
            Self::Unreadable => state == State::Unreadable,
        }
    }
}

/// How many accounts are in each state.
#[derive(Debug, Default, Serialize, schemars::JsonSchema)]
pub struct Counts {
    /// At or above their minimum, or with no minimum.
    #[schemars(schema_with = "count")]
    pub ok: usize,
    /// Below their minimum.
    #[schemars(schema_with = "count")]
    pub below_min: usize,
    /// Subaccounts billed to their parent, with no balance of their own.
    #[schemars(schema_with = "count")]
    pub no_balance: usize,
    /// Could not be read (the entries say why).
    #[schemars(schema_with = "count")]
    pub unreadable: usize,
}

/// A count in the standard vocabulary: schemars's `"format": "uint"` is no JSON Schema format.
pub fn count(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "type": "integer", "minimum": 0 })
}

impl Counts {
    fn add(&mut self, state: State) {
        *match state {
            State::Ok => &mut self.ok,
            State::BelowMin => &mut self.below_min,
            State::NoBalance => &mut self.no_balance,
            State::Unreadable => &mut self.unreadable,
        } += 1;
    }
}

/// One account of a batch: its balance, or why it could not be read.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct BatchEntry {
    /// The account asked for.
    pub account_sid: AccountSid,
    /// The balance, when it could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<BalanceJson>,
    /// Why it could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<Failure>,
}

impl BatchEntry {
    /// The entry with every text from outside cut to [`TEXT_CHARS`].
    pub fn bounded(mut self) -> Self {
        if let Some(result) = &mut self.result {
            for text in [
                &mut result.name,
                &mut result.currency,
                &mut result.request_id,
            ] {
                text.as_mut().map(clip);
            }
        }
        if let Some(error) = &mut self.error {
            clip(&mut error.message);
            error.request_id.as_mut().map(clip);
        }
        self
    }
}

fn clip(text: &mut String) {
    if let Some((at, _)) = text.char_indices().nth(TEXT_CHARS) {
        text.truncate(at);
        text.push('…');
    }
}

/// Where a listing goes on: the position of the next account to look at, and which call's
/// arguments it belongs to (a cursor passed with other filters would skip or repeat accounts).
pub struct Cursor {
    /// The position in the listed accounts (the config's order, or the order asked).
    pub at: usize,
    arguments: u64,
}

impl Cursor {
    /// The start of the listing that `arguments` (every argument but the cursor and the
    /// limit) ask for.
    pub fn start(arguments: &impl Hash) -> Self {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        arguments.hash(&mut hasher);
        Self {
            at: 0,
            arguments: hasher.finish(),
        }
    }

    /// Goes on from `text`, a cursor a page of the same listing gave.
    pub fn resume(mut self, text: &str) -> Result<Self, String> {
        let refused = || {
            "cursor: not one this server gave for these arguments (pass the cursor with the \
             same other arguments as the call that returned it)"
                .to_owned()
        };
        let (at, arguments) = text.split_once('.').ok_or_else(refused)?;
        let arguments = u64::from_str_radix(arguments, 16).map_err(|_| refused())?;
        if arguments != self.arguments {
            return Err(refused());
        }
        self.at = at.parse().map_err(|_| refused())?;
        Ok(self)
    }

    fn text(&self, at: usize) -> String {
        format!("{at}.{:016x}", self.arguments)
    }
}

/// One page of a listing, and what the whole listing holds.
pub struct Page<T> {
    /// The page's entries, in order.
    pub entries: Vec<T>,
    /// How many accounts of the whole listing match, on every page.
    pub matched: usize,
    /// Where the next page starts, if there is one.
    pub next_cursor: Option<String>,
}

/// The entries `make` makes of `items` (each a position and, when it matches, what to make
/// its entry of) from the cursor on: at most `limit`, and no more than fit in an answer.
pub fn page<X, T: Serialize>(
    items: impl Iterator<Item = (usize, Option<X>)>,
    cursor: &Cursor,
    limit: usize,
    mut make: impl FnMut(X) -> T,
) -> Page<T> {
    let budget = ANSWER_BYTES - FIXED_BYTES;
    let (mut entries, mut used, mut matched, mut next) = (Vec::new(), 0, 0, None);
    for (at, item) in items {
        let Some(item) = item else { continue };
        matched += 1;
        if at < cursor.at || next.is_some() {
            continue;
        }
        let entry = make(item);
        let cost = cost(&entry);
        if entries.len() == limit || (used + cost > budget && !entries.is_empty()) {
            next = Some(at);
            continue;
        }
        used += cost;
        entries.push(entry);
    }
    Page {
        entries,
        matched,
        next_cursor: next.map(|at| cursor.text(at)),
    }
}

/// The bytes an entry adds to an answer: its JSON, that JSON again as a JSON string (the text
/// copy), and their commas.
fn cost(entry: &impl Serialize) -> usize {
    let json = serde_json::to_string(entry).unwrap_or_default();
    let text = serde_json::to_string(&json).unwrap_or_default();
    json.len() + text.len() + 2
}

/// The listing of `targets` with their outcomes: the counts of those whose name starts with
/// `prefix`, and their entries that `listing` takes.
pub fn states<'r: 's, 's>(
    rows: impl Iterator<Item = (&'r Target, &'r Outcome)> + 's,
    prefix: Option<&'s str>,
    listing: Listing,
    counts: &'s mut Counts,
) -> impl Iterator<Item = (usize, Option<(&'r Target, &'r Outcome)>)> + 's {
    rows.enumerate().map(move |(at, (target, outcome))| {
        let named = prefix.is_none_or(|p| target.name.as_deref().unwrap_or("").starts_with(p));
        if !named {
            return (at, None);
        }
        let state = State::of(outcome, target.min);
        counts.add(state);
        (at, listing.takes(state).then_some((target, outcome)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_goes_on_only_with_the_arguments_it_came_from() {
        let arguments = (Some("acme-"), Listing::BelowMin);
        let first = page(
            (0..10).map(|at| (at, Some(at))),
            &Cursor::start(&arguments),
            4,
            |at| at,
        );
        assert_eq!((first.entries, first.matched), (vec![0, 1, 2, 3], 10));
        let text = first.next_cursor.expect("more");
        let next = Cursor::start(&arguments)
            .resume(&text)
            .expect("same arguments");
        let second = page((0..10).map(|at| (at, Some(at))), &next, 4, |at| at);
        assert_eq!(second.entries, [4, 5, 6, 7]);
        let other = (Some("acme-"), Listing::All);
        for (arguments, text) in [(other, text.as_str()), (arguments, "4"), (arguments, "x.0")] {
            let refused = Cursor::start(&arguments).resume(text).err();
            assert!(refused.is_some_and(|e| e.starts_with("cursor: ")), "{text}");
        }
    }

    #[test]
    fn a_long_text_is_cut_at_a_character() {
        let mut text = "€".repeat(TEXT_CHARS + 1);
        clip(&mut text);
        assert_eq!(text.chars().count(), TEXT_CHARS + 1);
        assert!(text.ends_with("€…"), "{text}");
        let mut short = "€".repeat(TEXT_CHARS);
        clip(&mut short);
        assert_eq!(short, "€".repeat(TEXT_CHARS));
    }
}
