//! Subscription keys and the admission decision (APIM semantics, apim-facts §6).
//!
//! Keys live in a `HashMap` with std's `RandomState` (keyed SipHash: an attacker cannot steer
//! which bucket a guess lands in, so bucket timing reveals nothing useful), and every hit is
//! confirmed with a constant-time comparison. Keys never appear in `Debug` output.

use std::collections::HashMap;
use std::fmt;

use subtle::ConstantTimeEq;

use crate::api_model::{Api, ApiIdx, Product, ProductIdx};

/// Index of a subscription in [`SubscriptionIndex`].
pub type SubIdx = u32;

/// What a subscription grants access to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubScope {
    /// `/apis`: every API.
    AllApis,
    /// `/apis/{apiId}`.
    Api(ApiIdx),
    /// `/products/{productId}`: every API of the product, while it is published.
    Product(ProductIdx),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubState {
    Active,
    Suspended,
    Cancelled,
    Expired,
}

/// One subscription. Debug masks the keys.
#[derive(Clone, PartialEq)]
pub struct Subscription {
    pub id: String,
    pub name: String,
    pub user_id: Option<String>,
    pub scope: SubScope,
    pub state: SubState,
    pub(crate) primary_key: Option<Box<[u8]>>,
    pub(crate) secondary_key: Option<Box<[u8]>>,
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mask = |k: &Option<Box<[u8]>>| k.as_ref().map(|_| "<redacted>");
        f.debug_struct("Subscription")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("user_id", &self.user_id)
            .field("scope", &self.scope)
            .field("state", &self.state)
            .field("primary_key", &mask(&self.primary_key))
            .field("secondary_key", &mask(&self.secondary_key))
            .finish()
    }
}

impl Subscription {
    fn has_key(&self, key: &[u8]) -> bool {
        let eq = |k: &Option<Box<[u8]>>| k.as_deref().is_some_and(|k| bool::from(k.ct_eq(key)));
        // Evaluate both so the time does not depend on which key matched.
        let p = eq(&self.primary_key);
        let s = eq(&self.secondary_key);
        p | s
    }

    fn covers(&self, api: ApiIdx, products: &[Product]) -> bool {
        match self.scope {
            SubScope::AllApis => true,
            SubScope::Api(a) => a == api,
            SubScope::Product(p) => products.get(p as usize).is_some_and(|p| p.published && p.contains(api)),
        }
    }
}

/// The outcome of a successful admission.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Admission {
    pub subscription: Option<SubIdx>,
    /// Product context: the product of a product-scoped key, or the open product when no key.
    pub product: Option<ProductIdx>,
}

/// Why a request is refused (both are 401).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthFailure {
    #[error("SubscriptionKeyNotFound")]
    KeyNotFound,
    #[error("SubscriptionKeyInvalid")]
    KeyInvalid,
}

/// All subscriptions plus the key index.
#[derive(Clone, Default)]
pub struct SubscriptionIndex {
    subs: Vec<Subscription>,
    by_key: HashMap<Box<[u8]>, Box<[SubIdx]>>,
}

impl fmt::Debug for SubscriptionIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubscriptionIndex").field("subs", &self.subs).field("keys", &self.by_key.len()).finish()
    }
}

impl SubscriptionIndex {
    pub(crate) fn new(subs: Vec<Subscription>) -> Self {
        let mut lists: HashMap<Box<[u8]>, Vec<SubIdx>> = HashMap::new();
        for (i, s) in subs.iter().enumerate() {
            let Ok(i) = SubIdx::try_from(i) else { break };
            for k in [&s.primary_key, &s.secondary_key].into_iter().flatten() {
                let list = lists.entry(k.clone()).or_default();
                if !list.contains(&i) {
                    list.push(i);
                }
            }
        }
        let by_key = lists.into_iter().map(|(k, v)| (k, v.into_boxed_slice())).collect();
        SubscriptionIndex { subs, by_key }
    }

    /// The subscription `admit` returned. Never panics: an out-of-range index (a caller
    /// mixing snapshots) yields an inert, cancelled placeholder; see also `get_opt`.
    pub fn get(&self, idx: SubIdx) -> &Subscription {
        self.subs.get(idx as usize).unwrap_or(&PLACEHOLDER)
    }

    pub fn get_opt(&self, idx: SubIdx) -> Option<&Subscription> {
        self.subs.get(idx as usize)
    }

    pub fn len(&self) -> usize {
        self.subs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.subs.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Subscription> {
        self.subs.iter()
    }

    /// Decides whether a request to `api` is admitted. `key` is the subscription key from
    /// the request, if any (the caller reads the header first, the query only without it).
    /// Does not allocate.
    pub fn admit(
        &self,
        apis: &[Api],
        products: &[Product],
        api: ApiIdx,
        key: Option<&[u8]>,
    ) -> Result<Admission, AuthFailure> {
        let Some(a) = apis.get(api as usize) else {
            return Err(AuthFailure::KeyNotFound);
        };
        let Some(key) = key else {
            if let Some(p) = a.open_product {
                return Ok(Admission { subscription: None, product: Some(p) });
            }
            return if a.subscription_required {
                Err(AuthFailure::KeyNotFound)
            } else {
                Ok(Admission { subscription: None, product: None })
            };
        };
        let Some(candidates) = self.by_key.get(key) else {
            return Err(AuthFailure::KeyInvalid);
        };
        for &i in candidates.iter() {
            let Some(s) = self.subs.get(i as usize) else {
                continue;
            };
            if s.state == SubState::Active && s.has_key(key) && s.covers(api, products) {
                let product = match s.scope {
                    SubScope::Product(p) => Some(p),
                    _ => None,
                };
                return Ok(Admission { subscription: Some(i), product });
            }
        }
        Err(AuthFailure::KeyInvalid)
    }
}

static PLACEHOLDER: Subscription = Subscription {
    id: String::new(),
    name: String::new(),
    user_id: None,
    scope: SubScope::AllApis,
    state: SubState::Cancelled,
    primary_key: None,
    secondary_key: None,
};

#[cfg(test)]
mod tests;
