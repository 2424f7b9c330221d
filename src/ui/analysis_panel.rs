//! The analysis panel under the timeline: the outliers, latency profiles,
//! goroutine analysis, selected range and MMU tabs over the background
//! analysis of the trace on screen.
//!
//! The panel is where a latency investigation starts, the timeline where it
//! ends: the tabs only *request* a place on the timeline
//! ([`PanelRequest`]), which the app applies after the frame like any other
//! navigation. The panel opens and closes from the View menu and keys (L,
//! G, R, M), and says "Analysing…" until the analysis thread answered. A
//! frame of a latency profile leads to the outliers tab, narrowed to the
//! intervals that began under it.
//! The goroutine filter of the timeline applies to the tabs too.

use std::sync::Arc;

use super::analysis_task::{AnalysisState, AnalysisTask};
use super::details::Picked;
use super::filter::GoroutineFilter;
use super::flame::FlameTab;
use super::goroutines::{Clicked, GoroutinesTab};
use super::mmu::MmuTab;
use super::open::TraceFile;
use super::outliers::{self, OutliersTab};
use super::range_stats::RangeTab;
use crate::analysis::Analysis;
use crate::model::{Lane, LaneKey, TimeSpan, Timeline};
use crate::worker::Worker;

/// Default height of the panel, in points: a histogram and a dozen rows.
const PANEL_HEIGHT: f32 = 300.0;

/// Smallest height the panel can be dragged to, in points: the tab strip
/// and a few rows.
const MIN_HEIGHT: f32 = 120.0;

/// Key of the open tab in eframe's storage: the panel a user works with
/// is open with the next trace too, and what it shows is then decoded
/// first (see `worker::schedule`).
const OPEN_TAB_KEY: &str = "gotv.panel";

/// A tab of the analysis panel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tab {
    /// Latency histograms and the worst intervals.
    Outliers,
    /// Where scheduler waits, blocking and syscalls began, as flame graphs.
    Profiles,
    /// Goroutines by start function.
    Goroutines,
    /// What the selected time range holds.
    Range,
    /// Minimum mutator utilisation.
    Mmu,
}

impl Tab {
    const ALL: [Tab; 5] = [
        Tab::Outliers,
        Tab::Profiles,
        Tab::Goroutines,
        Tab::Range,
        Tab::Mmu,
    ];

    /// The tab's name in storage (as `--panel` names it).
    pub(crate) fn key(self) -> &'static str {
        match self {
            Tab::Outliers => "outliers",
            Tab::Profiles => "profiles",
            Tab::Goroutines => "goroutines",
            Tab::Range => "range",
            Tab::Mmu => "mmu",
        }
    }

    /// Whether the tab shows the goroutine statistics or the mutator
    /// utilisation, which come after the latencies.
    pub(crate) fn needs_statistics(self) -> bool {
        matches!(self, Tab::Goroutines | Tab::Mmu)
    }

    /// Whether the tab shows what the latency analysis finds.
    pub(crate) fn shows_latencies(self) -> bool {
        matches!(self, Tab::Outliers | Tab::Profiles)
    }

    fn title(self) -> &'static str {
        match self {
            Tab::Outliers => "Outliers",
            Tab::Profiles => "Latency profiles",
            Tab::Goroutines => "Goroutine analysis",
            Tab::Range => "Range",
            Tab::Mmu => "MMU",
        }
    }
}

/// Where on the timeline the user asked to go.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum PanelRequest {
    /// Zoom to this interval, scroll to its lane and select it.
    Show(Picked),
    /// Scroll this lane into view.
    Reveal(LaneKey),
    /// Scroll this goroutine's lane into view and, if nothing of its life
    /// is in view, show its life.
    ShowLife(LaneKey),
    /// Zoom to this absolute time range.
    Zoom(i64, i64),
}

/// The panel's state.
#[derive(Debug, Default)]
pub(crate) struct AnalysisPanel {
    /// The tab shown; `None` when the panel is closed.
    open: Option<Tab>,
    outliers: OutliersTab,
    profiles: FlameTab,
    goroutines: GoroutinesTab,
    range: RangeTab,
    mmu: MmuTab,
    /// The timeline's goroutine filter, as of the last [`Self::update`].
    filter: GoroutineFilter,
}

impl AnalysisPanel {
    /// Shows `tab`, or closes the panel if `tab` is what it shows.
    pub(crate) fn toggle(&mut self, tab: Tab) {
        self.open = (self.open != Some(tab)).then_some(tab);
    }

    /// The tab shown, if the panel is open.
    pub(crate) fn open(&self) -> Option<Tab> {
        self.open
    }

    /// Whether the open tab still computes what it shows from `analysis`
    /// (the MMU curve).
    pub(crate) fn computing(&self, analysis: Option<&Arc<Analysis>>) -> bool {
        self.open == Some(Tab::Mmu) && analysis.is_some_and(|a| self.mmu.pending(a))
    }

    /// Forgets what belonged to the previous trace (bin, current outlier).
    pub(crate) fn new_trace(&mut self) {
        self.outliers = OutliersTab::default();
        self.profiles = FlameTab::default();
        self.goroutines = GoroutinesTab::default();
        self.range = RangeTab::default();
        self.mmu = MmuTab::default();
    }

    /// Shows `tab` (a new selection opens the range tab).
    pub(crate) fn show_tab(&mut self, tab: Tab) {
        self.open = Some(tab);
    }

    /// Takes in the timeline's goroutine filter and selection (absolute
    /// times); the range figures are recomputed, if the range tab is open
    /// and any of it changed, over the lanes `shows` keeps.
    pub(crate) fn update(
        &mut self,
        worker: &Worker,
        selection: Option<TimeSpan>,
        filter: &GoroutineFilter,
        shows: impl Fn(&Lane) -> bool,
    ) {
        if self.filter != *filter {
            self.filter = filter.clone();
        }
        self.outliers.set_filter(filter);
        self.goroutines.set_filter(filter);
        if self.open == Some(Tab::Range) {
            self.range.refresh(worker, selection, filter, shows);
        }
    }

    /// The next (or previous) outlier of the table, opening the outliers
    /// tab so the user sees where it is in the list.
    pub(crate) fn step(
        &mut self,
        task: &AnalysisTask,
        timeline: &Timeline,
        forward: bool,
    ) -> Option<PanelRequest> {
        let analysis = task.analysis()?;
        self.open = Some(Tab::Outliers);
        let interval = self.outliers.step(analysis, timeline, forward)?;
        Some(PanelRequest::Show(outliers::picked(&interval, analysis)))
    }

    /// Draws the panel at the bottom of `ui`, if open; `file` is the
    /// trace's source and index, for the passes a tab starts.
    pub(crate) fn show(
        &mut self,
        ui: &mut egui::Ui,
        task: &AnalysisTask,
        timeline: &Timeline,
        origin: i64,
        file: TraceFile<'_>,
    ) -> Option<PanelRequest> {
        self.open?;
        egui::Panel::bottom("analysis")
            .resizable(true)
            .default_size(PANEL_HEIGHT)
            .min_size(MIN_HEIGHT)
            .show(ui, |ui| self.contents(ui, task, timeline, origin, file))
            .inner
    }

    fn contents(
        &mut self,
        ui: &mut egui::Ui,
        task: &AnalysisTask,
        timeline: &Timeline,
        origin: i64,
        file: TraceFile<'_>,
    ) -> Option<PanelRequest> {
        self.tab_strip(ui, task);
        let analysis = match task.state() {
            AnalysisState::Running => {
                // No spinner: it would repaint the whole window every frame
                // for the seconds the pass takes on a large trace, taking a
                // core from the decoding. The result wakes the window.
                progress_label(ui, task, "the trace");
                return None;
            }
            AnalysisState::Failed(message) => {
                let text = format!("The trace could not be analysed: {message}");
                ui.colored_label(ui.visuals().error_fg_color, text);
                return None;
            }
            AnalysisState::Done { analysis, .. } => {
                if self.open.is_some_and(|tab| !task.ready_for(tab)) {
                    // The goroutine statistics and the utilisation come
                    // from a pass after the latencies.
                    progress_label(ui, task, "the goroutines");
                    return None;
                }
                analysis
            }
        };
        match self.open? {
            Tab::Outliers => self
                .outliers
                .ui(ui, analysis, timeline, origin)
                .map(|interval| PanelRequest::Show(outliers::picked(&interval, analysis))),
            Tab::Profiles => {
                if let Some(asked) = self.profiles.ui(ui, analysis) {
                    self.outliers.filter_stack(asked.kind, asked.node);
                    self.open = Some(Tab::Outliers);
                }
                None
            }
            Tab::Goroutines => {
                self.goroutines
                    .ui(ui, analysis, timeline)
                    .map(|clicked| match clicked {
                        Clicked::Group(key) => PanelRequest::Reveal(key),
                        Clicked::Goroutine(key) => PanelRequest::ShowLife(key),
                    })
            }
            Tab::Range => self
                .range
                .ui(ui, analysis, timeline, &self.filter)
                .map(|interval| PanelRequest::Show(outliers::picked(&interval, analysis))),
            Tab::Mmu => self
                .mmu
                .ui(ui, analysis, file)
                .map(|(start, end)| PanelRequest::Zoom(start, end)),
        }
    }

    fn tab_strip(&mut self, ui: &mut egui::Ui, task: &AnalysisTask) {
        ui.horizontal(|ui| {
            let tabs = [
                (Tab::Outliers, "L"),
                (Tab::Profiles, "P"),
                (Tab::Goroutines, "G"),
                (Tab::Range, "R"),
                (Tab::Mmu, "M"),
            ];
            for (tab, key) in tabs {
                let label = ui.selectable_label(self.open == Some(tab), tab.title());
                if label.on_hover_text(key).clicked() {
                    self.open = Some(tab);
                }
            }
            if let AnalysisState::Done {
                error: Some(error), ..
            } = task.state()
            {
                let text = "Analysed up to the damage";
                ui.colored_label(ui.visuals().warn_fg_color, text)
                    .on_hover_text(error);
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if ui.small_button("Close").clicked() {
                    self.open = None;
                }
            });
        });
        ui.separator();
    }
}

/// "Analysing `what`…" and how far, in the panel.
fn progress_label(ui: &mut egui::Ui, task: &AnalysisTask, what: &str) {
    ui.label(match task.progress() {
        Some((done, total)) => {
            format!("Analysing {what}… ({done} of {total} generations read)")
        }
        None => format!("Analysing {what}…"),
    });
}

/// The tab open when gotv last closed, from eframe's storage.
pub(crate) fn saved_tab(storage: Option<&dyn eframe::Storage>) -> Option<Tab> {
    let key: String = eframe::get_value(storage?, OPEN_TAB_KEY)?;
    Tab::ALL.into_iter().find(|tab| tab.key() == key)
}

/// Writes the open tab (`None`: the panel is closed) to eframe's storage.
pub(crate) fn save_tab(storage: &mut dyn eframe::Storage, tab: Option<Tab>) {
    eframe::set_value(storage, OPEN_TAB_KEY, &tab.map_or("", Tab::key));
}

/// "Analysing" and how far, in the status bar while the analysis runs
/// (a bar that moves when the pass wakes the window, not a spinner, for
/// the reason the panel has none either).
pub(crate) fn status(ui: &mut egui::Ui, task: &AnalysisTask, width: f32) {
    if !task.running() {
        return;
    }
    match task.progress() {
        Some((done, total)) => {
            let stage = task.stage();
            // The worker analyses the generations once it has decoded them
            // (unless the outliers are shown: then at once), the statistics
            // pass reads them once the overview is decoded.
            let text = match done {
                0 => format!("Analysing {stage} once decoded"),
                _ => format!("Analysing {stage} {done}/{total}"),
            };
            let bar = egui::ProgressBar::new(done as f32 / total.max(1) as f32)
                .desired_width(width)
                .text(text);
            ui.add(bar);
        }
        None => {
            ui.weak("Analysing…");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    /// eframe's storage, in memory.
    #[derive(Default)]
    struct Memory(HashMap<String, String>);

    impl eframe::Storage for Memory {
        fn get_string(&self, key: &str) -> Option<String> {
            self.0.get(key).cloned()
        }

        fn set_string(&mut self, key: &str, value: String) {
            self.0.insert(key.to_owned(), value);
        }

        fn remove_string(&mut self, key: &str) {
            self.0.remove(key);
        }

        fn flush(&mut self) {}
    }

    #[test]
    fn the_open_tab_is_remembered() {
        let mut storage = Memory::default();
        assert_eq!(saved_tab(Some(&storage)), None, "nothing saved yet");
        assert_eq!(saved_tab(None), None, "no storage");
        for tab in Tab::ALL {
            save_tab(&mut storage, Some(tab));
            assert_eq!(saved_tab(Some(&storage)), Some(tab));
        }
        save_tab(&mut storage, None);
        assert_eq!(saved_tab(Some(&storage)), None, "closed");
        eframe::Storage::set_string(&mut storage, OPEN_TAB_KEY, "\"flame\"".to_owned());
        assert_eq!(saved_tab(Some(&storage)), None, "unknown names are ignored");
    }
}
