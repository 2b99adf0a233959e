//! Takeover when a region goes down in the local runtime: after a grace period (the time a real
//! operator, or an alarm, would take to call the region lost), the first surviving region takes
//! the lost region's unpublished events over with the same engine code `cargo xtask takeover`
//! runs (`engine::takeover::take_over`). Each step is a line of the run's output and each
//! finished takeover a [`Takeover`] the caller can read. A region that comes back is watched
//! again: its next loss is taken over too. When it returns, its own publisher resumes from its
//! checkpoint and publishes again what the takeover published: duplicate deliveries, which the
//! idempotent consumers acknowledge as no-ops.

use crate::clients::Clients;
use crate::outage::Outages;
use engine::redrive::RateLimit;
use engine::takeover::{DEFAULT_MARGIN, Report, Settings, take_over, targets_with};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;

/// How the runtime takes over a lost region's events.
#[derive(Debug, Clone, Copy)]
pub struct TakeoverSettings {
    /// Whether a region's loss triggers a takeover at all.
    pub enabled: bool,
    /// Time between the loss and the takeover.
    pub grace: Duration,
    /// How far before the lost region's watermark reading starts.
    pub margin: Duration,
    /// The write rate.
    pub limit: RateLimit,
}

impl Default for TakeoverSettings {
    /// On, 3 s after the loss, the engine's margin and rate.
    fn default() -> Self {
        TakeoverSettings {
            enabled: true,
            grace: Duration::from_secs(3),
            margin: DEFAULT_MARGIN,
            limit: RateLimit::default(),
        }
    }
}

/// A takeover the runtime ran.
#[derive(Debug, Clone)]
pub struct Takeover {
    /// The lost region.
    pub from: String,
    /// The region that took over.
    pub to: String,
    /// What it did, or why it failed.
    pub outcome: Result<Report, String>,
}

/// What the watchers share with the runtime.
#[derive(Debug, Clone)]
pub struct Takeovers {
    settings: Arc<Mutex<TakeoverSettings>>,
    done: Arc<Mutex<Vec<Takeover>>>,
    lines: Arc<Mutex<Option<UnboundedSender<String>>>>,
}

impl Default for Takeovers {
    fn default() -> Self {
        Takeovers {
            settings: Arc::new(Mutex::new(TakeoverSettings::default())),
            done: Arc::default(),
            lines: Arc::default(),
        }
    }
}

impl Takeovers {
    /// Replaces the settings (read when a region goes down).
    pub fn configure(&self, settings: TakeoverSettings) {
        *self.settings.lock().unwrap_or_else(PoisonError::into_inner) = settings;
    }

    /// Sends every line of output to `sender` from now on.
    pub fn print_to(&self, sender: UnboundedSender<String>) {
        *self.lines.lock().unwrap_or_else(PoisonError::into_inner) = Some(sender);
    }

    /// The takeovers finished so far.
    pub fn done(&self) -> Vec<Takeover> {
        self.done.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn say(&self, line: &str) {
        if let Some(sender) = self.lines.lock().unwrap_or_else(PoisonError::into_inner).as_ref() {
            let _ = sender.send(line.to_owned());
        }
    }

    /// Watches every region of `regions`: each time one goes down, after the grace period the
    /// first region still up takes its events over (unless it came back within the grace period).
    pub fn watch(&self, clients: &Clients, app: &str, regions: &[String], outages: &Outages) -> Vec<JoinHandle<()>> {
        regions
            .iter()
            .map(|lost| {
                let (this, clients, outages) = (self.clone(), clients.clone(), outages.clone());
                let (app, lost, regions) = (app.to_owned(), lost.clone(), regions.to_vec());
                tokio::spawn(async move {
                    loop {
                        outages.wait_down(&lost).await;
                        this.after_loss(&clients, &app, &lost, &regions, &outages).await;
                        outages.wait_up(&lost).await;
                    }
                })
            })
            .collect()
    }

    async fn after_loss(&self, clients: &Clients, app: &str, lost: &str, regions: &[String], outages: &Outages) {
        let settings = *self.settings.lock().unwrap_or_else(PoisonError::into_inner);
        if !settings.enabled {
            return;
        }
        let down_since = outages.last_outage(lost).map(|o| o.down);
        tokio::time::sleep(settings.grace).await;
        if outages.last_outage(lost).map(|o| (o.down, o.up.is_none())) != down_since.map(|down| (down, true)) {
            self.say(&format!("{lost} came back within {:?}: no takeover", settings.grace));
            return;
        }
        let Some(to) = regions.iter().find(|r| !outages.is_down(r)).cloned() else {
            self.say(&format!("takeover of {lost}: no region is up to take it over"));
            return;
        };
        self.run(clients, app, lost, &to, &settings).await;
    }

    async fn run(&self, clients: &Clients, app: &str, from: &str, to: &str, settings: &TakeoverSettings) {
        self.say(&format!("{from} lost for {:?}: {to} takes its unpublished events over", settings.grace));
        let targets = targets_with(clients.dynamodb(to), clients.kinesis(to), app, from, to);
        let engine_settings = Settings { margin: settings.margin, limit: settings.limit };
        let this = self.clone();
        let outcome = take_over(&targets, &engine_settings, &mut |line| this.say(line)).await;
        let outcome = match outcome {
            Ok(report) => {
                self.say(&format!(
                    "takeover of {from} by {to}: {} published ({} possible duplicates), {} left; up to {}",
                    report.published,
                    report.possible_duplicates,
                    report.left,
                    report.up_to.as_deref().unwrap_or("-")
                ));
                Ok(report)
            }
            Err(error) => {
                self.say(&format!("takeover of {from} by {to} failed: {error}; run `cargo xtask takeover --from {from} --to {to} --force`"));
                Err(error.to_string())
            }
        };
        let takeover = Takeover { from: from.to_owned(), to: to.to_owned(), outcome };
        self.done.lock().unwrap_or_else(PoisonError::into_inner).push(takeover);
    }
}
