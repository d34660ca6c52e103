//! ServiceNow update-set XML: the file an admin imports under System Update Sets > Retrieved
//! Update Sets > Import Update Set from XML, then previews and commits.
//!
//! The structure is that of a real export (for example `jasonb5232/Five9Adapter`,
//! `sys_remote_update_set.xml`, exported by an instance in 2018): one `unload` document holding
//! one `sys_remote_update_set` (the retrieved update set: name, description, `state` `loaded`,
//! application) and one `sys_update_xml` per change. Each `sys_update_xml` names its change
//! (`<table>_<sys_id>`), says `INSERT_OR_UPDATE`, points at the update set in
//! `remote_update_set`, and carries the record itself in `payload`: an escaped XML document
//! `<record_update table="…"><TABLE action="INSERT_OR_UPDATE">…fields…</TABLE></record_update>`.
//! The ACL payload fields (`active`, `admin_overrides`, `decision_type`, `name`, `operation`,
//! `type`, `sys_scope`, `sys_update_name`, …) are those of exported `sys_security_acl` updates
//! in public repositories; a reference field carries the target's sys_id as its text and the
//! target's name as `display_value`, as exports do.
//!
//! What is not known from public material, and how it is handled:
//! - Whether committing an update of an existing record blanks the fields its payload leaves
//!   out. Payloads here carry every field snconnect knows of the record, so either behaviour
//!   leaves the record as intended.
//! - The `type` label of a `sys_security_acl_role` change (exports show "Access Control" for an
//!   ACL); it is a label in the list of changes, not read when committing.
//!
//! Dates are left out (an export's `unload_date`, `sys_created_on`): the instance stamps its own
//! on import, and without them the same changes always give the same file.

use std::fmt::Write as _;

use quick_xml::escape::escape;
use quick_xml::events::Event;
use quick_xml::Reader;
use sha2::{Digest, Sha256};

/// A 32-hex-digit sys_id derived from `parts`: the same inputs always give the same id, so a file
/// generated twice is the same file and importing it twice updates the same records.
pub fn derived_sys_id(parts: &[&str]) -> String {
    let digest = Sha256::digest(parts.join("\u{1f}").as_bytes());
    digest[..16].iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// One field of a record: its value and, for a reference, the target's display value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub value: String,
    pub display_value: Option<String>,
}

impl Field {
    pub fn new(name: &str, value: impl Into<String>) -> Field {
        Field {
            name: name.to_string(),
            value: value.into(),
            display_value: None,
        }
    }

    pub fn reference(name: &str, sys_id: &str, display: &str) -> Field {
        Field {
            name: name.to_string(),
            value: sys_id.to_string(),
            display_value: Some(display.to_string()),
        }
    }
}

/// One record the update set inserts or updates (by sys_id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub table: String,
    pub sys_id: String,
    /// The label of the change in the update set's list ("Access Control").
    pub type_label: String,
    /// What the change is about, as the list shows it (`task.read`).
    pub target_name: String,
    pub fields: Vec<Field>,
}

impl Record {
    /// The name the platform gives the change: `<table>_<sys_id>`.
    pub fn update_name(&self) -> String {
        format!("{}_{}", self.table, self.sys_id)
    }

    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.value.as_str())
    }

    /// The `record_update` document that is the change's payload.
    pub fn payload(&self) -> String {
        let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
        let _ = write!(
            x,
            "<record_update table=\"{t}\"><{t} action=\"INSERT_OR_UPDATE\">",
            t = self.table
        );
        let mut fields = self.fields.clone();
        fields.push(Field::new("sys_class_name", &self.table));
        fields.push(Field::new("sys_id", &self.sys_id));
        fields.push(Field::new("sys_update_name", self.update_name()));
        fields.sort_by(|a, b| a.name.cmp(&b.name));
        for f in &fields {
            element(&mut x, &f.name, &f.value, f.display_value.as_deref());
        }
        let _ = write!(x, "</{}></record_update>", self.table);
        x
    }
}

/// An update set: what the `sys_remote_update_set` says, and its records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateSet {
    pub sys_id: String,
    pub name: String,
    pub description: String,
    pub records: Vec<Record>,
}

fn element(x: &mut String, name: &str, value: &str, display: Option<&str>) {
    match (value.is_empty(), display) {
        (true, None) => {
            let _ = write!(x, "<{name}/>");
        }
        (_, Some(d)) => {
            let _ = write!(
                x,
                "<{name} display_value=\"{}\">{}</{name}>",
                escape(d),
                escape(value)
            );
        }
        (false, None) => {
            let _ = write!(x, "<{name}>{}</{name}>", escape(value));
        }
    }
}

impl UpdateSet {
    /// The file: an `unload` document, one line per element of the update set and its changes.
    pub fn to_xml(&self) -> String {
        let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<unload>\n");
        x.push_str("<sys_remote_update_set action=\"INSERT_OR_UPDATE\">\n");
        let set_fields: [(&str, &str, Option<&str>); 8] = [
            ("application", "global", Some("Global")),
            ("application_name", "Global", None),
            ("application_scope", "global", None),
            ("description", &self.description, None),
            ("name", &self.name, None),
            ("state", "loaded", None),
            ("sys_class_name", "sys_remote_update_set", None),
            ("sys_id", &self.sys_id, None),
        ];
        for (name, value, display) in set_fields {
            element(&mut x, name, value, display);
            x.push('\n');
        }
        x.push_str("</sys_remote_update_set>\n");
        for r in &self.records {
            let change_id = derived_sys_id(&["sys_update_xml", &self.sys_id, &r.update_name()]);
            x.push_str("<sys_update_xml action=\"INSERT_OR_UPDATE\">\n");
            let fields: [(&str, String, Option<&str>); 11] = [
                ("action", "INSERT_OR_UPDATE".into(), None),
                ("application", "global".into(), Some("Global")),
                ("category", "customer".into(), None),
                ("name", r.update_name(), None),
                ("payload", r.payload(), None),
                ("remote_update_set", self.sys_id.clone(), Some(&self.name)),
                ("replace_on_upgrade", "false".into(), None),
                ("sys_id", change_id, None),
                ("target_name", r.target_name.clone(), None),
                ("type", r.type_label.clone(), None),
                ("update_domain", "global".into(), None),
            ];
            for (name, value, display) in fields {
                element(&mut x, name, &value, display);
                x.push('\n');
            }
            x.push_str("</sys_update_xml>\n");
        }
        x.push_str("</unload>\n");
        x
    }
}

/// Why a file is not an update set snconnect (or the sandbox) can read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParseError {
    #[error("not well-formed XML: {0}")]
    Xml(String),
    #[error("no <unload> document with a <sys_remote_update_set>")]
    NotAnUpdateSet,
    #[error("change '{name}': its payload is not a record_update ({detail})")]
    Payload { name: String, detail: String },
}

/// The leaf elements of one element, read flat: (path of names below the root, text, attributes).
type Leaf = (Vec<String>, String, Vec<(String, String)>);

fn leaves(xml: &str) -> Result<Vec<Leaf>, String> {
    let mut reader = Reader::from_str(xml);
    let mut path: Vec<String> = Vec::new();
    let mut attrs_stack: Vec<Vec<(String, String)>> = Vec::new();
    let mut text = String::new();
    let mut out = Vec::new();
    let attrs_of =
        |e: &quick_xml::events::BytesStart<'_>| -> Result<Vec<(String, String)>, String> {
            e.attributes()
                .map(|a| {
                    let a = a.map_err(|e| e.to_string())?;
                    Ok((
                        String::from_utf8_lossy(a.key.as_ref()).into_owned(),
                        a.unescape_value().map_err(|e| e.to_string())?.into_owned(),
                    ))
                })
                .collect()
        };
    loop {
        match reader.read_event().map_err(|e| e.to_string())? {
            Event::Eof => break,
            Event::Start(e) => {
                path.push(String::from_utf8_lossy(e.name().as_ref()).into_owned());
                attrs_stack.push(attrs_of(&e)?);
                text.clear();
            }
            Event::Empty(e) => {
                let mut p = path.clone();
                p.push(String::from_utf8_lossy(e.name().as_ref()).into_owned());
                out.push((p, String::new(), attrs_of(&e)?));
            }
            Event::Text(t) => text.push_str(&t.decode().map_err(|e| e.to_string())?),
            Event::CData(c) => text.push_str(&c.decode().map_err(|e| e.to_string())?),
            Event::GeneralRef(r) => {
                let name = r.decode().map_err(|e| e.to_string())?;
                let reference = format!("&{name};");
                let resolved =
                    quick_xml::escape::unescape(&reference).map_err(|e| e.to_string())?;
                text.push_str(&resolved);
            }
            Event::End(_) => {
                let attrs = attrs_stack.pop().unwrap_or_default();
                out.push((path.clone(), std::mem::take(&mut text), attrs));
                path.pop();
            }
            _ => {}
        }
    }
    if !path.is_empty() {
        return Err(format!("<{}> is not closed", path.join("><")));
    }
    Ok(out)
}

/// Reads an update-set file back: the update set and every record its changes carry.
pub fn parse(xml: &str) -> Result<UpdateSet, ParseError> {
    let all = leaves(xml).map_err(ParseError::Xml)?;
    let at = |p: &[&str]| -> Vec<&Leaf> {
        all.iter()
            .filter(|(path, _, _)| path.iter().map(String::as_str).eq(p.iter().copied()))
            .collect()
    };
    let set_field = |name: &str| {
        at(&["unload", "sys_remote_update_set", name])
            .first()
            .map(|(_, t, _)| t.clone())
    };
    let Some(sys_id) = set_field("sys_id") else {
        return Err(ParseError::NotAnUpdateSet);
    };
    let names = at(&["unload", "sys_update_xml", "name"]);
    let payloads = at(&["unload", "sys_update_xml", "payload"]);
    let types = at(&["unload", "sys_update_xml", "type"]);
    let targets = at(&["unload", "sys_update_xml", "target_name"]);
    let mut records = Vec::new();
    for (i, (_, payload, _)) in payloads.iter().enumerate() {
        let name = names.get(i).map(|l| l.1.clone()).unwrap_or_default();
        let bad = |detail: String| ParseError::Payload {
            name: name.clone(),
            detail,
        };
        let inner = leaves(payload).map_err(bad)?;
        let table = inner
            .iter()
            .find(|(p, _, _)| p.len() == 2 && p[0] == "record_update")
            .map(|(p, _, _)| p[1].clone())
            .ok_or_else(|| bad("no record in it".into()))?;
        let fields: Vec<Field> = inner
            .iter()
            .filter(|(p, _, _)| p.len() == 3 && p[0] == "record_update" && p[1] == table)
            .map(|(p, text, attrs)| Field {
                name: p[2].clone(),
                value: text.clone(),
                display_value: attrs
                    .iter()
                    .find(|(k, _)| k == "display_value")
                    .map(|(_, v)| v.clone()),
            })
            .collect();
        let sys_id = fields
            .iter()
            .find(|f| f.name == "sys_id")
            .map(|f| f.value.clone())
            .filter(|v| !v.is_empty())
            .ok_or_else(|| bad("the record has no sys_id".into()))?;
        records.push(Record {
            table,
            sys_id,
            type_label: types.get(i).map(|l| l.1.clone()).unwrap_or_default(),
            target_name: targets.get(i).map(|l| l.1.clone()).unwrap_or_default(),
            fields,
        });
    }
    Ok(UpdateSet {
        sys_id,
        name: set_field("name").unwrap_or_default(),
        description: set_field("description").unwrap_or_default(),
        records,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> UpdateSet {
        UpdateSet {
            sys_id: derived_sys_id(&["set"]),
            name: "A & B <test>".into(),
            description: "it's \"quoted\"".into(),
            records: vec![Record {
                table: "sys_security_acl".into(),
                sys_id: derived_sys_id(&["acl"]),
                type_label: "Access Control".into(),
                target_name: "task.read".into(),
                fields: vec![
                    Field::new("name", "task"),
                    Field::new("description", "a < b && c > d"),
                    Field::reference("sys_scope", "global", "Global"),
                    Field::new("condition", ""),
                ],
            }],
        }
    }

    #[test]
    fn derived_ids_are_stable_32_hex_digits_and_differ_by_input() {
        let a = derived_sys_id(&["acme.service-now.com", "acl", "read"]);
        assert_eq!(a, derived_sys_id(&["acme.service-now.com", "acl", "read"]));
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, derived_sys_id(&["acme.service-now.com", "acl", "write"]));
        // Parts are separated, so moving a boundary changes the id.
        assert_ne!(derived_sys_id(&["ab", "c"]), derived_sys_id(&["a", "bc"]));
    }

    #[test]
    fn a_written_update_set_reads_back_the_same_with_text_escaped() {
        let set = sample();
        let xml = set.to_xml();
        // The payload is escaped text inside <payload>, as in exports.
        assert!(
            xml.contains("<payload>&lt;?xml version=&quot;1.0&quot;"),
            "{xml}"
        );
        let back = parse(&xml).unwrap();
        assert_eq!(back.sys_id, set.sys_id);
        assert_eq!(back.name, set.name);
        assert_eq!(back.description, set.description);
        let r = &back.records[0];
        assert_eq!(r.table, "sys_security_acl");
        assert_eq!(r.sys_id, set.records[0].sys_id);
        assert_eq!(r.type_label, "Access Control");
        assert_eq!(r.target_name, "task.read");
        assert_eq!(r.field("description"), Some("a < b && c > d"));
        assert_eq!(r.field("condition"), Some(""));
        assert_eq!(
            r.field("sys_update_name"),
            Some(set.records[0].update_name().as_str())
        );
        let scope = r.fields.iter().find(|f| f.name == "sys_scope").unwrap();
        assert_eq!(scope.display_value.as_deref(), Some("Global"));
        assert_eq!(xml, set.to_xml(), "the same changes give the same file");
    }

    #[test]
    fn files_that_are_not_update_sets_are_refused_with_the_reason() {
        assert!(matches!(
            parse("<unload><a></unload>"),
            Err(ParseError::Xml(_))
        ));
        assert_eq!(parse("<unload/>"), Err(ParseError::NotAnUpdateSet));
        let mut broken = sample().to_xml();
        broken = broken.replace("&lt;/sys_security_acl&gt;", "");
        assert!(
            matches!(parse(&broken), Err(ParseError::Payload { .. })),
            "{:?}",
            parse(&broken)
        );
    }
}
