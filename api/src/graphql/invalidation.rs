//! Tells the read-through cache what a request changed: every mutation field a request selects
//! invalidates the listings it affects once the request is done (its changes are committed).
//! Fields are read from the parsed document, not hooked one by one while resolving: a
//! per-field hook would cost every field of every query.
use std::sync::{Arc, Mutex};

use async_graphql::{
    Response, ServerResult, Variables,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextRequest},
    parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet},
};

use crate::{
    cache::{self, Namespace},
    shared_store::SharedStore,
};

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
];

pub struct Invalidation(pub SharedStore);

impl ExtensionFactory for Invalidation {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(PerRequest {
            store: self.0.clone(),
            changed: Mutex::default(),
        })
    }
}

struct PerRequest {
    store: SharedStore,
    changed: Mutex<Vec<Namespace>>,
}

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

#[async_trait::async_trait]
impl Extension for PerRequest {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        let touched = mutation_fields(&document).into_iter().filter_map(|field| {
            INVALIDATES
                .iter()
                .find(|(name, _)| *name == field)
                .map(|(_, namespace)| *namespace)
        });
        self.changed
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .extend(touched);
        Ok(document)
    }

    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let response = next.run(ctx).await;
        let changed = std::mem::take(
            &mut *self
                .changed
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        );
        // A refused mutation changed nothing; invalidating anyway would only cost a reload.
        for namespace in changed {
            cache::invalidate(&self.store, namespace).await;
        }
        response
    }
}
