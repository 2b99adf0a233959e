//! `regions.toml` edited in place with `toml_edit`: a `[[region]]` entry appended after the last
//! one, or one entry taken out, every other byte (comments, blank lines, key order, quoting) as it
//! was. The edited text is validated by the same parser as every command before anyone writes it,
//! so an edit that would break the config fails with the file, line and field.

use stacks::AppConfig;
use stacks::config::ConfigErrors;
use toml_edit::{ArrayOfTables, DocumentMut, Item, Table, value};

/// The fewest regions an active-active app keeps without `--force`.
pub const MIN_REGIONS: usize = 2;

/// Why an edit is refused; nothing is written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    /// The file (as it is, or as edited) does not validate.
    #[error(transparent)]
    Invalid(#[from] ConfigErrors),
    /// The file is not TOML `toml_edit` can keep the layout of.
    #[error("{file}: {message}")]
    Unparsable {
        /// The file.
        file: String,
        /// The parser's message.
        message: String,
    },
    /// The region to add is there already.
    #[error(
        "{file}: {region} is already a [[region]] of the app; if an earlier `region add {region} --apply` stopped, \
         continue it with `cargo xtask region add {region} --resume`"
    )]
    AlreadyConfigured {
        /// The file.
        file: String,
        /// The region.
        region: String,
    },
    /// The region to remove is not there.
    #[error("{file}: {region} is not a [[region]] of the app ({known})")]
    NotConfigured {
        /// The file.
        file: String,
        /// The region.
        region: String,
        /// The configured regions.
        known: String,
    },
    /// The home region cannot be removed.
    #[error(
        "{file}: {region} is the home region: its data stack manages every global table, and CloudFormation can \
         neither remove the replica in the stack's own region nor manage a global table from two stacks. Move home \
         first: set `home` to another region, let that region's data stack take over the tables (import them with \
         their DeletionPolicy kept), deploy, then run `region remove {region}` again"
    )]
    HomeRegion {
        /// The file.
        file: String,
        /// The region.
        region: String,
    },
    /// Removing the region would leave fewer than two.
    #[error(
        "{file}: removing {region} leaves {left} region(s); active-active needs at least {MIN_REGIONS} so that one \
         can take over from the other. Add another region first, or pass --force to go below {MIN_REGIONS}"
    )]
    TooFewRegions {
        /// The file.
        file: String,
        /// The region.
        region: String,
        /// Regions left.
        left: usize,
    },
}

/// A region to add, with its certificate for the regional API domain (needed with `[dns]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRegion {
    /// The region code.
    pub name: String,
    /// The ACM certificate ARN in that region.
    pub certificate_arn: Option<String>,
}

/// A validated edit: the text to write and the config it describes.
#[derive(Debug, Clone)]
pub struct Edited {
    /// The new file content.
    pub text: String,
    /// The config before the edit.
    pub before: AppConfig,
    /// The config after the edit.
    pub after: AppConfig,
}

/// Appends a `[[region]]` entry per region in `regions`, in that order, after the last one.
pub fn add_regions(file: &str, text: &str, regions: &[NewRegion]) -> Result<Edited, EditError> {
    let before = AppConfig::from_toml(file, text)?;
    let mut document = parse(file, text)?;
    let entries = region_entries(file, &mut document)?;
    for region in regions {
        if before.region_names().any(|r| r == region.name) || names(entries).any(|r| r == region.name) {
            return Err(EditError::AlreadyConfigured { file: file.to_owned(), region: region.name.clone() });
        }
        let mut table = Table::new();
        table.insert("name", value(region.name.as_str()));
        if let Some(arn) = &region.certificate_arn {
            table.insert("certificate_arn", value(arn.as_str()));
        }
        // One blank line before the header, as `[[region]]` entries are usually written.
        table.decor_mut().set_prefix("\n");
        entries.push(table);
    }
    let added: Vec<&str> = regions.iter().map(|r| r.name.as_str()).collect();
    finish(file, document, before, &format!("adding {}", added.join(", ")))
}

/// Takes `region`'s `[[region]]` entry (with the comments above it) out. Refuses the home region,
/// and going below [`MIN_REGIONS`] unless `force`.
pub fn remove_region(file: &str, text: &str, region: &str, force: bool) -> Result<Edited, EditError> {
    let before = AppConfig::from_toml(file, text)?;
    let refuse_home = || EditError::HomeRegion { file: file.to_owned(), region: region.to_owned() };
    if before.home == region {
        return Err(refuse_home());
    }
    let left = before.regions.len().saturating_sub(1);
    let mut document = parse(file, text)?;
    let entries = region_entries(file, &mut document)?;
    let Some(index) = names(entries).position(|r| r == region) else {
        let known = before.region_names().collect::<Vec<_>>().join(", ");
        return Err(EditError::NotConfigured { file: file.to_owned(), region: region.to_owned(), known });
    };
    if left < MIN_REGIONS && !force {
        return Err(EditError::TooFewRegions { file: file.to_owned(), region: region.to_owned(), left });
    }
    entries.remove(index);
    finish(file, document, before, &format!("removing {region}"))
}

fn parse(file: &str, text: &str) -> Result<DocumentMut, EditError> {
    text.parse::<DocumentMut>()
        .map_err(|error| EditError::Unparsable { file: file.to_owned(), message: error.to_string() })
}

/// The `[[region]]` array of tables.
fn region_entries<'d>(file: &str, document: &'d mut DocumentMut) -> Result<&'d mut ArrayOfTables, EditError> {
    document.get_mut("region").and_then(Item::as_array_of_tables_mut).ok_or_else(|| EditError::Unparsable {
        file: file.to_owned(),
        message: "region: the regions are not written as [[region]] tables; write each one as a [[region]] table \
                  so that it can be edited in place"
            .into(),
    })
}

fn names(entries: &ArrayOfTables) -> impl Iterator<Item = &str> {
    entries.iter().filter_map(|t| t.get("name").and_then(Item::as_str))
}

/// Validates the edited text with the config parser; errors name the edited file's lines.
fn finish(file: &str, document: DocumentMut, before: AppConfig, what: &str) -> Result<Edited, EditError> {
    let text = document.to_string();
    let after = AppConfig::from_toml(&format!("{file} (after {what})"), &text)?;
    Ok(Edited { text, before, after })
}

#[cfg(test)]
#[path = "edit_tests.rs"]
mod tests;
