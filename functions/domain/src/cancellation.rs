//! What a cancelled `TransactWriteItems` means. DynamoDB cancels a whole transaction and lists a
//! reason per item (DynamoDB API reference, `TransactWriteItems` / `TransactionCanceledException`,
//! "Cancellation reason codes"): `None`, `ConditionalCheckFailed`,
//! `ItemCollectionSizeLimitExceeded`, `TransactionConflict`, `ProvisionedThroughputExceeded`,
//! `ThrottlingError`, `ValidationError`. Only a failed condition is a conflict between commands;
//! `TransactionConflict` (another transaction on one of the items is in flight) and throttling
//! say nothing about the data and may pass on a retry, which the SDK does not make for this
//! error (AWS-FACTS 9.7).

/// How a cancelled append is answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cancellation {
    /// A condition failed: the sequence is taken or the command id is recorded. Final.
    ConditionFailed,
    /// Another transaction on one of the items was in flight: retry; if it persists, the
    /// caller lost a race (409).
    TransactionConflict,
    /// The table or an index is throttled: retry; if it persists, 503 with `Retry-After`.
    Throttled,
    /// The request itself is wrong (`ValidationError`, an item collection over its limit, or a
    /// reason this code does not know): retrying cannot help.
    Invalid(String),
}

/// Classifies a cancellation from its per-item reason codes; when the service gave none (some
/// emulators), from the codes its message names.
pub fn classify<'a>(codes: impl IntoIterator<Item = &'a str>, message: Option<&str>) -> Cancellation {
    let mut codes: Vec<&str> = codes.into_iter().collect();
    if codes.is_empty() {
        let message = message.unwrap_or_default();
        codes = KNOWN.iter().copied().filter(|code| message.contains(code)).collect();
    }
    let has = |code: &str| codes.contains(&code);
    if has("ConditionalCheckFailed") {
        return Cancellation::ConditionFailed;
    }
    if let Some(invalid) = codes.iter().find(|code| {
        !matches!(**code, "None" | "TransactionConflict" | "ThrottlingError" | "ProvisionedThroughputExceeded")
    }) {
        return Cancellation::Invalid((*invalid).to_owned());
    }
    if has("ThrottlingError") || has("ProvisionedThroughputExceeded") {
        return Cancellation::Throttled;
    }
    if has("TransactionConflict") {
        return Cancellation::TransactionConflict;
    }
    Cancellation::Invalid("no reason given".to_owned())
}

/// Every documented reason code.
const KNOWN: [&str; 7] = [
    "None",
    "ConditionalCheckFailed",
    "ItemCollectionSizeLimitExceeded",
    "TransactionConflict",
    "ProvisionedThroughputExceeded",
    "ThrottlingError",
    "ValidationError",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_reason_has_an_answer() {
        let one = |code| classify(["None", code], None);
        assert_eq!(one("ConditionalCheckFailed"), Cancellation::ConditionFailed);
        assert_eq!(one("TransactionConflict"), Cancellation::TransactionConflict);
        assert_eq!(one("ThrottlingError"), Cancellation::Throttled);
        assert_eq!(one("ProvisionedThroughputExceeded"), Cancellation::Throttled);
        assert_eq!(one("ValidationError"), Cancellation::Invalid("ValidationError".into()));
        assert_eq!(
            one("ItemCollectionSizeLimitExceeded"),
            Cancellation::Invalid("ItemCollectionSizeLimitExceeded".into())
        );
        assert_eq!(one("SomethingNew"), Cancellation::Invalid("SomethingNew".into()));
        assert_eq!(one("None"), Cancellation::Invalid("no reason given".into()));
    }

    #[test]
    fn a_failed_condition_wins_and_throttling_outranks_a_transaction_conflict() {
        assert_eq!(classify(["TransactionConflict", "ConditionalCheckFailed"], None), Cancellation::ConditionFailed);
        assert_eq!(classify(["TransactionConflict", "ThrottlingError"], None), Cancellation::Throttled);
    }

    #[test]
    fn without_reasons_the_message_is_read() {
        let moto = "Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed]";
        assert_eq!(classify([], Some(moto)), Cancellation::ConditionFailed);
        assert_eq!(classify([], Some("reasons [TransactionConflict]")), Cancellation::TransactionConflict);
        assert_eq!(classify([], None), Cancellation::Invalid("no reason given".into()));
    }
}
