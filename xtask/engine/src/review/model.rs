//! The review's data: what CloudFormation said (input, independent of the SDK) and the completed,
//! classified review of one stack (output, serialized to JSON for machines).

use serde::Serialize;
use serde::ser::{SerializeStruct, Serializer};
use serde_json::Value;
use std::collections::BTreeMap;

/// Parameter values by name, as given to (or read back from) CloudFormation.
pub type Params = BTreeMap<String, String>;

/// What CloudFormation does to a resource (`ResourceChange.Action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Action {
    /// Created.
    Add,
    /// Updated in place or replaced (see [`Replacement`]).
    Modify,
    /// Deleted (or retained and forgotten, per its `DeletionPolicy`).
    Remove,
    /// Imported into the stack.
    Import,
    /// Decided at execution time (macros, nested stacks).
    Dynamic,
    /// Drift reverted to the template.
    SyncWithActual,
}

impl Action {
    /// Parses CloudFormation's spelling; anything unknown is treated as [`Action::Dynamic`] so a
    /// newer API value still shows up in the review instead of vanishing.
    pub fn from_cfn(text: &str) -> Action {
        match text {
            "Add" => Action::Add,
            "Modify" => Action::Modify,
            "Remove" => Action::Remove,
            "Import" => Action::Import,
            "SyncWithActual" => Action::SyncWithActual,
            _ => Action::Dynamic,
        }
    }

    /// CloudFormation's spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Action::Add => "Add",
            Action::Modify => "Modify",
            Action::Remove => "Remove",
            Action::Import => "Import",
            Action::Dynamic => "Dynamic",
            Action::SyncWithActual => "SyncWithActual",
        }
    }
}

/// Whether a `Modify` replaces the resource (`ResourceChange.Replacement`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Replacement {
    /// A new resource is created and the old one deleted.
    True,
    /// Replaced if a value only known at deploy time changes (e.g. the physical id of a resource
    /// that is itself replaced).
    Conditional,
    /// Updated in place.
    False,
}

impl Replacement {
    /// Parses CloudFormation's spelling (`True`, `Conditional`, `False`).
    pub fn from_cfn(text: &str) -> Option<Replacement> {
        match text {
            "True" => Some(Replacement::True),
            "Conditional" => Some(Replacement::Conditional),
            "False" => Some(Replacement::False),
            _ => None,
        }
    }

    /// CloudFormation's spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Replacement::True => "True",
            Replacement::Conditional => "Conditional",
            Replacement::False => "False",
        }
    }
}

/// Who reported a change or a property change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Source {
    /// Only the change set.
    CloudFormation,
    /// Only the kit's offline prediction (template diff + resource schemas).
    Predicted,
    /// Both agree that it changes.
    Both,
}

/// One changed property (or resource attribute such as `Metadata`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PropertyChange {
    /// Where, e.g. `Properties.StreamModeDetails.StreamMode` or
    /// `Properties.Replicas[Region=eu-west-1]`.
    pub path: String,
    /// The deployed value; `None` when the property is being added (or is unknown).
    pub before: Option<Value>,
    /// The new value; `None` when the property is being removed (or is unknown).
    pub after: Option<Value>,
    /// Changing it replaces the resource (create-only in the resource schema, or CloudFormation
    /// said `RequiresRecreation` `Always`/`Conditionally`).
    pub create_only: bool,
    /// Why it changes when the template text does not, e.g. `EventStream is replaced`.
    pub cause: Option<String>,
    /// Who reported it.
    pub source: Source,
}

/// One resource's change, completed and classified.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourceChange {
    /// What happens.
    pub action: Action,
    /// The logical id in the template.
    pub logical_id: String,
    /// E.g. `AWS::Kinesis::Stream`.
    pub resource_type: String,
    /// The deployed resource's physical id, when CloudFormation gave it.
    pub physical_id: Option<String>,
    /// For `Modify`: whether it is replaced. `None` for other actions (or when nobody knows).
    pub replacement: Option<Replacement>,
    /// What parts change: `Properties`, `Tags`, `Metadata`, `DeletionPolicy`, ...
    pub scope: Vec<String>,
    /// Property-level changes, before → after.
    pub properties: Vec<PropertyChange>,
    /// Who reported the change.
    pub source: Source,
    /// Why a reviewer must look twice; empty when the change is routine.
    pub dangers: Vec<Danger>,
}

impl ResourceChange {
    /// Whether anything about this change is dangerous.
    pub fn is_dangerous(&self) -> bool {
        !self.dangers.is_empty()
    }

    /// Whether CloudFormation would refuse this change.
    pub fn is_refused(&self) -> bool {
        self.dangers.iter().any(Danger::refuses)
    }

    /// Whether the resource is (or may be) replaced.
    pub fn replaces(&self) -> bool {
        matches!(self.replacement, Some(Replacement::True | Replacement::Conditional))
    }
}

/// Why a change is dangerous. Each variant renders a sentence with [`Danger::reason`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Danger {
    /// A stateful resource is (or may be) replaced: the new one starts empty.
    StatefulReplacement {
        /// `Conditional` rather than `True`.
        conditional: bool,
        /// `UpdateReplacePolicy: Retain` keeps the old one (outside the stack).
        retained: bool,
    },
    /// A stateful resource leaves the stack.
    StatefulRemoval {
        /// `DeletionPolicy: Retain` keeps it (but nothing manages it any more).
        retained: bool,
    },
    /// Regions dropped from a global table's `Replicas`: their copies are deleted, even though
    /// CloudFormation calls it an in-place `Modify`.
    ReplicaRemoval {
        /// The regions whose replica is deleted.
        regions: Vec<String>,
    },
    /// More than one replica added or removed in one update, which CloudFormation rejects.
    ReplicaBatch {
        /// Regions added.
        added: Vec<String>,
        /// Regions removed.
        removed: Vec<String>,
    },
    /// Permissions grow: a new grant, a dropped condition or deny, a new role.
    IamBroadening {
        /// What grows, for the reviewer.
        detail: String,
    },
    /// An event source mapping is replaced: the new one starts reading the stream at its
    /// starting position (from `TRIM_HORIZON`, everything the stream retains) while the old one
    /// still runs until CloudFormation deletes it.
    ConsumerReset {
        /// `Conditional` rather than `True`.
        conditional: bool,
        /// The new mapping's `StartingPosition`.
        starting_position: String,
    },
    /// Data protection is weakened (point-in-time recovery, deletion protection, a retaining
    /// policy, stream retention, encryption, a public access block).
    ProtectionWeakened {
        /// What weakens, for the reviewer.
        detail: String,
    },
    /// Clients' traffic moves: a record removed or re-routed, a health check, custom domain, API
    /// mapping or API replaced or removed.
    TrafficChange {
        /// What changes, for the reviewer.
        detail: String,
    },
    /// An update CloudFormation refuses: executing it would fail (and roll back) half-way.
    Refused {
        /// CloudFormation's rule that this breaks.
        detail: String,
    },
}

impl Danger {
    /// A short machine-readable name.
    pub const fn kind(&self) -> &'static str {
        match self {
            Danger::StatefulReplacement { .. } => "StatefulReplacement",
            Danger::StatefulRemoval { .. } => "StatefulRemoval",
            Danger::ReplicaRemoval { .. } => "ReplicaRemoval",
            Danger::ReplicaBatch { .. } => "ReplicaBatch",
            Danger::IamBroadening { .. } => "IamBroadening",
            Danger::ConsumerReset { .. } => "ConsumerReset",
            Danger::ProtectionWeakened { .. } => "ProtectionWeakened",
            Danger::TrafficChange { .. } => "TrafficChange",
            Danger::Refused { .. } => "Refused",
        }
    }

    /// Whether CloudFormation refuses the update: no approval can execute it.
    pub const fn refuses(&self) -> bool {
        match self {
            Danger::ReplicaBatch { .. } | Danger::Refused { .. } => true,
            Danger::StatefulReplacement { .. }
            | Danger::StatefulRemoval { .. }
            | Danger::ReplicaRemoval { .. }
            | Danger::IamBroadening { .. }
            | Danger::ConsumerReset { .. }
            | Danger::ProtectionWeakened { .. }
            | Danger::TrafficChange { .. } => false,
        }
    }

    /// One sentence for humans.
    pub fn reason(&self) -> String {
        match self {
            Danger::StatefulReplacement { conditional, retained } => {
                let may = if *conditional { "may be replaced" } else { "is replaced" };
                let old = if *retained {
                    "the old one is retained (UpdateReplacePolicy Retain) but no longer used"
                } else {
                    "the old one and its data are deleted"
                };
                format!("stateful resource {may}: the new one starts empty and {old}")
            }
            Danger::StatefulRemoval { retained: true } => {
                "stateful resource removed from the stack: retained (DeletionPolicy Retain), but no longer managed"
                    .to_string()
            }
            Danger::StatefulRemoval { retained: false } => {
                "stateful resource removed: it is deleted with its data".to_string()
            }
            Danger::ReplicaRemoval { regions } => format!(
                "global table replica removed in {}: deleting a replica deletes that region's copy of the table",
                regions.join(", ")
            ),
            Danger::ReplicaBatch { added, removed } => format!(
                "{} replica changes in one update (added: {}; removed: {}): CloudFormation adds or removes only \
                 one replica per update, so this update fails; change one region at a time",
                added.len() + removed.len(),
                list_or_none(added),
                list_or_none(removed)
            ),
            Danger::IamBroadening { detail } => format!("IAM broadening: {detail}"),
            Danger::ConsumerReset { conditional, starting_position } => format!(
                "event source mapping {}: the new mapping starts at {starting_position}{} while the old one still \
                 runs until CloudFormation deletes it, so records are processed again",
                if *conditional { "may be replaced" } else { "is replaced" },
                if starting_position == "TRIM_HORIZON" { " and replays everything the stream retains" } else { "" }
            ),
            Danger::ProtectionWeakened { detail } => format!("data protection weakened: {detail}"),
            Danger::TrafficChange { detail } => format!("traffic: {detail}"),
            Danger::Refused { detail } => format!("CloudFormation will refuse this update: {detail}"),
        }
    }
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() { "none".to_string() } else { items.join(", ") }
}

/// Serialized as `{kind, reason, ...fields}` so machines get both the class and the sentence.
impl Serialize for Danger {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_struct("Danger", 5)?;
        out.serialize_field("kind", self.kind())?;
        out.serialize_field("reason", &self.reason())?;
        out.serialize_field("refused", &self.refuses())?;
        match self {
            Danger::StatefulReplacement { conditional, retained } => {
                out.serialize_field("conditional", conditional)?;
                out.serialize_field("retained", retained)?;
            }
            Danger::StatefulRemoval { retained } => out.serialize_field("retained", retained)?,
            Danger::ReplicaRemoval { regions } => out.serialize_field("regions", regions)?,
            Danger::ReplicaBatch { added, removed } => {
                out.serialize_field("added", added)?;
                out.serialize_field("removed", removed)?;
            }
            Danger::IamBroadening { detail }
            | Danger::ProtectionWeakened { detail }
            | Danger::TrafficChange { detail }
            | Danger::Refused { detail } => out.serialize_field("detail", detail)?,
            Danger::ConsumerReset { conditional, starting_position } => {
                out.serialize_field("conditional", conditional)?;
                out.serialize_field("starting_position", starting_position)?;
            }
        }
        out.end()
    }
}

/// The review of one stack's change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StackReview {
    /// Stack name.
    pub stack: String,
    /// Region it is deployed in.
    pub region: String,
    /// Resource changes, by logical id.
    pub changes: Vec<ResourceChange>,
    /// Template changes outside `Resources` (outputs, parameters, ...), e.g. `Outputs.Url: added`.
    /// CloudFormation executes a change set for these too, so they count as changes.
    pub other_changes: Vec<String>,
    /// Nothing changes at all.
    pub no_changes: bool,
    /// What the review could not take from CloudFormation and predicted instead, and similar.
    pub notes: Vec<String>,
    /// Why the stack could not be reviewed at all (then nothing else here is known).
    pub unreviewable: Option<String>,
}

impl StackReview {
    /// A stack that could not be reviewed, and why.
    pub fn unreviewable(stack: &str, region: &str, why: String) -> StackReview {
        StackReview {
            stack: stack.to_owned(),
            region: region.to_owned(),
            changes: Vec::new(),
            other_changes: Vec::new(),
            no_changes: false,
            notes: Vec::new(),
            unreviewable: Some(why),
        }
    }

    /// Whether any change is dangerous.
    pub fn is_dangerous(&self) -> bool {
        self.changes.iter().any(ResourceChange::is_dangerous)
    }

    /// Whether CloudFormation would refuse any change: the change set must not execute.
    pub fn is_refused(&self) -> bool {
        self.changes.iter().any(ResourceChange::is_refused)
    }

    /// `LogicalId: reason` for every change CloudFormation would refuse.
    pub fn refusals(&self) -> Vec<String> {
        let refused = self.changes.iter().flat_map(|c| c.dangers.iter().filter(|d| d.refuses()).map(move |d| (c, d)));
        refused.map(|(change, danger)| format!("{}: {}", change.logical_id, danger.reason())).collect()
    }

    /// Whether executing would change anything.
    pub fn has_changes(&self) -> bool {
        !self.no_changes
    }
}

/// One resource change as CloudFormation's `DescribeChangeSet` reports it, independent of the SDK.
/// Strings are CloudFormation's own spellings; missing fields stay `None` (moto gives only the
/// action).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CfnChange {
    /// `Add`, `Modify`, `Remove`, `Import`, `Dynamic`, `SyncWithActual`.
    pub action: String,
    /// `LogicalResourceId`.
    pub logical_id: String,
    /// `ResourceType`.
    pub resource_type: String,
    /// `PhysicalResourceId`.
    pub physical_id: Option<String>,
    /// `Replacement`: `True`, `Conditional`, `False`.
    pub replacement: Option<String>,
    /// `Scope`.
    pub scope: Vec<String>,
    /// `Details`.
    pub details: Vec<CfnDetail>,
    /// `BeforeContext` (JSON text, with `IncludePropertyValues`).
    pub before_context: Option<String>,
    /// `AfterContext` (JSON text, with `IncludePropertyValues`).
    pub after_context: Option<String>,
}

/// One `ResourceChangeDetail`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CfnDetail {
    /// `Target.Attribute`: `Properties`, `Metadata`, `Tags`, ...
    pub attribute: Option<String>,
    /// `Target.Name`: the top-level property name.
    pub name: Option<String>,
    /// `Target.Path`, e.g. `/Properties/StreamModeDetails/StreamMode` (newer API versions).
    pub path: Option<String>,
    /// `Target.RequiresRecreation`: `Never`, `Conditionally`, `Always`.
    pub requires_recreation: Option<String>,
    /// `Target.BeforeValue` (with `IncludePropertyValues`; may be truncated).
    pub before: Option<String>,
    /// `Target.AfterValue`.
    pub after: Option<String>,
    /// `ChangeSource`: `ResourceReference`, `ParameterReference`, `DirectModification`, ...
    pub change_source: Option<String>,
    /// `CausingEntity`: the resource or parameter behind a reference change.
    pub causing_entity: Option<String>,
}
