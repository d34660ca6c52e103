//! The encoded-query engine: parses `sysparm_query` strings and filters and orders rows with them.
//!
//! Semantics follow ServiceNow's documented behaviour rather than what any one client sends:
//! - `^` is AND, `^OR` joins a condition to the condition before it (so `a^b^ORc` is `a AND (b OR c)`),
//!   and `^NQ` starts a new query whose rows are added to the first's (OR at the top level);
//! - `^^` inside a value is a literal caret;
//! - a condition on a field the table does not have is dropped, as an instance does by default
//!   (`glide.invalid_query.returns_no_rows=false`), so a misspelt field widens the result;
//! - `javascript:gs.getUserID()` as a value stands for the calling user's sys_id;
//! - every value is a string: booleans compare as `"true"`/`"false"`, and comparisons are
//!   case-sensitive, as the Table API documentation says of column names, operators and values.

use std::cmp::Ordering;

/// The only server-side script a query value may hold here: the caller's own sys_id.
const CALLER_ID_SCRIPT: &str = "javascript:gs.getUserID()";

/// One comparison operator of an encoded query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    In,
    NotIn,
    StartsWith,
    EndsWith,
    Like,
    NotLike,
    IsEmpty,
    IsNotEmpty,
    Lt,
    Le,
    Gt,
    Ge,
    /// `ANYTHING`: matches every row.
    Anything,
}

/// `field OP value`, where `field` may be dot-walked through references (`user.user_name`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Condition {
    pub field: String,
    pub op: Op,
    pub value: String,
}

/// A parsed `sysparm_query`.
///
/// `queries` are OR-ed together (`^NQ`); each is a list of clauses AND-ed together; each clause is a
/// list of conditions OR-ed together (`^OR`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EncodedQuery {
    pub queries: Vec<Vec<Vec<Condition>>>,
    /// Sort keys in priority order: (field, descending).
    pub order: Vec<(String, bool)>,
}

/// How the engine sees a table: which field paths exist, and what a row holds at a path.
pub trait Resolver {
    type Row;
    /// Whether `path` (possibly dot-walked) names a field of the table.
    fn is_valid(&self, path: &str) -> bool;
    /// The raw (stored) value at `path`; `""` when empty or when a reference dangles.
    fn value(&self, row: &Self::Row, path: &str) -> String;
}

/// Splits on `^`, treating `^^` as an escaped literal caret.
fn split_segments(query: &str) -> Vec<String> {
    let mut segments = Vec::new();
    let mut current = String::new();
    let mut chars = query.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '^' {
            if chars.peek() == Some(&'^') {
                chars.next();
                current.push('^');
            } else {
                segments.push(std::mem::take(&mut current));
            }
        } else {
            current.push(c);
        }
    }
    segments.push(current);
    segments
}

/// Operators in the order they must be tried: longer spellings before their prefixes.
const OPERATORS: &[(&str, Op)] = &[
    ("!=", Op::Ne),
    ("<=", Op::Le),
    (">=", Op::Ge),
    ("=", Op::Eq),
    ("<", Op::Lt),
    (">", Op::Gt),
    ("NOT IN", Op::NotIn),
    ("NOT LIKE", Op::NotLike),
    ("ISNOTEMPTY", Op::IsNotEmpty),
    ("ISEMPTY", Op::IsEmpty),
    ("IN", Op::In),
    ("LIKE", Op::Like),
    ("STARTSWITH", Op::StartsWith),
    ("ENDSWITH", Op::EndsWith),
    ("ANYTHING", Op::Anything),
];

/// Parses one condition. Column names are lower case (`[a-z0-9_.]`), operators upper case or
/// symbols, so the field ends where the first other character starts.
pub fn parse_condition(segment: &str) -> Option<Condition> {
    let end = segment
        .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.'))
        .unwrap_or(segment.len());
    let (field, rest) = segment.split_at(end);
    if field.is_empty() || field.starts_with('.') || field.ends_with('.') {
        return None;
    }
    let (op, value) = OPERATORS
        .iter()
        .find_map(|(spelling, op)| rest.strip_prefix(spelling).map(|v| (op.clone(), v)))?;
    Some(Condition {
        field: field.to_string(),
        op,
        value: value.to_string(),
    })
}

/// Parses a `sysparm_query` value. Parts that cannot be parsed are dropped, like invalid fields.
pub fn parse(query: &str) -> EncodedQuery {
    let mut parsed = EncodedQuery::default();
    let mut current: Vec<Vec<Condition>> = Vec::new();
    for segment in split_segments(query) {
        // `^NQ` glues onto the first condition of the next query: `a=1^NQb=2`.
        let segment = match segment.strip_prefix("NQ") {
            Some(rest) => {
                parsed.queries.push(std::mem::take(&mut current));
                rest.to_string()
            }
            None => segment,
        };
        if segment.is_empty() || segment == "EQ" {
            continue;
        }
        if let Some(field) = segment.strip_prefix("ORDERBYDESC") {
            parsed.order.push((field.to_string(), true));
            continue;
        }
        if let Some(field) = segment.strip_prefix("ORDERBY") {
            parsed.order.push((field.to_string(), false));
            continue;
        }
        if let Some(rest) = segment.strip_prefix("OR") {
            if let Some(condition) = parse_condition(rest) {
                match current.last_mut() {
                    Some(clause) => clause.push(condition),
                    None => current.push(vec![condition]),
                }
            }
            continue;
        }
        if let Some(condition) = parse_condition(&segment) {
            current.push(vec![condition]);
        }
    }
    parsed.queries.push(current);
    parsed
}

impl EncodedQuery {
    /// Drops conditions and sort keys on fields the table does not have, as ServiceNow does.
    pub fn bind<R: Resolver>(&self, resolver: &R) -> EncodedQuery {
        let queries = self
            .queries
            .iter()
            .map(|clauses| {
                clauses
                    .iter()
                    .map(|clause| {
                        clause
                            .iter()
                            .filter(|c| resolver.is_valid(&c.field))
                            .cloned()
                            .collect::<Vec<_>>()
                    })
                    .filter(|clause| !clause.is_empty())
                    .collect::<Vec<_>>()
            })
            .collect();
        let order = self
            .order
            .iter()
            .filter(|(field, _)| resolver.is_valid(field))
            .cloned()
            .collect();
        EncodedQuery { queries, order }
    }

    /// Whether a row matches. Call on a query returned by [`EncodedQuery::bind`].
    pub fn matches<R: Resolver>(&self, resolver: &R, row: &R::Row, caller: Option<&str>) -> bool {
        if self.queries.iter().all(|q| q.is_empty()) {
            return true;
        }
        self.queries.iter().any(|clauses| {
            clauses.iter().all(|clause| {
                clause
                    .iter()
                    .any(|c| condition_matches(c, &resolver.value(row, &c.field), caller))
            })
        })
    }

    /// Filters and orders rows: the full matching set, before any visibility rule or paging.
    pub fn apply<'r, R: Resolver>(
        &self,
        resolver: &R,
        rows: impl IntoIterator<Item = &'r R::Row>,
        caller: Option<&str>,
    ) -> Vec<&'r R::Row>
    where
        R::Row: 'r,
    {
        let bound = self.bind(resolver);
        let mut matched: Vec<&R::Row> = rows
            .into_iter()
            .filter(|row| bound.matches(resolver, row, caller))
            .collect();
        if !bound.order.is_empty() {
            matched.sort_by(|a, b| {
                for (field, descending) in &bound.order {
                    let ordering =
                        compare_values(&resolver.value(a, field), &resolver.value(b, field));
                    let ordering = if *descending {
                        ordering.reverse()
                    } else {
                        ordering
                    };
                    if ordering != Ordering::Equal {
                        return ordering;
                    }
                }
                Ordering::Equal
            });
        }
        matched
    }
}

/// Numbers sort as numbers, everything else as text.
fn compare_values(a: &str, b: &str) -> Ordering {
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        _ => a.cmp(b),
    }
}

/// Replaces the caller script with the caller's sys_id (an anonymous caller matches nothing).
fn substitute<'a>(value: &'a str, caller: Option<&'a str>) -> &'a str {
    if value.trim() == CALLER_ID_SCRIPT {
        caller.unwrap_or("\u{0}no caller")
    } else {
        value
    }
}

fn condition_matches(condition: &Condition, actual: &str, caller: Option<&str>) -> bool {
    let expected = substitute(&condition.value, caller);
    let list = || {
        condition
            .value
            .split(',')
            .map(|v| substitute(v, caller))
            .collect::<Vec<_>>()
    };
    match condition.op {
        Op::Eq => actual == expected,
        Op::Ne => actual != expected,
        Op::In => list().contains(&actual),
        Op::NotIn => !list().contains(&actual),
        Op::StartsWith => actual.starts_with(expected),
        Op::EndsWith => actual.ends_with(expected),
        Op::Like => actual.contains(expected),
        Op::NotLike => !actual.contains(expected),
        Op::IsEmpty => actual.is_empty(),
        Op::IsNotEmpty => !actual.is_empty(),
        Op::Lt => compare_values(actual, expected) == Ordering::Less,
        Op::Le => compare_values(actual, expected) != Ordering::Greater,
        Op::Gt => compare_values(actual, expected) == Ordering::Greater,
        Op::Ge => compare_values(actual, expected) != Ordering::Less,
        Op::Anything => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// A two-table world: `people` rows reference `teams` rows through `team`.
    struct World {
        teams: Vec<BTreeMap<&'static str, &'static str>>,
    }

    type Row = BTreeMap<&'static str, &'static str>;

    const FIELDS: &[&str] = &["sys_id", "name", "active", "team", "age", "note"];
    const TEAM_FIELDS: &[&str] = &["sys_id", "name", "lead"];

    impl Resolver for World {
        type Row = Row;
        fn is_valid(&self, path: &str) -> bool {
            match path.split_once('.') {
                None => FIELDS.contains(&path),
                Some(("team", rest)) => TEAM_FIELDS.contains(&rest),
                Some(_) => false,
            }
        }
        fn value(&self, row: &Row, path: &str) -> String {
            match path.split_once('.') {
                None => row.get(path).copied().unwrap_or("").to_string(),
                Some((_, rest)) => {
                    let id = row.get("team").copied().unwrap_or("");
                    self.teams
                        .iter()
                        .find(|t| t.get("sys_id") == Some(&id))
                        .and_then(|t| t.get(rest).copied())
                        .unwrap_or("")
                        .to_string()
                }
            }
        }
    }

    fn row(pairs: &[(&'static str, &'static str)]) -> Row {
        pairs.iter().copied().collect()
    }

    fn world() -> (World, Vec<Row>) {
        let teams = vec![
            row(&[("sys_id", "t1"), ("name", "ops"), ("lead", "ann")]),
            row(&[("sys_id", "t2"), ("name", "dev^core"), ("lead", "bob")]),
        ];
        let people = vec![
            row(&[
                ("sys_id", "p1"),
                ("name", "ann"),
                ("active", "true"),
                ("team", "t1"),
                ("age", "9"),
                ("note", ""),
            ]),
            row(&[
                ("sys_id", "p2"),
                ("name", "bob"),
                ("active", "false"),
                ("team", "t2"),
                ("age", "10"),
                ("note", "a^b"),
            ]),
            row(&[
                ("sys_id", "p3"),
                ("name", "carol"),
                ("active", "true"),
                ("team", ""),
                ("age", "30"),
                ("note", "Hello World"),
            ]),
        ];
        (World { teams }, people)
    }

    /// The sys_ids of the rows the query selects, in result order.
    fn run(query: &str) -> Vec<&'static str> {
        run_as(query, None)
    }

    fn run_as(query: &str, caller: Option<&str>) -> Vec<&'static str> {
        let (world, people) = world();
        parse(query)
            .apply(&world, people.iter(), caller)
            .into_iter()
            .map(|r| r["sys_id"])
            .collect()
    }

    #[test]
    fn empty_query_matches_every_row_in_stored_order() {
        assert_eq!(run(""), ["p1", "p2", "p3"]);
    }

    #[test]
    fn equals_and_not_equals_compare_strings_exactly() {
        assert_eq!(run("name=bob"), ["p2"]);
        assert_eq!(run("name=Bob"), Vec::<&str>::new());
        assert_eq!(run("name!=bob"), ["p1", "p3"]);
        assert_eq!(run("active=true"), ["p1", "p3"]);
        assert_eq!(run("active=false"), ["p2"]);
    }

    #[test]
    fn in_and_not_in_take_comma_separated_lists() {
        assert_eq!(run("nameINann,carol,zed"), ["p1", "p3"]);
        assert_eq!(run("nameNOT INann,carol"), ["p2"]);
        assert_eq!(run("sys_idINp2"), ["p2"]);
    }

    #[test]
    fn text_operators() {
        assert_eq!(run("nameSTARTSWITHca"), ["p3"]);
        assert_eq!(run("nameENDSWITHb"), ["p2"]);
        assert_eq!(run("noteLIKEWorld"), ["p3"]);
        assert_eq!(run("noteLIKEworld"), Vec::<&str>::new());
        assert_eq!(run("nameNOT LIKEo"), ["p1"]);
    }

    #[test]
    fn emptiness_operators() {
        assert_eq!(run("noteISEMPTY"), ["p1"]);
        assert_eq!(run("noteISNOTEMPTY"), ["p2", "p3"]);
        assert_eq!(run("teamISEMPTY"), ["p3"]);
    }

    #[test]
    fn numeric_comparisons_use_numbers_when_both_sides_are_numbers() {
        assert_eq!(run("age<10"), ["p1"]);
        assert_eq!(run("age<=10"), ["p1", "p2"]);
        assert_eq!(run("age>9"), ["p2", "p3"]);
        assert_eq!(run("age>=30"), ["p3"]);
    }

    #[test]
    fn caret_is_and() {
        assert_eq!(run("active=true^nameSTARTSWITHc"), ["p3"]);
        assert_eq!(run("active=true^name=bob"), Vec::<&str>::new());
    }

    #[test]
    fn or_binds_tighter_than_and() {
        // active AND (ann OR bob): bob is inactive, so only ann.
        assert_eq!(run("active=true^name=ann^ORname=bob"), ["p1"]);
        // (ann OR bob) AND active.
        assert_eq!(run("name=ann^ORname=bob^active=true"), ["p1"]);
        assert_eq!(run("name=ann^ORname=bob"), ["p1", "p2"]);
    }

    #[test]
    fn new_query_adds_the_rows_of_a_second_query() {
        assert_eq!(run("name=bob^NQactive=true^age>10"), ["p2", "p3"]);
        assert_eq!(run("name=zed^NQname=ann"), ["p1"]);
        // Within each query, ^OR still binds tighter than ^.
        assert_eq!(run("name=zed^NQactive=false^ORname=carol^age>20"), ["p3"]);
    }

    #[test]
    fn double_caret_is_a_literal_caret_in_a_value() {
        assert_eq!(run("note=a^^b"), ["p2"]);
        assert_eq!(run("team.name=dev^^core"), ["p2"]);
        assert_eq!(run("note=a^^b^active=true"), Vec::<&str>::new());
    }

    #[test]
    fn dot_walks_through_references() {
        assert_eq!(run("team.name=ops"), ["p1"]);
        assert_eq!(run("team.leadINbob,zed"), ["p2"]);
        // A row whose reference is empty has an empty dot-walked value.
        assert_eq!(run("team.nameISEMPTY"), ["p3"]);
    }

    #[test]
    fn unknown_fields_are_dropped_not_matched_against() {
        assert_eq!(run("nmae=bob"), ["p1", "p2", "p3"]);
        assert_eq!(run("nmae=bob^active=false"), ["p2"]);
        assert_eq!(run("team.bogus=x^name=ann"), ["p1"]);
        assert_eq!(run("bogus.name=x"), ["p1", "p2", "p3"]);
        // An OR alternative on an unknown field does not widen its clause.
        assert_eq!(run("name=ann^ORnmae=bob"), ["p1"]);
    }

    #[test]
    fn unparseable_parts_are_dropped() {
        assert_eq!(run("name~bob^active=false"), ["p2"]);
        assert_eq!(run("^^"), ["p1", "p2", "p3"]);
        assert_eq!(run("=x"), ["p1", "p2", "p3"]);
    }

    #[test]
    fn caller_script_resolves_to_the_caller() {
        assert_eq!(
            run_as("sys_id=javascript:gs.getUserID()", Some("p3")),
            ["p3"]
        );
        assert_eq!(
            run_as("sys_idINp1,javascript:gs.getUserID()", Some("p2")),
            ["p1", "p2"]
        );
        assert_eq!(
            run_as("sys_id=javascript:gs.getUserID()", None),
            Vec::<&str>::new()
        );
    }

    #[test]
    fn order_by_sorts_numbers_numerically_and_text_lexically() {
        assert_eq!(run("ORDERBYDESCage"), ["p3", "p2", "p1"]);
        assert_eq!(run("ORDERBYage"), ["p1", "p2", "p3"]);
        assert_eq!(run("active=true^ORDERBYDESCname"), ["p3", "p1"]);
        assert_eq!(run("ORDERBYactive^ORDERBYDESCname"), ["p2", "p3", "p1"]);
        assert_eq!(run("ORDERBYteam.name"), ["p3", "p2", "p1"]);
        // Unknown sort keys are ignored.
        assert_eq!(run("ORDERBYnope"), ["p1", "p2", "p3"]);
    }

    #[test]
    fn or_order_prefix_is_not_mistaken_for_an_or_condition() {
        let parsed = parse("name=ann^ORDERBYname");
        assert_eq!(parsed.order, vec![("name".to_string(), false)]);
        assert_eq!(parsed.queries[0].len(), 1);
    }

    #[test]
    fn parse_condition_splits_field_operator_and_value() {
        let c = parse_condition("role.nameINa,b").unwrap();
        assert_eq!(c.field, "role.name");
        assert_eq!(c.op, Op::In);
        assert_eq!(c.value, "a,b");
        let c = parse_condition("nameNOT INx").unwrap();
        assert_eq!(c.op, Op::NotIn);
        let c = parse_condition("value=a=b").unwrap();
        assert_eq!((c.op, c.value.as_str()), (Op::Eq, "a=b"));
        assert!(parse_condition("name").is_none());
        assert!(parse_condition(".name=x").is_none());
    }
}
