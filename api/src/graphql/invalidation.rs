//! What a request changes in the read-through cache: every mutation field a request selects
//! invalidates the listings it affects once the request is done (its changes are committed).
//! Fields are read from the parsed document, not hooked one by one while resolving: a
//! per-field hook would cost every field of every query.
use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet};

use crate::cache::Namespace;

/// Mutation fields and the cached listings they change.
const INVALIDATES: &[(&str, Namespace)] = &[
    ("setPointsRate", Namespace::Communities),
    ("approveMerchant", Namespace::Merchants),
    ("suspendMerchant", Namespace::Merchants),
    ("awardBadge", Namespace::Merchants),
    ("revokeBadge", Namespace::Merchants),
    ("createOffer", Namespace::Merchants),
    ("updateOffer", Namespace::Merchants),
    ("deactivateOffer", Namespace::Merchants),
    // Stock is part of an offer listing.
    ("redeemOffer", Namespace::Merchants),
    ("cancelRedemption", Namespace::Merchants),
    // The order pool shows OPEN orders and their requesters' names. A new order waits for
    // dispatch, and completing or rating concerns taken orders: neither touches the pool.
    ("dispatchOrder", Namespace::OrderPool),
    ("publishOrder", Namespace::OrderPool),
    ("takeOrder", Namespace::OrderPool),
    ("cancelOrder", Namespace::OrderPool),
    ("updateMyProfile", Namespace::OrderPool),
    // Mutations that grant or revoke roles.
    ("grantRole", Namespace::Roles),
    ("revokeRole", Namespace::Roles),
    ("reviewPartyMemberApplication", Namespace::Roles),
    ("approveMerchant", Namespace::Roles),
    ("addMerchantStaff", Namespace::Roles),
    ("removeMerchantStaff", Namespace::Roles),
];

/// Root field names of the document's mutations, fragments included.
fn mutation_fields(document: &ExecutableDocument) -> Vec<String> {
    fn collect(document: &ExecutableDocument, set: &SelectionSet, out: &mut Vec<String>) {
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => out.push(field.node.name.node.to_string()),
                Selection::InlineFragment(fragment) => {
                    collect(document, &fragment.node.selection_set.node, out)
                }
                Selection::FragmentSpread(spread) => {
                    if let Some(fragment) = document.fragments.get(&spread.node.fragment_name.node)
                    {
                        collect(document, &fragment.node.selection_set.node, out);
                    }
                }
            }
        }
    }
    let mut fields = Vec::new();
    for (_, operation) in document.operations.iter() {
        if operation.node.ty == OperationType::Mutation {
            collect(document, &operation.node.selection_set.node, &mut fields);
        }
    }
    fields
}

/// The cached listings that the mutation fields of `document` change.
pub fn changed_namespaces(document: &ExecutableDocument) -> Vec<Namespace> {
    let mut namespaces = Vec::new();
    for field in mutation_fields(document) {
        for (_, namespace) in INVALIDATES.iter().filter(|(name, _)| *name == field) {
            if !namespaces.contains(namespace) {
                namespaces.push(*namespace);
            }
        }
    }
    namespaces
}
