//! Message templates: broadcast text with `{{ variable }}` placeholders,
//! filled in per recipient at delivery.
//!
//! A guardian of several students in a broadcast's audience gets one message
//! that can name all of them (`{{children}}` → "Ana, Ben and Cy"), instead of
//! one message per child.
//!
//! The rules:
//!
//! - The variables are exactly `{{first_name}}`, `{{children}}`,
//!   `{{sender}}` and `{{school}}`; whitespace inside the braces is allowed
//!   (`{{ school }}`). There is no logic, no filters and no escape for a
//!   literal `{{`.
//! - A template is checked once, when the broadcast is created
//!   ([`validate_template`]): an unknown variable, an empty `{{}}` or a `{{`
//!   without its `}}` is refused with a message naming it. A stray `}}` is
//!   plain text.
//! - Rendering never fails. A missing value renders empty; `{{children}}`
//!   joins the names as "Ana", "Ana and Ben", "Ana, Ben and Cy" (blank names
//!   are skipped). Should an unvalidated template reach [`render`], anything
//!   that is not a known variable is copied through as written.
//! - Text without `{{` comes back unchanged, and [`uses_variables`] lets a
//!   caller skip rendering it at all.
//! - [`render_html`] HTML-escapes the substituted values, never the
//!   template: the template is the author's markup, the values are data.
//!
//! Why no template crate: minijinja (2.x, `default-features = false`) is
//! small (itself and `memo-map`, about 6 s to build on one core) but brings a
//! whole language (conditionals, loops, filters) the product does not
//! offer, and its render goes through dynamic `Value`s built per call. The
//! grammar here is four fixed names, so a scanner of a few dozen lines is the
//! whole job, validates with precise messages, and renders at delivery rate
//! (tens of thousands a second) with one allocation: the output string.

use serde::{Deserialize, Serialize};

use super::DomainError;

/// What a template's variables are filled with, for one recipient.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateContext {
    /// The recipient's first name: `{{first_name}}`.
    pub first_name: Option<String>,
    /// First names of the recipient's children in the audience, in the order
    /// to name them: `{{children}}`.
    pub children: Vec<String>,
    /// Who the broadcast is from (a person or an office): `{{sender}}`.
    pub sender: Option<String>,
    /// The school's name: `{{school}}`.
    pub school: Option<String>,
}

/// The variables a template may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Variable {
    FirstName,
    Children,
    Sender,
    School,
}

impl Variable {
    const NAMES: &'static str = "first_name, children, sender, school";

    fn from_name(name: &str) -> Option<Self> {
        match name {
            "first_name" => Some(Self::FirstName),
            "children" => Some(Self::Children),
            "sender" => Some(Self::Sender),
            "school" => Some(Self::School),
            _ => None,
        }
    }
}

const OPEN: &str = "{{";
const CLOSE: &str = "}}";

/// One step of a scan over a template.
enum Piece<'a> {
    /// Text to copy as it is.
    Literal(&'a str),
    /// A known variable.
    Variable(Variable),
    /// `{{ ... }}` whose inside is not a variable name; carries the whole
    /// placeholder as written and its inside.
    Unknown { raw: &'a str, inside: &'a str },
    /// A `{{` with no `}}` after it; carries the rest of the text.
    Unclosed(&'a str),
}

/// Splits a template into pieces without allocating.
struct Pieces<'a> {
    rest: &'a str,
}

impl<'a> Iterator for Pieces<'a> {
    type Item = Piece<'a>;

    fn next(&mut self) -> Option<Piece<'a>> {
        if self.rest.is_empty() {
            return None;
        }
        let Some(open) = self.rest.find(OPEN) else {
            return Some(Piece::Literal(std::mem::take(&mut self.rest)));
        };
        if open > 0 {
            let (literal, rest) = self.rest.split_at(open);
            self.rest = rest;
            return Some(Piece::Literal(literal));
        }
        let after_open = &self.rest[OPEN.len()..];
        let Some(close) = after_open.find(CLOSE) else {
            return Some(Piece::Unclosed(std::mem::take(&mut self.rest)));
        };
        let inside = &after_open[..close];
        let raw = &self.rest[..OPEN.len() + close + CLOSE.len()];
        self.rest = &self.rest[raw.len()..];
        Some(match Variable::from_name(inside.trim()) {
            Some(variable) => Piece::Variable(variable),
            None => Piece::Unknown { raw, inside },
        })
    }
}

fn pieces(text: &str) -> Pieces<'_> {
    Pieces { rest: text }
}

/// Validates a template once (at broadcast creation): unknown variables or
/// bad syntax → [`DomainError::Invalid`] naming the problem.
pub fn validate_template(text: &str) -> Result<(), DomainError> {
    for piece in pieces(text) {
        match piece {
            Piece::Literal(_) | Piece::Variable(_) => {}
            Piece::Unknown { inside, .. } if inside.trim().is_empty() => {
                return Err(DomainError::Invalid(format!(
                    "template has an empty `{{{{}}}}`; expected a variable: {}",
                    Variable::NAMES
                )));
            }
            Piece::Unknown { inside, .. } => {
                return Err(DomainError::Invalid(format!(
                    "template uses unknown variable `{}`; expected one of: {}",
                    shorten(inside.trim()),
                    Variable::NAMES
                )));
            }
            Piece::Unclosed(rest) => {
                return Err(DomainError::Invalid(format!(
                    "template has a `{{{{` without its `}}}}`: `{}`",
                    shorten(rest)
                )));
            }
        }
    }
    Ok(())
}

/// Renders; `{{children}}` joins first names as "Ana", "Ana and Ben",
/// "Ana, Ben and Cy"; missing values render empty. Never fails for a
/// validated template.
pub fn render(text: &str, context: &TemplateContext) -> String {
    render_into(text, context, push_plain)
}

/// Renders like [`render`] for an HTML body: the substituted values are
/// HTML-escaped (`&`, `<`, `>`, `"`, `'`); the template is the author's
/// markup and is copied as written.
pub fn render_html(text: &str, context: &TemplateContext) -> String {
    render_into(text, context, push_html_escaped)
}

/// Whether `text` may use variables (contains `{{`). A `false` text renders
/// as itself, so callers can skip rendering; for a validated template `true`
/// means it does use one.
pub fn uses_variables(text: &str) -> bool {
    text.contains(OPEN)
}

fn render_into(text: &str, context: &TemplateContext, push: fn(&mut String, &str)) -> String {
    if !uses_variables(text) {
        return text.to_owned();
    }
    // Room for typical values, so the output is usually one allocation.
    let mut out = String::with_capacity(text.len() + 64);
    for piece in pieces(text) {
        match piece {
            Piece::Literal(literal) => out.push_str(literal),
            Piece::Unknown { raw, .. } => out.push_str(raw),
            Piece::Unclosed(rest) => out.push_str(rest),
            Piece::Variable(Variable::FirstName) => push(&mut out, context.first_name.as_deref().unwrap_or("")),
            Piece::Variable(Variable::Sender) => push(&mut out, context.sender.as_deref().unwrap_or("")),
            Piece::Variable(Variable::School) => push(&mut out, context.school.as_deref().unwrap_or("")),
            Piece::Variable(Variable::Children) => push_children(&mut out, &context.children, push),
        }
    }
    out
}

/// "Ana", "Ana and Ben", "Ana, Ben and Cy"; blank names are left out.
fn push_children(out: &mut String, children: &[String], push: fn(&mut String, &str)) {
    let named = || children.iter().map(|name| name.trim()).filter(|name| !name.is_empty());
    let count = named().count();
    for (index, name) in named().enumerate() {
        if index > 0 {
            out.push_str(if index + 1 == count { " and " } else { ", " });
        }
        push(out, name);
    }
}

fn push_plain(out: &mut String, value: &str) {
    out.push_str(value);
}

fn push_html_escaped(out: &mut String, value: &str) {
    let mut rest = value;
    while let Some(at) = rest.find(['&', '<', '>', '"', '\'']) {
        out.push_str(&rest[..at]);
        let entity = match rest.as_bytes()[at] {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            _ => "&#39;",
        };
        out.push_str(entity);
        rest = &rest[at + 1..];
    }
    out.push_str(rest);
}

/// Keeps an echoed piece of template short enough for an error message.
fn shorten(text: &str) -> String {
    match text.char_indices().nth(40) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn context(children: &[&str]) -> TemplateContext {
        TemplateContext {
            first_name: Some("Maria".into()),
            children: children.iter().map(|name| (*name).to_owned()).collect(),
            sender: Some("Principal Ortiz".into()),
            school: Some("Lincoln Elementary".into()),
        }
    }

    fn invalid_message(text: &str) -> String {
        match validate_template(text) {
            Err(DomainError::Invalid(message)) => message,
            other => panic!("{text:?}: expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn each_variable_is_filled_in() {
        let ctx = context(&["Ana"]);
        assert_eq!(render("Hi {{first_name}}", &ctx), "Hi Maria");
        assert_eq!(render("{{children}} is excused", &ctx), "Ana is excused");
        assert_eq!(render("From {{sender}}", &ctx), "From Principal Ortiz");
        assert_eq!(render("{{school}} closes early", &ctx), "Lincoln Elementary closes early");
    }

    #[test]
    fn whitespace_inside_the_braces_is_allowed() {
        let text = "{{ first_name }}, {{\tschool\t}} says hi";
        assert_eq!(validate_template(text), Ok(()));
        assert_eq!(render(text, &context(&[])), "Maria, Lincoln Elementary says hi");
    }

    #[test]
    fn children_are_joined_as_a_sentence_would_name_them() {
        let text = "[{{children}}]";
        assert_eq!(render(text, &context(&[])), "[]");
        assert_eq!(render(text, &context(&["Ana"])), "[Ana]");
        assert_eq!(render(text, &context(&["Ana", "Ben"])), "[Ana and Ben]");
        assert_eq!(render(text, &context(&["Ana", "Ben", "Cy"])), "[Ana, Ben and Cy]");
        assert_eq!(render(text, &context(&["Ana", " ", "Ben", ""])), "[Ana and Ben]");
    }

    #[test]
    fn missing_values_render_empty() {
        let text = "Hi {{first_name}} from {{sender}} at {{school}}: {{children}}.";
        assert_eq!(render(text, &TemplateContext::default()), "Hi  from  at : .");
    }

    #[test]
    fn text_without_variables_is_returned_unchanged() {
        let text = "Snow day: no school today. Stay warm! } {single} }}";
        assert!(!uses_variables(text));
        assert_eq!(validate_template(text), Ok(()));
        assert_eq!(render(text, &context(&["Ana"])), text);
        assert_eq!(render_html("<p>Closed & safe</p>", &context(&[])), "<p>Closed & safe</p>");
        assert_eq!(render("", &context(&[])), "");
    }

    #[test]
    fn unknown_variables_are_refused_by_name() {
        let message = invalid_message("Dear {{ last_name }},");
        assert!(message.contains("`last_name`"), "{message}");
        assert!(message.contains("first_name, children, sender, school"), "{message}");
        assert!(invalid_message("{{First_Name}}").contains("First_Name"));
        assert!(invalid_message("{{}}").contains("empty"));
        assert!(invalid_message("{{{first_name}}}").contains("{first_name"));
    }

    #[test]
    fn unclosed_braces_are_refused() {
        let message = invalid_message("Hi {{first_name}}, see {{school");
        assert!(message.contains("without its `}}`"), "{message}");
        assert!(message.contains("{{school"), "{message}");
        assert!(invalid_message("{{first_name}").contains("without"));
    }

    #[test]
    fn long_unknown_names_are_shortened_in_the_message() {
        let message = invalid_message(&format!("{{{{{}}}}}", "x".repeat(500)));
        assert!(message.len() < 200, "{message}");
        assert!(message.contains("..."), "{message}");
    }

    #[test]
    fn an_unvalidated_template_renders_what_it_cannot_fill_as_written() {
        assert_eq!(render("{{nope}} {{school}} {{open", &context(&[])), "{{nope}} Lincoln Elementary {{open");
    }

    #[test]
    fn html_rendering_escapes_values_but_not_the_template() {
        let ctx = TemplateContext {
            first_name: Some("<script>alert('x')</script>".into()),
            children: vec!["Ana & \"Bo\"".into(), "<b>Cy</b>".into()],
            sender: None,
            school: Some("O'Neil".into()),
        };
        assert_eq!(
            render_html("<p>Hi {{first_name}}</p><p>{{children}} @ {{school}}</p>", &ctx),
            "<p>Hi &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;</p>\
             <p>Ana &amp; &quot;Bo&quot; and &lt;b&gt;Cy&lt;/b&gt; @ O&#39;Neil</p>"
        );
        // The plain renderer leaves the same values alone.
        assert_eq!(render("{{school}}", &ctx), "O'Neil");
    }

    proptest! {
        #[test]
        fn text_without_braces_always_validates_and_renders_as_itself(text in "[^{]*") {
            prop_assert!(validate_template(&text).is_ok());
            prop_assert_eq!(render(&text, &context(&["Ana", "Ben"])), text.clone());
            prop_assert_eq!(render_html(&text, &context(&["Ana"])), text);
        }

        #[test]
        fn a_validated_template_leaves_no_placeholder_behind(
            parts in proptest::collection::vec(
                prop_oneof![
                    "[a-z <>&,.!]{0,12}",
                    Just("{{first_name}}".to_owned()),
                    Just("{{ children }}".to_owned()),
                    Just("{{sender }}".to_owned()),
                    Just("{{\tschool}}".to_owned()),
                ],
                0..12,
            ),
        ) {
            let text = parts.concat();
            prop_assert!(validate_template(&text).is_ok());
            let rendered = render(&text, &context(&["Ana", "Ben", "Cy"]));
            prop_assert!(!rendered.contains("{{"), "{}", rendered);
        }

        #[test]
        fn html_escaped_values_contain_no_markup(name in ".{0,40}") {
            let ctx = TemplateContext { first_name: Some(name), ..TemplateContext::default() };
            let rendered = render_html("{{first_name}}", &ctx);
            prop_assert!(!rendered.contains(['<', '>', '"', '\'']), "{}", rendered);
        }
    }
}
