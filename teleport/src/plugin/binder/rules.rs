//! The rule builder: fields, their checks and their statuses.

use std::fmt::Display;
use std::str::FromStr;
use std::sync::Arc;

use super::value::{Length, Number, Text, Zero};
use crate::message::Meta;
use crate::status::{self, Code, Status};

/// The code of a failed rule when its field sets none.
pub const CODE_INVALID_PARAMETER: Code = status::CODE_BAD_MESSAGE;
/// The message of a failed rule when its field sets none.
pub const MSG_INVALID_PARAMETER: &str = "Invalid Parameter";

type Getter<T, V> = Arc<dyn for<'a> Fn(&'a mut T) -> &'a V + Send + Sync>;
type Check<T> = Box<dyn Fn(&mut T, &Meta) -> Result<(), String> + Send + Sync>;

/// The rules of a type, in the order declared; see [`Bindable`](super::Bindable).
pub struct Rules<T> {
    fields: Vec<FieldRules<T>>,
    /// A mistake in the rules themselves (a bad regex): every value is refused with 500.
    broken: Option<String>,
}

struct FieldRules<T> {
    name: &'static str,
    status: Option<(Code, String)>,
    /// Sets the field from the meta, before any field is checked.
    bind: Option<Check<T>>,
    checks: Vec<Check<T>>,
}

impl<T: 'static> Rules<T> {
    pub(super) fn new() -> Self {
        Rules { fields: Vec::new(), broken: None }
    }

    /// Rules on the field `name`, read by `get`.
    pub fn field<V, F>(&mut self, name: &'static str, get: F) -> Field<'_, T, V>
    where
        V: 'static,
        F: Fn(&T) -> &V + Send + Sync + 'static,
    {
        self.add(name, Arc::new(move |value: &mut T| get(value)))
    }

    /// Rules on the field `name`, first set from meta `key` when the message has it (parsed
    /// with `FromStr`; a value that does not parse fails the rule `meta(key)`).
    pub fn meta<V, F>(&mut self, name: &'static str, key: &'static str, get: F) -> Field<'_, T, V>
    where
        V: FromStr + 'static,
        F: Fn(&mut T) -> &mut V + Send + Sync + 'static,
    {
        let get = Arc::new(get);
        let set = get.clone();
        let field = self.add(name, Arc::new(move |value: &mut T| &*get(value)));
        field.rules.fields[field.at].bind = Some(Box::new(move |value, meta| {
            let Some(text) = meta.get(key) else { return Ok(()) };
            *set(value) = text.parse().map_err(|_| format!("rule meta({key}) failed"))?;
            Ok(())
        }));
        field
    }

    fn add<V>(&mut self, name: &'static str, get: Getter<T, V>) -> Field<'_, T, V> {
        self.fields.push(FieldRules { name, status: None, bind: None, checks: Vec::new() });
        let at = self.fields.len() - 1;
        Field { rules: self, at, get }
    }

    /// Binds the meta fields of `value`, then checks it field by field, stopping at the
    /// first failure.
    pub(super) fn apply(&self, value: &mut T, meta: &Meta) -> Result<(), Status> {
        if let Some(broken) = &self.broken {
            return Err(Status::with_code(status::CODE_INTERNAL_SERVER_ERROR, broken.clone()));
        }
        for field in &self.fields {
            if let Some(bind) = &field.bind {
                bind(value, meta).map_err(|failed| field.refusal(failed))?;
            }
        }
        for field in &self.fields {
            for check in &field.checks {
                check(value, meta).map_err(|failed| field.refusal(failed))?;
            }
        }
        Ok(())
    }
}

impl<T> FieldRules<T> {
    fn refusal(&self, failed: String) -> Status {
        let status = match &self.status {
            Some((code, msg)) => Status::new(*code, msg.clone()),
            None => Status::new(CODE_INVALID_PARAMETER, MSG_INVALID_PARAMETER),
        };
        status.cause(format!("{}: {failed}", self.name))
    }
}

/// The rules of one field, added one call at a time.
pub struct Field<'r, T, V> {
    rules: &'r mut Rules<T>,
    at: usize,
    get: Getter<T, V>,
}

impl<T: 'static, V: 'static> Field<'_, T, V> {
    fn push(&mut self, check: Check<T>) {
        self.rules.fields[self.at].checks.push(check);
    }

    /// Adds the rule `rule`: `test` returns what is wrong, if anything.
    fn rule(
        mut self,
        rule: String,
        test: impl Fn(&V) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        let get = self.get.clone();
        self.push(Box::new(move |value, _| match test(get(value)) {
            Some(wrong) => Err(format!("rule {rule} failed: {wrong}")),
            None => Ok(()),
        }));
        self
    }

    /// Answers this field's failures with `code` and `msg` instead of 400 Invalid Parameter.
    pub fn status(self, code: Code, msg: impl Into<String>) -> Self {
        self.rules.fields[self.at].status = Some((code, msg.into()));
        self
    }

    /// Fails when `test` returns false; `rule` names it in the cause.
    pub fn custom(
        self,
        rule: &'static str,
        test: impl Fn(&V) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.rule(rule.to_owned(), move |v| (!test(v)).then(|| "false".to_owned()))
    }

    /// Fails on a zero number, an empty string or collection, `false`, `None`.
    pub fn required(self) -> Self
    where
        V: Zero,
    {
        self.rule("required".to_owned(), |v| v.is_zero().then(|| "missing or zero".to_owned()))
    }

    /// Fails when the length (characters of a string, items of a collection) is outside
    /// `min..=max`. `None` passes.
    pub fn len(self, min: usize, max: usize) -> Self
    where
        V: Length,
    {
        self.rule(format!("len({min}, {max})"), move |v| {
            let len = v.length()?;
            (len < min || len > max).then(|| format!("length {len}"))
        })
    }

    /// Fails when the number is outside `min..=max` (or NaN). `None` passes.
    pub fn range(self, min: V::Num, max: V::Num) -> Self
    where
        V: Number,
        V::Num: Display + Send + Sync + 'static,
    {
        self.rule(format!("range({min}, {max})"), move |v| {
            let n = v.number()?;
            (!(n >= min && n <= max)).then(|| n.to_string())
        })
    }

    /// Fails when the text does not match `pattern` (anchor it with `^...$` to match the
    /// whole text). `None` passes. A bad pattern makes every value fail with 500.
    pub fn regex(self, pattern: &str) -> Self
    where
        V: Text,
    {
        let re = match regex::Regex::new(pattern) {
            Ok(re) => re,
            Err(e) => {
                let name = self.rules.fields[self.at].name;
                tracing::error!(field = name, error = %e, "binder: bad regex");
                self.rules.broken = Some(format!("binder: bad regex for {name}: {e}"));
                return self;
            }
        };
        self.rule(format!("regex({pattern})"), move |v| {
            let text = v.text()?;
            (!re.is_match(text)).then(|| "no match".to_owned())
        })
    }
}
