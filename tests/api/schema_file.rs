//! schema.graphql is what the mini-programs code against: it must match the code, and it must
//! accept every document that the last released schema (schema.released.graphql) accepted,
//! since old versions of the app stay in the field for weeks.
use std::collections::HashMap;

use async_graphql::parser::{
    parse_schema,
    types::{BaseType, InputValueDefinition, Type, TypeKind, TypeSystemDefinition},
};

#[test]
fn checked_in_schema_matches_the_code() {
    let checked_in = read("schema.graphql");
    let generated = hongfan::graphql::sdl();
    assert!(
        checked_in.trim_end() == generated.trim_end(),
        "schema.graphql is stale: regenerate it with `cargo run -- print-schema > schema.graphql`"
    );
}

#[test]
fn the_schema_breaks_no_document_that_the_released_one_accepted() {
    let breaks = breaking_changes(&read("schema.released.graphql"), &hongfan::graphql::sdl());
    assert!(
        breaks.is_empty(),
        "these changes break mini-programs already in the field; deprecate instead \
         (docs/api-changes.md):\n{}",
        breaks.join("\n")
    );
}

fn read(file: &str) -> String {
    let path = format!("{}/../{file}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

/// One type of a schema, as far as compatibility cares.
enum Shape {
    Scalar,
    /// Output fields (objects and interfaces) with their arguments, and what they implement.
    Fields(
        HashMap<String, (Type, Vec<InputValueDefinition>)>,
        Vec<String>,
    ),
    Union(Vec<String>),
    Enum(Vec<String>),
    Input(Vec<InputValueDefinition>),
}

fn shapes(sdl: &str) -> HashMap<String, Shape> {
    let document = parse_schema(sdl).expect("a schema parses");
    let names = |list: &[async_graphql::Positioned<async_graphql::Name>]| {
        list.iter().map(|name| name.node.to_string()).collect()
    };
    let mut types = HashMap::new();
    for definition in document.definitions {
        let TypeSystemDefinition::Type(definition) = definition else {
            continue;
        };
        let definition = definition.node;
        let fields = |fields: Vec<async_graphql::Positioned<_>>| {
            fields
                .into_iter()
                .map(
                    |field: async_graphql::Positioned<
                        async_graphql::parser::types::FieldDefinition,
                    >| {
                        let field = field.node;
                        let arguments = field.arguments.into_iter().map(|a| a.node).collect();
                        (field.name.node.to_string(), (field.ty.node, arguments))
                    },
                )
                .collect()
        };
        let shape = match definition.kind {
            TypeKind::Scalar => Shape::Scalar,
            TypeKind::Object(object) => {
                Shape::Fields(fields(object.fields), names(&object.implements))
            }
            TypeKind::Interface(interface) => {
                Shape::Fields(fields(interface.fields), names(&interface.implements))
            }
            TypeKind::Union(union) => Shape::Union(names(&union.members)),
            TypeKind::Enum(values) => Shape::Enum(
                values
                    .values
                    .iter()
                    .map(|value| value.node.value.node.to_string())
                    .collect(),
            ),
            TypeKind::InputObject(input) => {
                Shape::Input(input.fields.into_iter().map(|field| field.node).collect())
            }
        };
        types.insert(definition.name.node.to_string(), shape);
    }
    types
}

/// Whether a value that was valid for `old` is valid for `new`, where the client writes the
/// value (input): `new` may be looser, never stricter.
fn accepts_input(old: &Type, new: &Type) -> bool {
    (new.nullable || !old.nullable)
        && match (&old.base, &new.base) {
            (BaseType::Named(old), BaseType::Named(new)) => old == new,
            (BaseType::List(old), BaseType::List(new)) => accepts_input(old, new),
            _ => false,
        }
}

/// Whether what a client read as `old` it can read as `new` (output): `new` may be stricter,
/// never looser.
fn reads_as(old: &Type, new: &Type) -> bool {
    (old.nullable || !new.nullable)
        && match (&old.base, &new.base) {
            (BaseType::Named(old), BaseType::Named(new)) => old == new,
            (BaseType::List(old), BaseType::List(new)) => reads_as(old, new),
            _ => false,
        }
}

/// Input values (arguments, input fields) of `new` that break documents valid for `old`.
fn input_breaks(
    place: &str,
    old: &[InputValueDefinition],
    new: &[InputValueDefinition],
) -> Vec<String> {
    let mut breaks = Vec::new();
    for value in old {
        let name = &value.name.node;
        match new.iter().find(|new| new.name.node == *name) {
            None => breaks.push(format!("{place}: {name} removed")),
            Some(new) if !accepts_input(&value.ty.node, &new.ty.node) => breaks.push(format!(
                "{place}: {name} changed from {} to {}",
                value.ty.node, new.ty.node
            )),
            Some(_) => {}
        }
    }
    for value in new {
        let added = !old.iter().any(|old| old.name.node == value.name.node);
        if added && !value.ty.node.nullable && value.default_value.is_none() {
            breaks.push(format!("{place}: {} added as required", value.name.node));
        }
    }
    breaks
}

/// What `new` breaks of `old`: removed types, fields, arguments, input fields and enum values
/// or union members, new required arguments and input fields, input types tightened and output
/// types loosened.
fn breaking_changes(old: &str, new: &str) -> Vec<String> {
    let (old, new) = (shapes(old), shapes(new));
    let mut breaks = Vec::new();
    let removed = |list: &[String], from: &[String]| -> Vec<String> {
        list.iter()
            .filter(|item| !from.contains(item))
            .cloned()
            .collect()
    };
    for (name, old_shape) in &old {
        let Some(new_shape) = new.get(name) else {
            breaks.push(format!("type {name} removed"));
            continue;
        };
        match (old_shape, new_shape) {
            (Shape::Scalar, Shape::Scalar) => {}
            (
                Shape::Fields(old_fields, old_implements),
                Shape::Fields(new_fields, new_implements),
            ) => {
                for gone in removed(old_implements, new_implements) {
                    breaks.push(format!("{name} no longer implements {gone}"));
                }
                for (field, (old_type, old_arguments)) in old_fields {
                    let Some((new_type, new_arguments)) = new_fields.get(field) else {
                        breaks.push(format!("{name}.{field} removed"));
                        continue;
                    };
                    if !reads_as(old_type, new_type) {
                        breaks.push(format!(
                            "{name}.{field} changed from {old_type} to {new_type}"
                        ));
                    }
                    breaks.extend(input_breaks(
                        &format!("{name}.{field}"),
                        old_arguments,
                        new_arguments,
                    ));
                }
            }
            (Shape::Union(old_members), Shape::Union(new_members)) => {
                for gone in removed(old_members, new_members) {
                    breaks.push(format!("union {name}: {gone} removed"));
                }
            }
            (Shape::Enum(old_values), Shape::Enum(new_values)) => {
                for gone in removed(old_values, new_values) {
                    breaks.push(format!("enum {name}: {gone} removed"));
                }
            }
            (Shape::Input(old_fields), Shape::Input(new_fields)) => {
                breaks.extend(input_breaks(name, old_fields, new_fields));
            }
            _ => breaks.push(format!("type {name} changed its kind")),
        }
    }
    breaks.sort();
    breaks
}

#[test]
fn each_kind_of_break_is_caught_and_additions_are_not() {
    let old = r#"
        type Query { order(id: ID!, full: Boolean): Order, orders: [Order!]! }
        type Order implements Node { id: ID!, note: String, status: Status! }
        interface Node { id: ID! }
        union Found = Order
        enum Status { OPEN DONE }
        input Place { title: String!, note: String }
    "#;
    assert!(breaking_changes(old, old).is_empty());
    let additions = r#"
        type Query { order(id: ID!, full: Boolean, page: Int = 1, after: ID): Order!, orders: [Order!]!, more: Int }
        type Order implements Node { id: ID!, note: String!, status: Status!, extra: Int }
        interface Node { id: ID! }
        type Wish { id: ID! }
        union Found = Order | Wish
        enum Status { OPEN DONE LATE }
        input Place { title: String, note: String, photos: [String!]! = [], urgent: Boolean }
    "#;
    assert_eq!(breaking_changes(old, additions), Vec::<String>::new());
    let breaking = r#"
        type Query { order(id: ID!, full: Boolean!, reason: String!): Order, orders: [Order] }
        type Order { id: ID!, status: Status! }
        interface Node { id: ID! }
        scalar Found
        enum Status { OPEN }
        input Place { title: [String!]!, photos: [String!]! }
    "#;
    assert_eq!(
        breaking_changes(old, breaking),
        [
            "Order no longer implements Node",
            "Order.note removed",
            "Place: note removed",
            "Place: photos added as required",
            "Place: title changed from String! to [String!]!",
            "Query.order: full changed from Boolean to Boolean!",
            "Query.order: reason added as required",
            "Query.orders changed from [Order!]! to [Order]",
            "enum Status: DONE removed",
            "type Found changed its kind",
        ]
    );
}
