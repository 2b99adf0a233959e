//! Paths inside a resource (`Properties.Replicas[Region=eu-west-1].Region`) and inside a resource
//! schema (`/properties/Replicas/*/Region`), and how the two overlap.

use std::fmt;

/// One step of a path inside a resource definition.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Seg {
    /// An object member.
    Field(String),
    /// An array element, by position.
    Index(usize),
    /// An array element, by the value of an identifying member (e.g. `Region=eu-west-1`): arrays
    /// of replicas, tags or policies are diffed by identity so one removal does not shift the rest.
    Key {
        /// The identifying member's name.
        key: String,
        /// Its value.
        value: String,
    },
}

/// A path inside a resource definition; the first segment is `Properties`, `Metadata`, ...
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct ResourcePath(pub Vec<Seg>);

impl ResourcePath {
    /// `Properties.<name>`.
    pub fn property(name: &str) -> ResourcePath {
        ResourcePath(vec![Seg::Field("Properties".to_string()), Seg::Field(name.to_string())])
    }

    /// This path extended by one segment.
    pub fn child(&self, seg: Seg) -> ResourcePath {
        let mut segs = self.0.clone();
        segs.push(seg);
        ResourcePath(segs)
    }

    /// Parses CloudFormation's `Target.Path` (`/Properties/Replicas/1/Region`).
    pub fn from_pointer(pointer: &str) -> ResourcePath {
        let segs = pointer
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| {
                let s = s.replace("~1", "/").replace("~0", "~");
                match s.parse::<usize>() {
                    Ok(index) => Seg::Index(index),
                    Err(_) => Seg::Field(s),
                }
            })
            .collect();
        ResourcePath(segs)
    }

    /// The segments after `Properties`, if this is a property path.
    pub fn property_segs(&self) -> Option<&[Seg]> {
        match self.0.split_first() {
            Some((Seg::Field(first), rest)) if first == "Properties" => Some(rest),
            _ => None,
        }
    }
}

impl fmt::Display for ResourcePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Field(name) if i == 0 => write!(f, "{name}")?,
                Seg::Field(name) => write!(f, ".{name}")?,
                Seg::Index(index) => write!(f, "[{index}]")?,
                Seg::Key { key, value } => write!(f, "[{key}={value}]")?,
            }
        }
        Ok(())
    }
}

/// A `createOnlyProperties` entry: the steps after `/properties/`, `*` meaning every element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaPath(pub Vec<String>);

impl SchemaPath {
    /// Parses `/properties/A/*/B`; `None` for paths outside `/properties`.
    pub fn parse(pointer: &str) -> Option<SchemaPath> {
        let rest = pointer.strip_prefix("/properties/")?;
        Some(SchemaPath(rest.split('/').map(|s| s.replace("~1", "/").replace("~0", "~")).collect()))
    }

    /// Whether a change at `segs` (after `Properties`) touches this path: one is a prefix of the
    /// other, `*` matching any element (by index or by key).
    pub fn overlaps(&self, segs: &[Seg]) -> bool {
        self.0.iter().zip(segs).all(|(schema, seg)| match seg {
            Seg::Field(name) => schema == name,
            Seg::Index(_) | Seg::Key { .. } => schema == "*",
        })
    }

    /// The value(s) at this path in a `Properties` object: `None` when absent; with `*`, an array
    /// of what each element holds (`null` where absent), so any difference shows.
    pub fn extract(&self, properties: &serde_json::Value) -> Option<serde_json::Value> {
        extract(&self.0, properties)
    }
}

fn extract(steps: &[String], value: &serde_json::Value) -> Option<serde_json::Value> {
    let Some((step, rest)) = steps.split_first() else {
        return Some(value.clone());
    };
    if step == "*" {
        let items: Vec<&serde_json::Value> = match value {
            serde_json::Value::Array(items) => items.iter().collect(),
            serde_json::Value::Object(map) => map.values().collect(),
            _ => return None,
        };
        let found = items.into_iter().map(|item| extract(rest, item).unwrap_or(serde_json::Value::Null));
        return Some(serde_json::Value::Array(found.collect()));
    }
    extract(rest, value.get(step)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn resource_paths_render_with_dots_indexes_and_keys() {
        let path = ResourcePath::property("Replicas")
            .child(Seg::Key { key: "Region".into(), value: "eu-west-1".into() })
            .child(Seg::Field("Tags".into()))
            .child(Seg::Index(0));
        assert_eq!(path.to_string(), "Properties.Replicas[Region=eu-west-1].Tags[0]");
        assert_eq!(
            ResourcePath::from_pointer("/Properties/Replicas/1/Region").to_string(),
            "Properties.Replicas[1].Region"
        );
    }

    #[test]
    fn schema_paths_with_wildcards_overlap_keyed_and_indexed_elements() {
        let path = SchemaPath::parse("/properties/Replicas/*/Region").unwrap();
        let keyed = [Seg::Field("Replicas".into()), Seg::Key { key: "Region".into(), value: "x".into() }];
        assert!(path.overlaps(&keyed));
        assert!(path.overlaps(&[Seg::Field("Replicas".into())]));
        assert!(!path.overlaps(&[Seg::Field("Tags".into())]));
        assert!(!path.overlaps(&[Seg::Field("Replicas".into()), Seg::Index(0), Seg::Field("Tags".into())]));
    }

    #[test]
    fn extraction_through_wildcards_lists_every_element() {
        let props = json!({"Replicas": [{"Region": "a"}, {"Other": 1}], "Config": {"Type": "HTTPS"}});
        let replicas = SchemaPath::parse("/properties/Replicas/*/Region").unwrap();
        assert_eq!(replicas.extract(&props), Some(json!(["a", null])));
        assert_eq!(SchemaPath::parse("/properties/Config/Type").unwrap().extract(&props), Some(json!("HTTPS")));
        assert_eq!(SchemaPath::parse("/properties/Missing").unwrap().extract(&props), None);
    }
}
