//! Bounds on a request's document, checked before async-graphql parses or validates it.
//!
//! Validation is CPU work that no timeout interrupts, and some of it grows with the document
//! once fragments are expanded (a fragment that spreads the previous one twice doubles it at
//! every level). So a document is measured first, in passes linear in its size: its bytes,
//! its tokens and bracket nesting (before parsing), then, parsed, its fragments and the
//! fields and aliases it expands to, each fragment measured once and cycles refused. What
//! passes is small enough for validation, whose complexity limit then weighs list fields by
//! their page size (`pagination::list_cost`).
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use async_graphql::{
    Name, Positioned, Request, ServerError, Value as ConstValue, Variables,
    parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet},
};

/// The bounds; docs/security.md lists them.
#[derive(Debug, Clone, Copy)]
pub struct DocumentLimits {
    pub max_bytes: usize,
    pub max_tokens: usize,
    pub max_nesting: usize,
    pub max_fragments: usize,
    /// Fields of the operations once every fragment is expanded.
    pub max_fields: u64,
    pub max_aliases: u64,
    /// Items of any one list among the variables: the longest list an input takes is 100
    /// (`markInboxRead`), and each input declares its own bound (`max_items`) below this.
    pub max_list_items: usize,
    /// Values among the variables, counted through lists and objects.
    pub max_variable_values: usize,
}

pub const LIMITS: DocumentLimits = DocumentLimits {
    max_bytes: 16 * 1024,
    max_tokens: 2_000,
    max_nesting: 40,
    max_fragments: 50,
    max_fields: 1_500,
    max_aliases: 30,
    max_list_items: 100,
    max_variable_values: 1_000,
};

/// The stable `extensions.code` of every refusal for size or cost.
pub const CODE: &str = "QUERY_TOO_COMPLEX";

/// Which bound a document exceeded; the message says by how much.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exceeded {
    pub limit: &'static str,
    pub message: String,
}

impl Exceeded {
    fn new(limit: &'static str, message: String) -> Self {
        Self { limit, message }
    }

    pub fn into_server_error(self) -> ServerError {
        let mut error = ServerError::new(self.message, None);
        let extensions = error.extensions.get_or_insert_with(Default::default);
        extensions.set("code", CODE);
        extensions.set("limit", self.limit);
        error
    }
}

impl DocumentLimits {
    /// Measures the request's document and leaves it parsed in the request. A document that
    /// does not parse passes: execution reports the syntax error in the usual shape.
    pub fn check(&self, request: &mut Request) -> Result<(), Exceeded> {
        let bytes = request.query.len();
        if bytes > self.max_bytes {
            return Err(Exceeded::new(
                "bytes",
                format!(
                    "the query has {bytes} bytes, more than the limit of {}",
                    self.max_bytes
                ),
            ));
        }
        self.check_tokens(&request.query)?;
        match request.parsed_query() {
            Ok(document) => self.check_document(document),
            Err(_) => Ok(()),
        }
    }

    /// Bounds the variables by count before any resolver or parser walks their items, so no
    /// input, however a field treats it, costs more than a short linear pass.
    pub fn check_variables(&self, variables: &Variables) -> Result<(), Exceeded> {
        let mut pending: Vec<&ConstValue> = variables.values().collect();
        let mut seen = 0usize;
        while let Some(value) = pending.pop() {
            seen += 1;
            if seen > self.max_variable_values {
                return Err(Exceeded::new(
                    "variables",
                    format!(
                        "the variables hold more than {} values",
                        self.max_variable_values
                    ),
                ));
            }
            match value {
                ConstValue::List(items) => {
                    if items.len() > self.max_list_items {
                        return Err(Exceeded::new(
                            "list items",
                            format!(
                                "a list in the variables has {} items, more than the limit of {}",
                                items.len(),
                                self.max_list_items
                            ),
                        ));
                    }
                    pending.extend(items);
                }
                ConstValue::Object(fields) => pending.extend(fields.values()),
                _ => {}
            }
        }
        Ok(())
    }

    fn check_tokens(&self, query: &str) -> Result<(), Exceeded> {
        let Lexed { tokens, nesting } = lex(query, self.max_tokens);
        if tokens > self.max_tokens {
            return Err(Exceeded::new(
                "tokens",
                format!("the query has more than {} tokens", self.max_tokens),
            ));
        }
        if nesting > self.max_nesting {
            return Err(Exceeded::new(
                "nesting",
                format!(
                    "the query nests brackets {nesting} deep, more than the limit of {}",
                    self.max_nesting
                ),
            ));
        }
        Ok(())
    }

    fn check_document(&self, document: &ExecutableDocument) -> Result<(), Exceeded> {
        let fragments = document.fragments.len();
        if fragments > self.max_fragments {
            return Err(Exceeded::new(
                "fragments",
                format!(
                    "the query defines {fragments} fragments, more than the limit of {}",
                    self.max_fragments
                ),
            ));
        }
        let mut measure = Measure {
            document,
            sizes: HashMap::new(),
            expanding: HashSet::new(),
        };
        let mut total = Size::default();
        for (_, operation) in document.operations.iter() {
            total = total.plus(measure.selection_set(&operation.node.selection_set)?);
        }
        if total.fields > self.max_fields {
            return Err(Exceeded::new(
                "fields",
                format!(
                    "the query expands to {} fields, more than the limit of {}",
                    total.fields, self.max_fields
                ),
            ));
        }
        if total.aliases > self.max_aliases {
            return Err(Exceeded::new(
                "aliases",
                format!(
                    "the query uses {} aliases, more than the limit of {}",
                    total.aliases, self.max_aliases
                ),
            ));
        }
        Ok(())
    }
}

/// Documents that passed the limits, parsed, by their text. The mini-program sends the same
/// few dozen queries over and over: parsing and measuring each of them once per process
/// saves a sixth of a page request's CPU (bench/RESULTS.md). Bounded: when full it starts
/// afresh, so a stranger sending endless distinct queries only costs the parsing it would
/// have cost anyway.
///
/// Each also remembers the operations that passed validation when sent without variables:
/// with nothing but the text and the operation name as input, validating them again would
/// give the same answer (see `Api::execute`).
#[derive(Default)]
pub struct ParsedDocuments {
    documents: Mutex<HashMap<String, Known>>,
}

struct Known {
    document: ExecutableDocument,
    validated: Vec<Option<String>>,
}

/// Distinct documents kept per process (each at most `LIMITS.max_bytes` of text).
const PARSED_DOCUMENTS_KEPT: usize = 512;

impl ParsedDocuments {
    /// `LIMITS.check`, from the parsed document when this text was seen before. True when
    /// this very request (text, operation, no variables) passed validation before.
    pub fn admit(&self, request: &mut Request) -> Result<bool, Exceeded> {
        LIMITS.check_variables(&request.variables)?;
        let known = self.lock().get(&request.query).map(|known| {
            let validated =
                request.variables.is_empty() && known.validated.contains(&request.operation_name);
            (known.document.clone(), validated)
        });
        if let Some((document, validated)) = known {
            request.set_parsed_query(document);
            return Ok(validated);
        }
        LIMITS.check(request)?;
        if let Ok(document) = request.parsed_query() {
            let document = document.clone();
            let mut documents = self.lock();
            if documents.len() >= PARSED_DOCUMENTS_KEPT {
                documents.clear();
            }
            documents.insert(
                request.query.clone(),
                Known {
                    document,
                    validated: Vec::new(),
                },
            );
        }
        Ok(false)
    }

    /// Records that `operation` of `query`, sent without variables, passed validation.
    pub fn validated(&self, query: &str, operation: Option<String>) {
        if let Some(known) = self.lock().get_mut(query)
            && !known.validated.contains(&operation)
        {
            known.validated.push(operation);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Known>> {
        // The map holds no invariant a panicking holder could break.
        self.documents
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Whether every operation of the document selects only introspection fields (`__schema`,
/// `__type`, `__typename`) at its root, through fragments too (each looked at once).
pub fn only_introspects(document: &ExecutableDocument) -> bool {
    fn root<'d>(
        document: &'d ExecutableDocument,
        set: &'d SelectionSet,
        seen: &mut HashSet<&'d Name>,
    ) -> bool {
        set.items.iter().all(|item| match &item.node {
            Selection::Field(field) => field.node.name.node.starts_with("__"),
            Selection::InlineFragment(fragment) => {
                root(document, &fragment.node.selection_set.node, seen)
            }
            Selection::FragmentSpread(spread) => {
                let name = &spread.node.fragment_name.node;
                seen.insert(name)
                    && document
                        .fragments
                        .get(name)
                        .is_some_and(|f| root(document, &f.node.selection_set.node, seen))
            }
        })
    }
    let mut seen = HashSet::new();
    let mut operations = document.operations.iter().peekable();
    operations.peek().is_some()
        && operations.all(|(_, operation)| {
            operation.node.ty == OperationType::Query
                && root(document, &operation.node.selection_set.node, &mut seen)
        })
}

/// Fields and aliases a selection expands to; saturating, so a fragment bomb stays a number.
#[derive(Debug, Clone, Copy, Default)]
struct Size {
    fields: u64,
    aliases: u64,
}

impl Size {
    fn plus(self, other: Size) -> Size {
        Size {
            fields: self.fields.saturating_add(other.fields),
            aliases: self.aliases.saturating_add(other.aliases),
        }
    }
}

struct Measure<'d> {
    document: &'d ExecutableDocument,
    /// Each fragment's expanded size, measured once.
    sizes: HashMap<&'d Name, Size>,
    /// Fragments being measured: meeting one again is a cycle.
    expanding: HashSet<&'d Name>,
}

impl<'d> Measure<'d> {
    fn selection_set(&mut self, set: &'d Positioned<SelectionSet>) -> Result<Size, Exceeded> {
        let mut size = Size::default();
        for item in &set.node.items {
            let inner = match &item.node {
                Selection::Field(field) => Size {
                    fields: 1,
                    aliases: u64::from(field.node.alias.is_some()),
                }
                .plus(self.selection_set(&field.node.selection_set)?),
                Selection::InlineFragment(fragment) => {
                    self.selection_set(&fragment.node.selection_set)?
                }
                Selection::FragmentSpread(spread) => {
                    self.fragment(&spread.node.fragment_name.node)?
                }
            };
            size = size.plus(inner);
        }
        Ok(size)
    }

    fn fragment(&mut self, name: &'d Name) -> Result<Size, Exceeded> {
        if let Some(size) = self.sizes.get(name) {
            return Ok(*size);
        }
        // Unknown fragments are validation's to report.
        let Some(fragment) = self.document.fragments.get(name) else {
            return Ok(Size::default());
        };
        if !self.expanding.insert(name) {
            return Err(Exceeded::new(
                "fragment cycle",
                format!("fragment {name} spreads itself (directly or through others)"),
            ));
        }
        let size = self.selection_set(&fragment.node.selection_set)?;
        self.expanding.remove(name);
        self.sizes.insert(name, size);
        Ok(size)
    }
}

struct Lexed {
    tokens: usize,
    nesting: usize,
}

/// Counts GraphQL tokens and the deepest bracket nesting, stopping once past `max_tokens`.
/// Not a parser: it only has to count as many tokens as a parser would see, give or take.
fn lex(query: &str, max_tokens: usize) -> Lexed {
    let bytes = query.as_bytes();
    let (mut i, mut tokens, mut depth, mut nesting) = (0, 0, 0usize, 0);
    while i < bytes.len() && tokens <= max_tokens {
        match bytes[i] {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => {
                i += 1;
                continue;
            }
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    i += if bytes[i..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                i += 3;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'.' if bytes[i..].starts_with(b"...") => i += 3,
            b'{' | b'[' | b'(' => {
                depth += 1;
                nesting = nesting.max(depth);
                i += 1;
            }
            b'}' | b']' | b')' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            c if c.is_ascii_alphanumeric() || c == b'_' || c == b'-' => {
                i += 1;
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric() || matches!(bytes[i], b'_' | b'.' | b'+'))
                {
                    i += 1;
                }
            }
            _ => i += 1,
        }
        tokens += 1;
    }
    Lexed { tokens, nesting }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(query: &str) -> Result<(), Exceeded> {
        LIMITS.check(&mut Request::new(query))
    }

    fn bomb(levels: usize) -> String {
        let mut query = String::from("query { ...F0 } fragment F0 on QueryRoot { __typename }");
        for level in 1..=levels {
            let previous = level - 1;
            query.push_str(&format!(
                " fragment F{level} on QueryRoot {{ ...F{previous} ...F{previous} }}"
            ));
        }
        query.replace("{ ...F0 }", &format!("{{ ...F{levels} }}"))
    }

    #[test]
    fn tokens_are_counted_as_a_parser_sees_them() {
        let lexed = lex(
            r#"query Q($a: Int = -1.5e3) { f(s: "a \" b", t: """x""") { ...G } } # c"#,
            100,
        );
        // query Q ( $ a : Int = -1.5e3 ) { f ( s : "…" t : """…""" ) { ... G } }
        assert_eq!(lexed.tokens, 25);
        assert_eq!(lexed.nesting, 2);
    }

    #[test]
    fn fragment_cycles_are_refused() {
        let refused = check(
            "query { ...A } fragment A on QueryRoot { ...B } fragment B on QueryRoot { ...A }",
        )
        .expect_err("cycle");
        assert_eq!(refused.limit, "fragment cycle");
    }

    #[test]
    fn fragment_bombs_are_measured_without_expanding_them() {
        assert!(check(&bomb(8)).is_ok(), "256 fields pass");
        let refused = check(&bomb(30)).expect_err("bomb");
        assert_eq!(refused.limit, "fields");
    }

    #[test]
    fn aliases_count_once_expanded() {
        let fields: String = (0..16).map(|i| format!("a{i}: __typename ")).collect();
        let query = format!(
            "query {{ ...F ...G }} fragment F on QueryRoot {{ {fields} }} fragment G on QueryRoot {{ ...F }}"
        );
        assert_eq!(check(&query).expect_err("aliases").limit, "aliases");
    }

    #[test]
    fn variables_are_bounded_by_count_before_anything_reads_them() {
        let variables = |value: serde_json::Value| Variables::from_json(value);
        let labels =
            |n: usize| serde_json::json!((0..n).map(|i| i.to_string()).collect::<Vec<_>>());
        let ok = variables(serde_json::json!({ "input": { "skills": labels(100) } }));
        assert!(LIMITS.check_variables(&ok).is_ok());
        let long = variables(serde_json::json!({ "input": { "skills": labels(101) } }));
        assert_eq!(
            LIMITS.check_variables(&long).expect_err("long").limit,
            "list items"
        );
        let nested: Vec<_> = (0..20).map(|_| labels(60)).collect();
        let many = variables(serde_json::json!({ "a": nested }));
        assert_eq!(
            LIMITS.check_variables(&many).expect_err("many").limit,
            "variables"
        );
    }

    #[test]
    fn deep_brackets_are_refused_before_parsing() {
        let query = format!("{}{}", "{ a ".repeat(200), "}".repeat(200));
        assert_eq!(check(&query).expect_err("nesting").limit, "nesting");
    }

    #[test]
    fn a_document_seen_before_is_not_parsed_again_and_refusals_are_not_kept() {
        let documents = ParsedDocuments::default();
        let first = documents.admit(&mut Request::new("{ a b }"));
        assert!(!first.expect("admitted"), "not validated yet");
        assert_eq!(documents.lock().len(), 1);
        // Plant another document under the same text: a second request must be handed it.
        let planted = async_graphql::parser::parse_query("{ planted }").expect("parses");
        documents.lock().insert(
            "{ a b }".into(),
            Known {
                document: planted,
                validated: Vec::new(),
            },
        );
        let mut again = Request::new("{ a b }");
        documents.admit(&mut again).expect("admitted");
        let document = again.parsed_query().expect("parsed");
        let fields = format!("{:?}", document.operations);
        assert!(fields.contains("planted"), "{fields}");
        let bomb = bomb(30);
        for _ in 0..2 {
            let refused = documents.admit(&mut Request::new(bomb.as_str()));
            assert_eq!(refused.expect_err("bomb").limit, "fields");
        }
        assert_eq!(documents.lock().len(), 1);
    }

    #[test]
    fn validation_is_remembered_per_operation_and_only_without_variables() {
        let documents = ParsedDocuments::default();
        let query = "query A { a } query B { b }";
        let named = |name: &str| Request::new(query).operation_name(name);
        assert!(!documents.admit(&mut named("A")).expect("admitted"));
        documents.validated(query, Some("A".into()));
        assert!(documents.admit(&mut named("A")).expect("admitted"));
        assert!(!documents.admit(&mut named("B")).expect("admitted"));
        let variables = async_graphql::Variables::from_json(serde_json::json!({ "x": 1 }));
        let mut with_variables = named("A").variables(variables);
        assert!(!documents.admit(&mut with_variables).expect("admitted"));
    }

    #[test]
    fn documents_that_do_not_parse_are_left_to_execution() {
        assert!(check("query { ").is_ok());
    }
}
