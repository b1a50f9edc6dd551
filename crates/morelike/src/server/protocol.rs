//! The v1 wire types, shared by the WebSocket protocol and the HTTP API
//! (docs/PROTOCOL.md is the prose), and the parser that turns a client frame
//! into a request or into an error with the exact code and field at fault.

use std::collections::BTreeMap;

use morelike_core::{Card, Catalog, Explanation, Filters, Vote};
use serde::de::DeserializeOwned;
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::Value;
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody};

/// The protocol version this server speaks.
pub const VERSION: u64 = 1;

/// Products per page when a request does not say.
pub const DEFAULT_K: usize = 8;

fn default_k() -> usize {
    DEFAULT_K
}

/// What a page may show.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PageFilters {
    /// Only products in stock.
    #[serde(default)]
    pub in_stock: bool,
    /// Categorical field → accepted values (any of them), e.g. `{"gender": ["Men"]}`.
    #[serde(default)]
    pub attributes: BTreeMap<String, Vec<String>>,
    /// Lowest price (inclusive).
    #[serde(default)]
    pub price_min: Option<f64>,
    /// Highest price (inclusive).
    #[serde(default)]
    pub price_max: Option<f64>,
}

impl From<PageFilters> for Filters {
    fn from(f: PageFilters) -> Self {
        Filters {
            in_stock: f.in_stock,
            attributes: f.attributes,
            price_min: f.price_min,
            price_max: f.price_max,
        }
    }
}

/// `start`: a new session from a seed product.
#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct StartRequest {
    /// The product the shopper is looking at.
    pub seed: String,
    /// Products per page (1–100).
    #[serde(default = "default_k")]
    #[schema(default = 8, minimum = 1, maximum = 100)]
    pub k: usize,
    /// What pages may show.
    #[serde(default)]
    pub filters: PageFilters,
}

/// A shopper's reaction.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum VoteKind {
    /// More Like This.
    Up,
    /// Not My Style.
    Down,
}

impl From<VoteKind> for Vote {
    fn from(v: VoteKind) -> Self {
        match v {
            VoteKind::Up => Vote::Up,
            VoteKind::Down => Vote::Down,
        }
    }
}

/// One vote.
#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct VoteItem {
    /// The product voted on.
    pub product: String,
    /// `up` or `down`.
    pub vote: VoteKind,
}

/// `vote`: one vote (`product` + `vote`) or several (`votes`); either is
/// answered with one next page.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
pub struct VoteRequest {
    /// The product voted on (single form).
    pub product: Option<String>,
    /// `up` or `down` (single form).
    pub vote: Option<VoteKind>,
    /// Several votes at once.
    pub votes: Option<Vec<VoteItem>>,
}

impl VoteRequest {
    /// The votes, whichever form was used.
    pub fn into_votes(self) -> Result<Vec<(String, Vote)>, ApiError> {
        match (self.product, self.vote, self.votes) {
            (Some(product), Some(vote), None) => Ok(vec![(product, vote.into())]),
            (None, None, Some(votes)) if !votes.is_empty() => Ok(votes
                .into_iter()
                .map(|v| (v.product, v.vote.into()))
                .collect()),
            (None, None, Some(_)) => {
                Err(ApiError::field("votes", "is empty: send at least one vote"))
            }
            (Some(_), None, None) => {
                Err(ApiError::field("vote", "missing: send \"up\" or \"down\""))
            }
            (None, Some(_), None) => Err(ApiError::field(
                "product",
                "missing: name the product voted on",
            )),
            (None, None, None) => Err(ApiError::field(
                "votes",
                "missing: send product and vote, or votes: [{product, vote}, …]",
            )),
            _ => Err(ApiError::field(
                "votes",
                "send either product and vote, or votes, not both",
            )),
        }
    }
}

#[derive(Deserialize)]
struct ResumeRequest {
    session: String,
}

/// `undo`: without `product`, the latest round's votes; with it, every
/// vote on that product, whatever its round.
#[derive(Deserialize)]
struct UndoRequest {
    #[serde(default)]
    product: Option<String>,
}

#[derive(Deserialize)]
struct ExplainRequest {
    product: String,
}

/// `click`: the shopper opened a product the session showed.
#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct ClickRequest {
    /// The product opened (one this session showed).
    pub product: String,
}

/// The answer to a click: counted.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ClickBody {
    /// The session id.
    pub session: String,
    /// The product opened.
    pub product: String,
}

/// A client request, parsed.
#[derive(Clone, Debug)]
pub enum Request {
    /// A new session.
    Start(StartRequest),
    /// Votes, answered with the next page.
    Vote(Vec<(String, Vote)>),
    /// The next page without votes.
    More,
    /// Take back the latest round's votes, or every vote on one product.
    Undo(Option<String>),
    /// Forget every vote and everything shown.
    Reset,
    /// Continue a stored session.
    Resume(String),
    /// Why a product scores as it does.
    Explain(String),
    /// The shopper opened a shown product.
    Click(String),
    /// Are you there?
    Ping,
}

/// A frame that could not be understood: the error and the `id` to echo.
#[derive(Debug)]
pub struct Rejected {
    /// The request's `id`, when it could be read.
    pub id: Option<Value>,
    /// What is wrong.
    pub error: ApiError,
}

/// Reads a body as `T`, naming the field at fault.
pub fn fields<T: DeserializeOwned>(value: Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let reason = e.inner().to_string();
        let field = if path == "." {
            missing_field(&reason).unwrap_or_default()
        } else {
            path
        };
        ApiError::field(field, reason)
    })
}

fn missing_field(reason: &str) -> Option<String> {
    let rest = reason.strip_prefix("missing field `")?;
    Some(rest.split('`').next()?.to_owned())
}

/// Parses a client frame into its `id` and request.
pub fn parse(text: &str) -> Result<(Option<Value>, Request), Rejected> {
    let value: Value = serde_json::from_str(text).map_err(|e| Rejected {
        id: None,
        error: ApiError::BadJson(e.to_string()),
    })?;
    let Value::Object(mut object) = value else {
        return Err(Rejected {
            id: None,
            error: ApiError::BadJson("a message is a JSON object with a \"type\"".into()),
        });
    };
    let id = object.remove("id");
    let fail = |error| Rejected {
        id: id.clone(),
        error,
    };
    match object.remove("v") {
        None => {}
        Some(v) if v.as_u64() == Some(VERSION) => {}
        Some(v) => return Err(fail(ApiError::UnsupportedVersion(v.to_string()))),
    }
    let kind = match object.remove("type") {
        Some(Value::String(kind)) => kind,
        Some(other) => {
            return Err(fail(ApiError::field(
                "type",
                format!("must be a string, got {other}"),
            )))
        }
        None => return Err(fail(ApiError::field("type", "missing"))),
    };
    let body = Value::Object(object);
    let request = match kind.as_str() {
        "start" => fields(body).map(Request::Start),
        "vote" => fields::<VoteRequest>(body)
            .and_then(VoteRequest::into_votes)
            .map(Request::Vote),
        "more" => Ok(Request::More),
        "undo" => fields::<UndoRequest>(body).map(|r| Request::Undo(r.product)),
        "reset" => Ok(Request::Reset),
        "resume" => fields::<ResumeRequest>(body).map(|r| Request::Resume(r.session)),
        "explain" => fields::<ExplainRequest>(body).map(|r| Request::Explain(r.product)),
        "click" => fields::<ClickRequest>(body).map(|r| Request::Click(r.product)),
        "ping" => Ok(Request::Ping),
        _ => Err(ApiError::UnknownType(kind.clone())),
    };
    match request {
        Ok(request) => Ok((id, request)),
        Err(error) => Err(fail(error)),
    }
}

/// One product on a page.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PageItem {
    /// The merchant's product id.
    pub id: String,
    /// The display name.
    pub name: String,
    /// The price, or null.
    pub price: Option<f64>,
    /// An image URL, or null.
    pub image: Option<String>,
    /// Text and categorical attributes by field.
    pub attributes: BTreeMap<String, String>,
    /// How well it fits the session (higher is better).
    pub score: f32,
}

impl PageItem {
    /// A product's card on a page, with its score.
    pub fn new(card: &morelike_core::Card<'_>, score: f32) -> Self {
        PageItem {
            id: card.id().to_owned(),
            name: card.name().to_owned(),
            price: card.price(),
            image: card.image().map(str::to_owned),
            attributes: card.attributes(),
            score,
        }
    }
}

/// A page's products as the JSON of a list of [`PageItem`]s, written
/// straight from the catalog's cards while the page is computed (under the
/// catalog's read lock, so no later upsert shows): no name, image or
/// attribute is copied per item, and the reply takes the text as it is.
#[derive(Clone, Debug)]
pub struct PageItems(Box<RawValue>, usize);

impl PageItems {
    /// The cards of the scored products the catalog has (others are left
    /// out), in order.
    pub fn new(catalog: &Catalog, scored: &[(String, f32)]) -> Self {
        let cards: Vec<CardItem<'_>> = scored
            .iter()
            .filter_map(|(id, score)| Some(CardItem::new(catalog.get(id)?, *score)))
            .collect();
        let shown = cards.len();
        PageItems(
            serde_json::value::to_raw_value(&cards).expect("cards always serialize"),
            shown,
        )
    }

    /// How many products they are.
    pub fn len(&self) -> usize {
        self.1
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.1 == 0
    }

    /// The length of their JSON text, in bytes.
    pub fn json_len(&self) -> usize {
        self.0.get().len()
    }
}

impl Serialize for PageItems {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

/// A [`PageItem`] borrowed from a card: the same fields in the same order.
#[derive(Serialize)]
struct CardItem<'a> {
    id: &'a str,
    name: &'a str,
    price: Option<f64>,
    image: Option<&'a str>,
    attributes: Attributes<'a>,
    score: f32,
}

impl<'a> CardItem<'a> {
    fn new(card: Card<'a>, score: f32) -> Self {
        CardItem {
            id: card.id(),
            name: card.name(),
            price: card.price(),
            image: card.image(),
            attributes: Attributes(card),
            score,
        }
    }
}

/// A card's attributes as a map by field name, like `PageItem::attributes`.
struct Attributes<'a>(Card<'a>);

impl Serialize for Attributes<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for (field, value) in self.0.attributes_by_name() {
            map.serialize_entry(field, value)?;
        }
        map.end()
    }
}

/// A page of products for a session.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PageBody {
    /// The session id (keep it to resume).
    pub session: String,
    /// The page's round (1 for the first page).
    pub round: u32,
    /// The products, best first; never one shown before in this session.
    #[schema(value_type = Vec<PageItem>)]
    pub items: PageItems,
    /// Products in the request that the store does not have (skipped).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<String>,
    /// Hints about the request that did not stop it (a filter value no
    /// product has); only on the page that answers it, absent when none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Warning>,
    /// True when this is the last page shown, sent again by `resume`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub resumed: bool,
    /// Server time spent on the request, in microseconds.
    pub took_us: u64,
}

/// A hint about a request that was still answered (version 1, additive:
/// clients that do not know it ignore it).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Warning {
    /// What kind: `unmatched_filter` (a filter value no product has).
    pub code: &'static str,
    /// The request field it is about, as a path (`filters.attributes.gender`).
    pub field: String,
    /// The value at fault.
    pub value: String,
    /// A few values that would match, the most common first.
    pub known: Vec<String>,
    /// For people.
    pub message: String,
}

impl Warning {
    /// The warnings for the filter values no product of a catalog has.
    pub fn unmatched_filters(catalog: &Catalog, filters: &Filters) -> Vec<Warning> {
        catalog
            .unmatched_filter_values(filters)
            .into_iter()
            .map(|u| Warning {
                code: "unmatched_filter",
                field: format!("filters.attributes.{}", u.attribute),
                message: format!(
                    "no product has {} '{}', so it matches nothing; values it has include: {}",
                    u.attribute,
                    u.value,
                    u.known.join(", ")
                ),
                value: u.value,
                known: u.known,
            })
            .collect()
    }
}

/// Why a product scores as it does in a session.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ExplanationBody {
    /// The session id.
    pub session: String,
    /// The score split by view and by example (the seed and each vote).
    #[schema(value_type = Object)]
    pub explanation: Explanation,
}

/// What the server sends on a WebSocket.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ReplyBody {
    /// A page.
    Page(PageBody),
    /// An explanation.
    Explanation(ExplanationBody),
    /// A click, counted.
    Clicked(ClickBody),
    /// The answer to `ping`.
    Pong {},
    /// A request that failed; the connection and the session go on.
    Error(ErrorBody),
}

/// A server frame: the version, the request's `id`, and the body.
#[derive(Debug, Serialize)]
pub struct Reply {
    /// Always 1.
    pub v: u64,
    /// The request's `id`, echoed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<Value>,
    /// The body, tagged by `type`.
    #[serde(flatten)]
    pub body: ReplyBody,
}

impl Reply {
    /// A reply to the request with this `id`.
    pub fn new(id: Option<Value>, body: ReplyBody) -> Self {
        Reply {
            v: VERSION,
            id,
            body,
        }
    }

    /// The reply as a JSON text, written into one buffer of about its size.
    pub fn to_json(&self) -> String {
        let room = match &self.body {
            ReplyBody::Page(page) => page.items.json_len() + 256,
            _ => 256,
        };
        let mut text = Vec::with_capacity(room);
        serde_json::to_writer(&mut text, self).expect("replies always serialize");
        String::from_utf8(text).expect("JSON is UTF-8")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(text: &str) -> (&'static str, Option<String>) {
        let rejected = parse(text).unwrap_err();
        let field = match &rejected.error {
            ApiError::BadField { field, .. } => Some(field.clone()),
            _ => None,
        };
        (rejected.error.code(), field)
    }

    #[test]
    fn a_missing_field_is_named() {
        assert_eq!(
            code(r#"{"v":1,"type":"start","k":8}"#),
            ("bad_field", Some("seed".into()))
        );
    }

    #[test]
    fn a_mistyped_nested_field_is_named_by_its_path() {
        assert_eq!(
            code(
                r#"{"type":"vote","votes":[{"product":"1","vote":"up"},{"product":"2","vote":"sideways"}]}"#
            ),
            ("bad_field", Some("votes[1].vote".into()))
        );
    }

    #[test]
    fn an_unknown_type_and_a_wrong_version_have_their_own_codes() {
        assert_eq!(code(r#"{"v":1,"type":"dance"}"#).0, "unknown_type");
        assert_eq!(
            code(r#"{"v":1,"type":"click"}"#),
            ("bad_field", Some("product".into()))
        );
        assert_eq!(code(r#"{"v":2,"type":"ping"}"#).0, "unsupported_version");
        assert_eq!(code("not json").0, "bad_json");
    }

    #[test]
    fn the_id_is_kept_even_when_the_request_is_refused() {
        let rejected = parse(r#"{"v":1,"id":"r7","type":"vote"}"#).unwrap_err();
        assert_eq!(rejected.id, Some(Value::from("r7")));
    }

    #[test]
    fn page_items_are_written_exactly_as_a_list_of_page_items_would_be() {
        use morelike_core::{Mapping, Precision, Product};
        let mapping = Mapping::from_toml(
            "[fields]\nid = \"id\"\nname = \"name\"\ncategorical = [\"type\", \"colour\"]\n",
        )
        .unwrap();
        let mut a = Product::new("a\"1", "Blue \u{1F600} <b>shirt</b>")
            .with_attribute("type", "Shirt")
            .with_attribute("colour", "Blue\n\\");
        a.price = Some(19.99);
        a.image = Some("https://img.example/a.jpg?x=1&y=2".into());
        let catalog = Catalog::build(mapping, vec![a, Product::new("b", "Plain")], Precision::F32);
        let scored: Vec<(String, f32)> = vec![
            ("b".into(), 0.1),
            ("gone".into(), 0.4),
            ("a\"1".into(), -1.0e-7),
        ];
        let copied: Vec<PageItem> = scored
            .iter()
            .filter_map(|(id, score)| Some(PageItem::new(&catalog.get(id)?, *score)))
            .collect();
        assert_eq!(copied.len(), 2, "the unknown id is left out");
        assert_eq!(
            serde_json::to_string(&PageItems::new(&catalog, &scored)).unwrap(),
            serde_json::to_string(&copied).unwrap()
        );
        assert_eq!(
            serde_json::to_string(&PageItems::new(&catalog, &[])).unwrap(),
            "[]"
        );
    }

    #[test]
    fn a_reply_carries_version_id_and_type() {
        let reply = Reply::new(Some(Value::from(3)), ReplyBody::Pong {});
        assert_eq!(reply.to_json(), r#"{"v":1,"id":3,"type":"pong"}"#);
    }
}
