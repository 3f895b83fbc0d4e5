//! What a query may read: the registered tables and the names it defines itself, nothing else.
//!
//! polars SQL resolves a table factor with arguments — `FROM read_csv('/etc/passwd')`,
//! `read_parquet`, `read_ipc`, `read_json` — by opening the path it is given
//! (polars-sql `table_functions.rs`), whatever tables the context holds. [`check`] parses the
//! query with the parser, dialect and options polars uses, and refuses it before polars sees it
//! when any table factor anywhere in it (FROM, a join, a CTE, a subquery inside an expression)
//! is a function call or names a path. Matching the parsed tree, not the text, means no
//! spelling, comment or nesting slips past.

use std::ops::ControlFlow;

use sqlparser::ast::{ObjectName, ObjectNamePart, SetExpr, Statement, TableFactor, Visit, Visitor};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::{Parser, ParserOptions};

use crate::QueryError;

/// Characters no table name holds but a path does.
const PATH_CHARACTERS: &[char] = &['/', '\\', '.', ':', '~', '*', '?'];

/// Checks that `sql` is one SELECT that reads only tables by name.
pub(crate) fn check(sql: &str) -> Result<(), QueryError> {
    let trimmed = sql.trim_start();
    let first = trimmed.split(|c: char| c.is_whitespace() || c == '(').next().unwrap_or("").to_ascii_lowercase();
    if !trimmed.starts_with('(') && !matches!(first.as_str(), "select" | "with") {
        return Err(QueryError::NotSelect(first));
    }
    // As polars-sql `SQLContext::execute` parses: the generic dialect, trailing commas allowed.
    let statements = Parser::new(&GenericDialect)
        .with_options(ParserOptions { trailing_commas: true, ..Default::default() })
        .try_with_sql(sql)
        .and_then(|mut parser| parser.parse_statements())
        .map_err(|err| QueryError::Syntax(err.to_string()))?;
    let [statement] = statements.as_slice() else {
        return Err(QueryError::Statements(statements.len()));
    };
    let Statement::Query(query) = statement else {
        return Err(QueryError::NotSelect(first));
    };
    if let SetExpr::Insert(_) | SetExpr::Update(_) | SetExpr::Delete(_) | SetExpr::Merge(_) = query.body.as_ref() {
        return Err(QueryError::NotSelect(first));
    }
    match statement.visit(&mut TablesOnly) {
        ControlFlow::Break(found) => Err(QueryError::NotATable { found }),
        ControlFlow::Continue(()) => Ok(()),
    }
}

/// Stops at the first table factor that is not a table named by an identifier.
struct TablesOnly;

impl Visitor for TablesOnly {
    type Break = String;

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<String> {
        // Every variant by name: a new one in a later sqlparser must be judged here.
        match factor {
            TableFactor::Table { args: Some(_), .. }
            | TableFactor::TableFunction { .. }
            | TableFactor::Function { .. }
            | TableFactor::JsonTable { .. }
            | TableFactor::OpenJsonTable { .. }
            | TableFactor::XmlTable { .. }
            | TableFactor::SemanticView { .. } => ControlFlow::Break(format!("the table function `{factor}`")),
            TableFactor::Table { name, args: None, .. } if path_like(name) => {
                ControlFlow::Break(format!("the path `{name}`"))
            }
            TableFactor::Table { args: None, .. } => ControlFlow::Continue(()),
            // These read other table factors, which are visited in turn.
            TableFactor::Derived { .. }
            | TableFactor::NestedJoin { .. }
            | TableFactor::UNNEST { .. }
            | TableFactor::Pivot { .. }
            | TableFactor::Unpivot { .. }
            | TableFactor::MatchRecognize { .. } => ControlFlow::Continue(()),
        }
    }
}

/// Whether a table's name is a path (`'/etc/passwd'`, `"data/x.csv"`) or a function call
/// rather than an identifier.
fn path_like(name: &ObjectName) -> bool {
    name.0.iter().any(|part| match part {
        ObjectNamePart::Identifier(ident) => {
            ident.quote_style == Some('\'') || ident.value.contains(PATH_CHARACTERS) || ident.value.is_empty()
        }
        ObjectNamePart::Function(_) => true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(sql: &str) -> String {
        match check(sql) {
            Err(QueryError::NotATable { found }) => found,
            other => panic!("{sql}: {other:?}"),
        }
    }

    #[test]
    fn table_functions_are_refused_wherever_they_hide() {
        for sql in [
            "select * from read_csv('/etc/passwd')",
            "SELECT * FROM READ_CSV('/etc/passwd')",
            "select * from read_parquet('/tmp/x.parquet') as x",
            "select * from read_json('/tmp/x.json')",
            "select * from read_ipc('/tmp/x.arrow')",
            "select * from scan_csv('/etc/passwd')",
            "select * from samples join read_csv('/etc/passwd') p on true",
            "select * from samples s, read_csv('/etc/passwd')",
            "with p as (select * from read_csv('/etc/passwd')) select * from p",
            "select * from (select * from read_csv('/etc/passwd')) t",
            "select * from samples where sample_key in (select column_1 from read_csv('/etc/passwd'))",
            "select (select count(*) from read_csv('/etc/passwd')) as n",
            "select * from samples union all select * from read_csv('/etc/passwd')",
            "select * from /* a comment */ read_csv ( '/etc/passwd' )",
            "(select * from read_csv('/etc/passwd'))",
            "select * from samples where exists (select 1 from (select * from read_parquet('/x')) y)",
            "select * from table(read_csv('/etc/passwd'))",
        ] {
            let found = refused(sql);
            assert!(found.starts_with("the table function `"), "{sql}: {found}");
        }
        assert_eq!(refused("select * from read_csv('/etc/passwd')"), "the table function `read_csv('/etc/passwd')`");
    }

    #[test]
    fn paths_are_refused() {
        assert_eq!(refused("select * from \"/etc/passwd\""), "the path `\"/etc/passwd\"`");
        assert_eq!(refused("select * from \"out/x.parquet\""), "the path `\"out/x.parquet\"`");
        assert!(refused("select * from `~/secret.csv`").starts_with("the path "));
    }

    #[test]
    fn queries_over_the_tables_pass() {
        for sql in [
            "select * from samples",
            "select s.sample_key, r.item from results r join samples s on s.sample_key = r.sample_key",
            "with failing as (select * from samples where verdict = 'fail') select count(*) from failing",
            "select * from (select programme from samples) t",
            "select count(*) as n from rejects where rule in (select rule from rejects limit 1)",
            "select 1 as x",
            "select * from \"pass_rates\"",
            "select programme, count(*) from samples group by programme,",
            "(select 1 as x)",
        ] {
            assert!(check(sql).is_ok(), "{sql}: {:?}", check(sql));
        }
    }

    #[test]
    fn only_one_select_runs() {
        for sql in ["drop table samples", "delete from samples", "copy samples to 'x.csv'", "explain select 1"] {
            assert!(matches!(check(sql), Err(QueryError::NotSelect(_))), "{sql}");
        }
        assert!(matches!(check("select 1; select 2"), Err(QueryError::Statements(2))));
        assert!(matches!(check("select (1"), Err(QueryError::Syntax(_))), "{:?}", check("select (1"));
    }
}
