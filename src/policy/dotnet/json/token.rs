//! Newtonsoft's LINQ-to-JSON tree: `JToken` is a shared reference (cloning the handle aliases
//! the node, as C# references do); containers know their parent, so `Remove()`, `Parent` and
//! `Path` work; adding a token that already has a parent adds a deep clone, as Newtonsoft does.

use super::JTokenType;
use crate::policy::dotnet::datetime::{DateTime, DateTimeOffset, TimeSpan};
use crate::policy::dotnet::error::{DnResult, DotnetError, ExceptionKind};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

/// A primitive JSON value (`JValue.Value`).
#[derive(Clone, Debug, PartialEq)]
pub enum JValue {
    Null,
    Undefined,
    Integer(i64),
    /// An integer beyond Int64 (Newtonsoft's BigInteger), as decimal text.
    BigInteger(String),
    Float(f64),
    String(String),
    Boolean(bool),
    Date(DateTime),
    DateOffset(DateTimeOffset),
    /// A Guid, as its "D" text.
    Guid(String),
    Uri(String),
    TimeSpan(TimeSpan),
    Bytes(Vec<u8>),
    /// Raw JSON text written as is (`JRaw`).
    Raw(String),
}

impl JValue {
    pub fn token_type(&self) -> JTokenType {
        match self {
            Self::Null => JTokenType::Null,
            Self::Undefined => JTokenType::Undefined,
            Self::Integer(_) | Self::BigInteger(_) => JTokenType::Integer,
            Self::Float(_) => JTokenType::Float,
            Self::String(_) => JTokenType::String,
            Self::Boolean(_) => JTokenType::Boolean,
            Self::Date(_) | Self::DateOffset(_) => JTokenType::Date,
            Self::Guid(_) => JTokenType::Guid,
            Self::Uri(_) => JTokenType::Uri,
            Self::TimeSpan(_) => JTokenType::TimeSpan,
            Self::Bytes(_) => JTokenType::Bytes,
            Self::Raw(_) => JTokenType::Raw,
        }
    }
}

pub(super) enum Data {
    Object(Vec<JToken>),
    Array(Vec<JToken>),
    Property(String, JToken),
    Value(JValue),
}

pub(super) struct Node {
    parent: Mutex<Weak<Node>>,
    data: Mutex<Data>,
}

impl Node {
    /// The node's content. Each lock is held only while one node is read or changed, and
    /// no caller locks a node it already holds (a poisoned lock still yields its data).
    pub(super) fn lock(&self) -> MutexGuard<'_, Data> {
        self.data.lock().unwrap_or_else(PoisonError::into_inner)
    }
    fn parent_slot(&self) -> MutexGuard<'_, Weak<Node>> {
        self.parent.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A handle on a node of the tree (`JToken` and its subclasses): `Send + Sync`, so trees can
/// live in compiled plans and variables.
#[derive(Clone)]
pub struct JToken(pub(super) Arc<Node>);

impl std::fmt::Debug for JToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_json(super::Formatting::None))
    }
}

/// An index into a token: `token["name"]` or `token[0]`.
#[derive(Clone, Debug, PartialEq)]
pub enum Key<'a> {
    Name(&'a str),
    Index(i64),
}

fn invalid_key(kind: &str, key: &Key) -> DotnetError {
    match (kind, key) {
        ("JObject", Key::Index(i)) => DotnetError::argument(format!(
            "Accessed JObject values with invalid key value: {i}. Object property name expected."
        )),
        ("JArray", Key::Name(n)) => DotnetError::argument(format!(
            "Accessed JArray values with invalid key value: \"{n}\". Int32 array index expected."
        )),
        (k, _) => DotnetError::invalid_op(format!("Cannot access child value on Newtonsoft.Json.Linq.{k}.")),
    }
}

fn index_error() -> DotnetError {
    DotnetError::out_of_range(
        "index",
        "Index was out of range. Must be non-negative and less than the size of the collection.",
    )
}

impl JToken {
    fn make(data: Data) -> Self {
        JToken(Arc::new(Node { parent: Mutex::new(Weak::new()), data: Mutex::new(data) }))
    }
    /// `new JObject()`.
    pub fn new_object() -> Self {
        Self::make(Data::Object(Vec::new()))
    }
    /// `new JArray()`.
    pub fn new_array() -> Self {
        Self::make(Data::Array(Vec::new()))
    }
    /// `new JValue(v)`.
    pub fn value(v: JValue) -> Self {
        Self::make(Data::Value(v))
    }
    pub fn null() -> Self {
        Self::value(JValue::Null)
    }
    pub fn string(s: impl Into<String>) -> Self {
        Self::value(JValue::String(s.into()))
    }
    /// `new JProperty(name, value)` (a parented value is cloned).
    pub fn new_property(name: impl Into<String>, value: JToken) -> Self {
        let p = Self::make(Data::Property(name.into(), JToken::null()));
        let v = value.adopt();
        v.set_parent(&p);
        if let Data::Property(_, slot) = &mut *p.0.lock() {
            *slot = v;
        }
        p
    }

    /// Same node (C# reference equality, `ReferenceEquals`).
    pub fn ptr_eq(&self, other: &JToken) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    fn set_parent(&self, parent: &JToken) {
        *self.0.parent_slot() = Arc::downgrade(&parent.0);
    }
    fn clear_parent(&self) {
        *self.0.parent_slot() = Weak::new();
    }

    /// `Parent` (the JProperty for an object member's value).
    pub fn parent(&self) -> Option<JToken> {
        self.0.parent_slot().upgrade().map(JToken)
    }

    /// What Newtonsoft's containers do with an added token: one that already has a parent
    /// is deep-cloned.
    fn adopt(self) -> JToken {
        if self.parent().is_some() {
            self.deep_clone()
        } else {
            self
        }
    }

    /// `adopt` for a token added under `container`: the container's own root is cloned too
    /// (Newtonsoft's EnsureParentToken), so a tree never contains itself.
    fn adopt_into(self, container: &JToken) -> JToken {
        if self.parent().is_some() || self.ptr_eq(&container.root()) {
            self.deep_clone()
        } else {
            self
        }
    }

    pub fn token_type(&self) -> JTokenType {
        match &*self.0.lock() {
            Data::Object(_) => JTokenType::Object,
            Data::Array(_) => JTokenType::Array,
            Data::Property(..) => JTokenType::Property,
            Data::Value(v) => v.token_type(),
        }
    }

    /// The .NET class name (`JObject`, `JArray`, `JProperty`, `JValue`, `JRaw`).
    pub fn class_name(&self) -> &'static str {
        match &*self.0.lock() {
            Data::Object(_) => "JObject",
            Data::Array(_) => "JArray",
            Data::Property(..) => "JProperty",
            Data::Value(JValue::Raw(_)) => "JRaw",
            Data::Value(_) => "JValue",
        }
    }

    pub fn is_object(&self) -> bool {
        matches!(&*self.0.lock(), Data::Object(_))
    }
    pub fn is_array(&self) -> bool {
        matches!(&*self.0.lock(), Data::Array(_))
    }
    pub fn is_property(&self) -> bool {
        matches!(&*self.0.lock(), Data::Property(..))
    }
    pub fn is_value(&self) -> bool {
        matches!(&*self.0.lock(), Data::Value(_))
    }
    /// `HasValues`.
    pub fn has_values(&self) -> bool {
        match &*self.0.lock() {
            Data::Object(v) | Data::Array(v) => !v.is_empty(),
            Data::Property(..) => true,
            Data::Value(_) => false,
        }
    }

    /// The primitive of a `JValue` (None for containers and properties).
    pub fn as_value(&self) -> Option<JValue> {
        match &*self.0.lock() {
            Data::Value(v) => Some(v.clone()),
            _ => None,
        }
    }

    /// `JValue.Value = v`.
    pub fn set_value(&self, v: JValue) -> DnResult<()> {
        match &mut *self.0.lock() {
            Data::Value(slot) => {
                *slot = v;
                Ok(())
            }
            _ => Err(DotnetError::invalid_cast(format!(
                "Unable to cast object of type 'Newtonsoft.Json.Linq.{}' to type 'Newtonsoft.Json.Linq.JValue'.",
                self.class_name()
            ))),
        }
    }

    /// `JProperty.Name`.
    pub fn name(&self) -> Option<String> {
        match &*self.0.lock() {
            Data::Property(n, _) => Some(n.clone()),
            _ => None,
        }
    }
    /// `JProperty.Value`.
    pub fn property_value(&self) -> Option<JToken> {
        match &*self.0.lock() {
            Data::Property(_, v) => Some(v.clone()),
            _ => None,
        }
    }

    /// `Count` of a JObject (properties) or JArray (items).
    pub fn count(&self) -> usize {
        match &*self.0.lock() {
            Data::Object(v) | Data::Array(v) => v.len(),
            Data::Property(..) => 1,
            Data::Value(_) => 0,
        }
    }

    /// `Children()`: properties of an object, items of an array, the value of a property.
    pub fn children(&self) -> Vec<JToken> {
        match &*self.0.lock() {
            Data::Object(v) | Data::Array(v) => v.clone(),
            Data::Property(_, v) => vec![v.clone()],
            Data::Value(_) => Vec::new(),
        }
    }

    /// `Properties()` of a JObject.
    pub fn properties(&self) -> Vec<JToken> {
        match &*self.0.lock() {
            Data::Object(v) => v.clone(),
            _ => Vec::new(),
        }
    }

    /// `Descendants()`: every token below, in document order.
    pub fn descendants(&self) -> Vec<JToken> {
        let mut out = Vec::new();
        fn walk(t: &JToken, out: &mut Vec<JToken>) {
            for c in t.children() {
                out.push(c.clone());
                walk(&c, out);
            }
        }
        walk(self, &mut out);
        out
    }

    /// `JObject.Property(name)` (ordinal), or with `ignore_case` the first case-insensitive match.
    pub fn property(&self, name: &str, ignore_case: bool) -> Option<JToken> {
        match &*self.0.lock() {
            Data::Object(props) => {
                let exact = props.iter().find(|p| p.name().as_deref() == Some(name));
                match exact {
                    Some(p) => Some(p.clone()),
                    None if ignore_case => props
                        .iter()
                        .find(|p| {
                            p.name().is_some_and(|n| {
                                n.eq_ignore_ascii_case(name) || n.to_lowercase() == name.to_lowercase()
                            })
                        })
                        .cloned(),
                    None => None,
                }
            }
            _ => None,
        }
    }

    /// `ContainsKey(name)`.
    pub fn contains_key(&self, name: &str) -> bool {
        self.property(name, false).is_some()
    }

    /// `token[key]`: a missing object member is null (None); an array index out of range
    /// throws; a JValue throws.
    pub fn get(&self, key: Key) -> DnResult<Option<JToken>> {
        if let (true, Key::Name(n)) = (self.is_object(), &key) {
            return Ok(self.property_value_of(n));
        }
        match (&*self.0.lock(), &key) {
            (Data::Array(items), Key::Index(i)) => {
                usize::try_from(*i).ok().and_then(|i| items.get(i).cloned()).map(Some).ok_or_else(index_error)
            }
            (Data::Property(_, _), _) => {
                Err(DotnetError::invalid_op("Cannot access child value on Newtonsoft.Json.Linq.JProperty."))
            }
            (Data::Object(_), _) => Err(invalid_key("JObject", &key)),
            (Data::Array(_), _) => Err(invalid_key("JArray", &key)),
            (Data::Value(_), _) => Err(invalid_key("JValue", &key)),
        }
    }

    fn property_value_of(&self, name: &str) -> Option<JToken> {
        if let Data::Object(props) = &*self.0.lock() {
            for p in props {
                if let Data::Property(n, v) = &*p.0.lock() {
                    if n == name {
                        return Some(v.clone());
                    }
                }
            }
        }
        None
    }

    /// `token[key] = value`: replaces an existing member's value or adds the member.
    pub fn set(&self, key: Key, value: JToken) -> DnResult<()> {
        let kind = self.class_name();
        match key {
            Key::Name(n) if self.is_object() => {
                if let Some(p) = self.property(n, false) {
                    p.set_property_value(value);
                } else {
                    self.push_child(JToken::new_property(n, value));
                }
                Ok(())
            }
            Key::Index(i) if self.is_array() => {
                let v = value.adopt_into(self);
                let mut data = self.0.lock();
                let Data::Array(items) = &mut *data else { return Err(index_error()) };
                let slot = usize::try_from(i).ok().and_then(|i| items.get_mut(i)).ok_or_else(index_error)?;
                slot.clear_parent();
                v.set_parent(self);
                *slot = v;
                Ok(())
            }
            _ if self.is_property() => {
                Err(DotnetError::invalid_op("Cannot set child value on Newtonsoft.Json.Linq.JProperty."))
            }
            k => Err(invalid_key(kind, &k)),
        }
    }

    /// `JProperty.Value = v`.
    pub fn set_property_value(&self, value: JToken) {
        let v = value.adopt_into(self);
        let mut data = self.0.lock();
        if let Data::Property(_, slot) = &mut *data {
            slot.clear_parent();
            v.set_parent(self);
            *slot = v;
        }
    }

    fn push_child(&self, child: JToken) {
        child.set_parent(self);
        if let Data::Object(v) | Data::Array(v) = &mut *self.0.lock() {
            v.push(child);
        }
    }

    /// `JArray.Add(item)` / `JObject.Add(property)` / `JObject.Add(name, value)` (`name` given).
    /// Adding an existing name to a JObject throws, as Newtonsoft does.
    pub fn add(&self, item: JToken) -> DnResult<()> {
        if self.is_array() {
            self.push_child(item.adopt_into(self));
            return Ok(());
        }
        if self.is_object() {
            let Some(name) = item.name() else {
                return Err(DotnetError::argument(format!(
                    "Can not add Newtonsoft.Json.Linq.{} to Newtonsoft.Json.Linq.JObject.",
                    item.class_name()
                )));
            };
            if self.contains_key(&name) {
                return Err(DotnetError::argument(format!(
                    "Can not add property {name} to Newtonsoft.Json.Linq.JObject. Property with the same name already exists on object."
                )));
            }
            self.push_child(item.adopt_into(self));
            return Ok(());
        }
        Err(DotnetError::new(
            ExceptionKind::Json,
            format!("Cannot add or remove items from Newtonsoft.Json.Linq.{}.", self.class_name()),
        ))
    }

    /// `JObject.Add(name, value)`.
    pub fn add_named(&self, name: &str, value: JToken) -> DnResult<()> {
        if !self.is_object() {
            return Err(DotnetError::invalid_op(format!(
                "Cannot add a named value to Newtonsoft.Json.Linq.{}.",
                self.class_name()
            )));
        }
        self.add(JToken::new_property(name, value))
    }

    /// `JArray.Insert(index, item)`.
    pub fn insert(&self, index: i64, item: JToken) -> DnResult<()> {
        let v = item.adopt_into(self);
        let mut data = self.0.lock();
        let Data::Array(items) = &mut *data else {
            return Err(DotnetError::invalid_op("Insert is only valid on a JArray."));
        };
        let i = usize::try_from(index)
            .ok()
            .filter(|i| *i <= items.len())
            .ok_or_else(|| DotnetError::out_of_range("index", "Index must be within the bounds of the List."))?;
        v.set_parent(self);
        items.insert(i, v);
        Ok(())
    }

    /// `JObject.Remove(name)`: true when a member was removed.
    pub fn remove_key(&self, name: &str) -> bool {
        let mut data = self.0.lock();
        if let Data::Object(props) = &mut *data {
            if let Some(i) = props.iter().position(|p| p.name().as_deref() == Some(name)) {
                let p = props.remove(i);
                p.clear_parent();
                return true;
            }
        }
        false
    }

    /// `JArray.RemoveAt(index)`.
    pub fn remove_at(&self, index: i64) -> DnResult<()> {
        let mut data = self.0.lock();
        let Data::Array(items) = &mut *data else {
            return Err(DotnetError::invalid_op("RemoveAt is only valid on a JArray."));
        };
        let i = usize::try_from(index).ok().filter(|i| *i < items.len()).ok_or_else(index_error)?;
        items.remove(i).clear_parent();
        Ok(())
    }

    /// `JArray.Clear()` / `JObject.RemoveAll()`.
    pub fn clear(&self) {
        if let Data::Object(v) | Data::Array(v) = &mut *self.0.lock() {
            for c in v.drain(..) {
                c.clear_parent();
            }
        }
    }

    /// `JToken.Remove()`: detaches this token from its parent. A property's value cannot be
    /// removed (Newtonsoft throws), and a token without a parent throws.
    pub fn remove(&self) -> DnResult<()> {
        let Some(parent) = self.parent() else {
            return Err(DotnetError::invalid_op("The parent is missing."));
        };
        let mut data = parent.0.lock();
        match &mut *data {
            Data::Object(v) | Data::Array(v) => {
                if let Some(i) = v.iter().position(|c| c.ptr_eq(self)) {
                    v.remove(i);
                }
                drop(data);
                self.clear_parent();
                Ok(())
            }
            _ => Err(DotnetError::new(
                ExceptionKind::Json,
                "Cannot add or remove items from Newtonsoft.Json.Linq.JProperty.",
            )),
        }
    }

    /// `JToken.Replace(value)`: puts `value` where this token is.
    pub fn replace(&self, value: JToken) -> DnResult<()> {
        let Some(parent) = self.parent() else {
            return Err(DotnetError::invalid_op("The parent is missing."));
        };
        let v = value.adopt_into(&parent);
        let mut data = parent.0.lock();
        match &mut *data {
            Data::Object(items) | Data::Array(items) => {
                if let Some(i) = items.iter().position(|c| c.ptr_eq(self)) {
                    v.set_parent(&parent);
                    items[i] = v;
                }
            }
            Data::Property(_, slot) => {
                v.set_parent(&parent);
                *slot = v;
            }
            Data::Value(_) => {}
        }
        drop(data);
        self.clear_parent();
        Ok(())
    }

    /// `DeepClone()`.
    pub fn deep_clone(&self) -> JToken {
        let data = self.0.lock();
        match &*data {
            Data::Value(v) => JToken::value(v.clone()),
            Data::Property(n, v) => JToken::new_property(n.clone(), v.deep_clone()),
            Data::Object(items) | Data::Array(items) => {
                let out = if matches!(&*data, Data::Object(_)) { JToken::new_object() } else { JToken::new_array() };
                for c in items {
                    out.push_child(c.deep_clone());
                }
                out
            }
        }
    }

    /// `JToken.DeepEquals(a, b)`: structural, with numbers compared by value.
    pub fn deep_equals(&self, other: &JToken) -> bool {
        if self.ptr_eq(other) {
            return true;
        }
        if self.is_object() && other.is_object() {
            let (x, y) = (self.properties(), other.properties());
            return x.len() == y.len()
                && x.iter().all(|p| {
                    let n = p.name().unwrap_or_default();
                    match (p.property_value(), other.property_value_of(&n)) {
                        (Some(v), Some(w)) => v.deep_equals(&w),
                        _ => false,
                    }
                });
        }
        let (a, b) = (self.0.lock(), other.0.lock());
        match (&*a, &*b) {
            (Data::Value(x), Data::Value(y)) => super::convert::values_equal(x, y),
            (Data::Property(n1, v1), Data::Property(n2, v2)) => n1 == n2 && v1.deep_equals(v2),
            // Objects are compared above, without holding both locks.
            (Data::Object(_), Data::Object(_)) => false,
            (Data::Array(x), Data::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| p.deep_equals(q)),
            _ => false,
        }
    }

    /// `First` / `Last` children.
    pub fn first(&self) -> Option<JToken> {
        self.children().into_iter().next()
    }
    pub fn last(&self) -> Option<JToken> {
        self.children().pop()
    }
    /// `Root`.
    pub fn root(&self) -> JToken {
        let mut t = self.clone();
        while let Some(p) = t.parent() {
            t = p;
        }
        t
    }

    /// `Path`: `a.b[0]`, `['odd name']`, as Newtonsoft builds it.
    pub fn path(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        let mut cur = self.clone();
        while let Some(p) = cur.parent() {
            match &*p.0.lock() {
                Data::Property(n, _) => {
                    let _ = n;
                }
                Data::Array(items) => {
                    if let Some(i) = items.iter().position(|c| c.ptr_eq(&cur)) {
                        parts.push(format!("[{i}]"));
                    }
                }
                Data::Object(_) => {
                    if let Some(n) = cur.name() {
                        let plain = !n.is_empty() && !n.contains(|c: char| ".[]()'\" \t".contains(c));
                        parts.push(if plain { format!(".{n}") } else { format!("['{}']", n.replace('\'', "\\'")) });
                    }
                }
                Data::Value(_) => {}
            }
            cur = p;
        }
        parts.reverse();
        let s = parts.concat();
        s.strip_prefix('.').map(str::to_string).unwrap_or(s)
    }
}
