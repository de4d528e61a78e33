#[test]
fn checked_in_schema_matches_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../schema.graphql");
    let checked_in = std::fs::read_to_string(path).unwrap_or_default();
    let generated = hongfan::graphql::sdl();
    assert!(
        checked_in.trim_end() == generated.trim_end(),
        "schema.graphql is stale: regenerate it with `cargo run -- print-schema > schema.graphql`"
    );
}
