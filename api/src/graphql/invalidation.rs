//! Tells the read-through cache what a request changed: every mutation field that succeeded
//! invalidates the listings it affects, once the request is done (its changes are committed).
use std::sync::{Arc, Mutex};

use async_graphql::{
    Response, ServerResult, Value,
    extensions::{
        Extension, ExtensionContext, ExtensionFactory, NextRequest, NextResolve, ResolveInfo,
    },
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

#[async_trait::async_trait]
impl Extension for PerRequest {
    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        let field = (info.parent_type == "MutationRoot").then(|| info.name.to_owned());
        let result = next.run(ctx, info).await;
        if let (Some(field), Ok(_)) = (field, &result)
            && let Some((_, namespace)) = INVALIDATES.iter().find(|(name, _)| *name == field)
        {
            self.changed
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .push(*namespace);
        }
        result
    }

    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let response = next.run(ctx).await;
        let changed = std::mem::take(
            &mut *self
                .changed
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        );
        for namespace in changed {
            cache::invalidate(&self.store, namespace).await;
        }
        response
    }
}
