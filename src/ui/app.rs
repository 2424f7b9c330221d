//! The application: window layout, the trace being shown, and the one place
//! where commands change state.
//!
//! Each frame: collect what background threads finished ([`Opener::poll`],
//! the worker's decoded generations, the analysis), read keys, draw menu
//! bar, status bar, analysis panel, side panel and timeline — which only
//! *emit* [`Command`]s — then apply the commands, ask for one more frame if
//! anything changed, and tell the worker what is on screen. Nothing here
//! blocks: files are opened, watched, picked, decoded and analysed on other
//! threads, which wake the window when they have news.
//! Without input or news, egui paints nothing.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;

use egui::{Align2, Color32, FontId, RichText, ViewportCommand};

use super::Options;
use super::analysis_panel::{self, AnalysisPanel, PanelRequest, Tab};
use super::axis::{self, format_duration};
use super::details::{self, PanelAction, Picked};
use super::filter_scan;
use super::open::{Event, Opener, Source};
use super::screenshot::{self, Readiness};
use super::session::{Incoming, Session};
use super::shortcuts::{self, KeyAction};
use super::timeline::{self, TimelineState};
use super::timings::Timings;
use super::view::{View, ViewCommand};
use super::wake_chain::{self, Chain};
use crate::model::{LaneKey, TimeSpan, Timeline};
use crate::trace::SharedIndex;
use crate::worker::{Progress, SpanQuery};

/// Default width of the selected span's side panel, in points: fits a
/// function name and a nanosecond timestamp without wrapping.
const DETAILS_WIDTH: f32 = 300.0;

/// Width of the decoding progress bar in the status bar, in points.
const PROGRESS_WIDTH: f32 = 220.0;

/// Width of the goroutine lane filter in the menu bar, in points: room for
/// a package path and a function name.
const FILTER_WIDTH: f32 = 280.0;

/// Room left on each side of a lane's life shown whole (see
/// `GotvApp::show_life`), as a fraction of it: its first and last spans
/// clear of the edges.
const LIFE_MARGIN: f64 = 0.05;

/// Pixels across the view for `GotvApp::show_life`'s question whether a
/// lane shows anything in it: any width answers it; this is about a
/// window's.
const LIFE_CHECK_PX: f64 = 1000.0;

/// Identity of the lane filter's text field, to focus it (Ctrl+F).
const FILTER_ID: &str = "gotv-lane-filter";

/// Something the user asked for, applied after the frame is drawn.
#[derive(Clone, Debug, PartialEq)]
enum Command {
    Open(Source),
    ShowOpenDialog,
    Reload,
    ToggleHelp,
    Escape,
    CloseDetails,
    RevealLane(LaneKey),
    /// Scroll to a lane and, if nothing of it is in view, show when it has
    /// anything (a goroutine: its life).
    ShowLife(LaneKey),
    ZoomToSelection,
    DismissError,
    Quit,
    View(ViewCommand),
    /// Show or hide a tab of the analysis panel.
    TogglePanel(Tab),
    /// The next (`true`) or previous outlier.
    StepOutlier(bool),
    /// Select the span after (`true`) or before the selected one on its
    /// row, keeping it in view.
    StepSpan(bool),
    /// Select the span at the same time in the nearest lane below (`true`)
    /// or above the selected one's that has one, scrolling to it.
    StepLane(bool),
    /// Zoom to an interval, scroll to its lane and select it.
    ShowPicked(Picked),
    /// Show only the goroutines this filter text selects (see `filter`).
    FilterLanes(String),
    /// Hide (`true`) or show goroutines started in package `runtime`.
    HideSystem(bool),
    /// Put the keyboard in the lane filter (Ctrl+F).
    FocusFilter,
}

/// An error shown in place of the timeline until dismissed.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Notice {
    title: String,
    message: String,
    /// Whether "Open another file…" helps (not when the dialog is what failed).
    offer_open: bool,
}

/// What the command line asks the first trace to show (`--range`,
/// `--select`, `--filter`, `--hide-runtime`): what View → Copy Command
/// Line writes.
#[derive(Debug)]
struct Initial {
    range: Option<(i64, i64)>,
    select: Option<(i64, i64)>,
    filter: Option<String>,
    hide_runtime: bool,
}

impl Initial {
    fn apply(self, view: &mut View, state: &mut TimelineState) {
        if let Some((start, end)) = self.range {
            let (start, end) = (start as f64, end as f64);
            view.apply(ViewCommand::Show { start, end }, 0.0);
        }
        if let Some((start, end)) = self.select {
            state.select_range(start as f64, end as f64);
        }
        let filter = state.filter_mut();
        if let Some(text) = self.filter {
            filter.set_text(&text);
        }
        filter.set_hide_system(self.hide_runtime);
    }
}

/// What the worker said about a selected span: its details (or that they
/// are loading) and wake chain.
struct Answered {
    picked: Picked,
    details: SpanQuery,
    chain: Chain,
}

/// The gotv window.
pub struct GotvApp {
    opener: Opener,
    /// The trace on screen.
    session: Option<Session>,
    /// The trace being opened, shown once indexed.
    incoming: Option<Incoming>,
    view: View,
    state: TimelineState,
    /// The outliers and goroutine analysis under the timeline.
    panel: AnalysisPanel,
    notice: Option<Notice>,
    help: bool,
    file_changed: bool,
    /// The selection the range tab was last opened for, to open it for a
    /// new one.
    last_selection: Option<(f64, f64)>,
    /// The command line's view, applied to the first trace that loads.
    initial: Option<Initial>,
    /// The span the last Ctrl+Up/Down selected, and the time it stepped at.
    lane_step: Option<(Picked, i64)>,
    /// What the worker said about the selected span, asked each frame
    /// until ready and then kept: the full detail it came from goes as the
    /// view moves on.
    answered: Option<Answered>,
    screenshot: Option<screenshot::Job>,
    /// `--timings`: the stages of loading reached so far.
    timings: Option<Timings>,
    /// Where `run` reads the process exit code from.
    exit_code: Rc<Cell<u8>>,
}

impl GotvApp {
    /// The app, starting to open `options.file` (or the bundled sample).
    pub fn new(cc: &eframe::CreationContext<'_>, options: Options) -> Self {
        Self::with_exit_code(cc, options, Rc::default())
    }

    /// Like [`Self::new`], reporting the exit code of screenshot mode into `exit_code`.
    pub(crate) fn with_exit_code(
        cc: &eframe::CreationContext<'_>,
        options: Options,
        exit_code: Rc<Cell<u8>>,
    ) -> Self {
        // No animations (fades, folding, scrolling): every frame of one
        // redraws the whole window, which under software GL takes CPU from
        // the decoding, and a trace viewer is better snappy.
        cc.egui_ctx
            .all_styles_mut(|style| style.animation_time = 0.0);
        let opener = Opener::new(cc.egui_ctx.clone(), cc.storage);
        let mut app = Self {
            opener,
            view: View::new(TimeSpan::default()),
            session: None,
            incoming: None,
            state: TimelineState::default(),
            panel: AnalysisPanel::default(),
            notice: None,
            help: false,
            file_changed: false,
            last_selection: None,
            lane_step: None,
            answered: None,
            initial: Some(Initial {
                range: options.range,
                select: options.select,
                filter: options.filter,
                hide_runtime: options.hide_runtime,
            }),
            screenshot: options.screenshot.map(screenshot::Job::new),
            timings: options.timings.map(Timings::new),
            exit_code,
        };
        // The panel last open, unless the command line names one.
        if let Some(tab) = options
            .panel
            .or_else(|| analysis_panel::saved_tab(cc.storage))
        {
            app.panel.toggle(tab);
        }
        let source = options.file.map_or(Source::Bundled, Source::File);
        app.open(source, &cc.egui_ctx);
        app
    }

    /// The visible time range in nanoseconds from the start of the trace
    /// (the numbers `--range` takes).
    pub fn visible_range(&self) -> (i64, i64) {
        let (start, end) = self.view.visible();
        (start.round() as i64, end.round() as i64)
    }

    /// The lane of the selected span, if one is selected.
    pub fn selected_lane(&self) -> Option<LaneKey> {
        self.state.selected().map(|(picked, _)| picked.lane)
    }

    /// The selected span's start and end, in nanoseconds from the start of
    /// the trace (as [`Self::visible_range`] counts), if one is selected.
    pub fn selected_range(&self) -> Option<(i64, i64)> {
        let (picked, _) = self.state.selected()?;
        let origin = self.view.origin();
        Some((picked.start - origin, picked.end - origin))
    }

    /// Shows `start..end`, in nanoseconds from the start of the trace (the
    /// numbers `--range` takes), as zooming to a selection does.
    pub fn show_range(&mut self, start: i64, end: i64) {
        self.view.apply(
            ViewCommand::Show {
                start: start as f64,
                end: end as f64,
            },
            0.0,
        );
    }

    /// `gotv FILE --range START:END` for the trace and view on screen, with
    /// the open analysis panel, the selected range and the goroutine
    /// filter, the path absolute and everything quoted for a POSIX shell;
    /// `None` for the bundled sample.
    fn command_line(&self) -> Option<String> {
        let path = self.session.as_ref()?.loaded.source.path()?;
        let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let (start, end) = self.visible_range();
        let mut line = format!(
            "gotv {} --range {start}:{end}",
            shell_quote(&path.to_string_lossy())
        );
        if let Some(tab) = self.panel.open() {
            line += &format!(" --panel {}", tab.key());
        }
        let selected = self.state.selection().map(|(a, b)| (a.round(), b.round()));
        if let Some((a, b)) = selected.filter(|(a, b)| a < b) {
            line += &format!(" --select {}:{}", a as i64, b as i64);
        }
        let filter = self.state.filter();
        if filter.hide_system() {
            line += " --hide-runtime";
        }
        if !filter.text().trim().is_empty() {
            // `--filter=…`: the text may start with a hyphen.
            line += &format!(" --filter={}", shell_quote(filter.text()));
        }
        Some(line)
    }

    /// Whether the trace is on screen with everything visible decoded and
    /// the goroutine filter's terms answered (what `--screenshot` waits
    /// for).
    pub fn is_ready(&self) -> bool {
        self.readiness() == Readiness::Ready
    }

    /// Whether the latency outliers of the trace on screen are analysed
    /// (the goroutine statistics may still be coming).
    pub fn outliers_ready(&self) -> bool {
        self.session
            .as_ref()
            .is_some_and(|s| s.analysis.analysis().is_some())
    }

    /// How far decoding of the trace on screen is, if one is.
    pub fn progress(&self) -> Option<Progress> {
        self.session.as_ref().map(|s| s.worker.progress())
    }

    /// Starts opening `source`: the opener checks it while the worker indexes it.
    fn open(&mut self, source: Source, ctx: &egui::Context) {
        let index = Arc::<SharedIndex>::default();
        self.opener.open(source.clone(), Arc::clone(&index));
        let first = self.analyses_first();
        self.incoming = Some(Incoming::start((source, index), ctx, first));
    }

    /// Selects the span after (`forward`) or before the selected one on
    /// its row, from the loaded detail, and pans to it if it is out of
    /// view (at the same zoom).
    fn step_span(&mut self, forward: bool, ctx: &egui::Context) {
        let (Some(session), Some((picked, _))) = (&self.session, self.state.selected()) else {
            return;
        };
        let at = (picked.lane, picked.row);
        // From its last piece forward, its first back: a span joined
        // across generations is several spans of the detail.
        let from = match forward {
            true => picked.end.saturating_sub(1).max(picked.start),
            false => picked.start,
        };
        let Some(next) = session.worker.neighbour(at, from, forward) else {
            return;
        };
        let next = Picked::new(picked.lane, &next);
        let origin = self.view.origin();
        let (start, end) = ((next.start - origin) as f64, (next.end - origin) as f64);
        let (a, b) = self.view.visible();
        if start < a || end > b {
            let (start, end) = details::centred((a, b), next.start - origin);
            self.apply(Command::View(ViewCommand::Show { start, end }), ctx);
        }
        self.state.select(next);
    }

    /// Selects the span at the same time in the nearest lane below
    /// (`down`) or above the selected one's with a span then in the loaded
    /// detail, scrolling the lanes as little as shows it. The time is the
    /// selected span's start, or where its visible part begins; a run of
    /// steps keeps the time the first one took, so the selection walks
    /// straight down the lanes.
    fn step_lane(&mut self, down: bool) {
        let (Some(session), Some((picked, _))) = (&self.session, self.state.selected()) else {
            return;
        };
        let t = match &self.lane_step {
            Some((stepped, t)) if stepped == picked => *t,
            _ => {
                let origin = self.view.origin();
                let (a, _) = self.view.visible();
                let visible = origin.saturating_add(a.ceil() as i64);
                visible.clamp(picked.start, picked.end.max(picked.start))
            }
        };
        let worker = &session.worker;
        let span = |key| worker.span_at((key, 0), t);
        let Some((key, item)) = self
            .state
            .lane_beside(worker.timeline(), picked.lane, down, span)
        else {
            return;
        };
        let next = Picked::new(key, &item);
        self.lane_step = Some((next.clone(), t));
        self.state.select(next);
        self.state.scroll_to(key);
    }

    /// Scrolls to lane `key` and, if it shows nothing in view, shows all
    /// it holds (with a margin): a goroutine picked from the goroutine
    /// table is seen alive, not as an empty lane.
    fn show_life(&mut self, key: LaneKey, ctx: &egui::Context) {
        self.state.reveal(key);
        let Some(session) = &self.session else {
            return;
        };
        let origin = self.view.origin();
        let (a, b) = self.view.visible();
        let view = TimeSpan::new(origin + a as i64, origin + b.ceil() as i64);
        let mut items = Vec::new();
        let ns_per_px = (b - a) / LIFE_CHECK_PX;
        session.worker.lane_items(key, view, ns_per_px, &mut items);
        let life = session.worker.lane_extent(key).filter(|_| items.is_empty());
        if let Some(life) = life {
            let (start, end) = ((life.start - origin) as f64, (life.end - origin) as f64);
            let margin = (end - start) * LIFE_MARGIN;
            let (start, end) = (start - margin, end + margin);
            self.apply(Command::View(ViewCommand::Show { start, end }), ctx);
        }
    }

    /// The timeline on screen (empty without a trace).
    fn timeline(&self) -> Option<&Timeline> {
        self.session.as_ref().map(|s| s.worker.timeline())
    }

    fn poll(&mut self, ctx: &egui::Context) {
        for event in self.opener.poll() {
            match event {
                Event::Loaded(loaded) => {
                    if let Some(incoming) =
                        self.incoming.as_mut().filter(|i| i.source == loaded.source)
                    {
                        incoming.accept(loaded);
                    }
                }
                Event::Failed { source, message } => {
                    self.incoming = None;
                    self.notice = Some(Notice {
                        title: format!("Could not open {}", source.name()),
                        message,
                        offer_open: true,
                    });
                }
                Event::Picked(Some(path)) => self.open(Source::File(path), ctx),
                Event::Picked(None) => {}
                Event::NoDialog(message) => {
                    self.notice = Some(Notice {
                        title: "Cannot show a file dialog".to_owned(),
                        message,
                        offer_open: false,
                    });
                }
                Event::Changed => self.file_changed = true,
            }
        }
        // Dropping a file replaces the current trace.
        let dropped = ctx.input(|i| i.raw.dropped_files.last().map(|f| f.path().to_path_buf()));
        if let Some(path) = dropped {
            self.open(Source::File(path), ctx);
        }
        if self.incoming.as_mut().is_some_and(Incoming::poll)
            && let Some(session) = self.incoming.take().and_then(Incoming::into_session)
        {
            self.show_trace(ctx, session);
        }
        if let Some(session) = &mut self.session {
            if session.worker.poll() {
                self.view.refit(session.worker.timeline().span);
            }
            session.analysis.poll();
            if session.worker.progress().is_complete() {
                session.analysis.overview_decoded();
            }
            if self.state.filter().needs_analysis()
                && let Some(analysis) = session.analysis.analysis()
            {
                self.state.filter_mut().resolve(analysis);
            }
            let (filter, origin) = (self.state.filter_mut(), self.view.origin());
            let file = (&session.loaded.source, &session.loaded.index);
            session.filter_scans.update(filter, file, origin, ctx);
        }
    }

    fn show_trace(&mut self, ctx: &egui::Context, session: Session) {
        let loaded = &session.loaded;
        ctx.send_viewport_cmd(ViewportCommand::Title(format!(
            "{} — gotv",
            loaded.source.name()
        )));
        let span = session.worker.timeline().span;
        let reloaded = self
            .session
            .as_ref()
            .is_some_and(|t| t.loaded.source == loaded.source);
        if reloaded {
            // F5 keeps the user where they were; the filter's latency,
            // stack and state terms are resolved again on the new trace.
            self.view = self.view.rebound(span);
            self.state.clear_selected();
            self.state.filter_mut().unresolve();
        } else {
            self.view = View::new(span);
            self.state = TimelineState::default();
            self.panel.new_trace();
        }
        if let Some(initial) = self.initial.take() {
            initial.apply(&mut self.view, &mut self.state);
            // A selection given on the command line leaves the panel as
            // `--panel` says, rather than opening the range tab.
            self.last_selection = self.state.selection();
        }
        self.session = Some(session);
        self.answered = None;
        self.notice = None;
        self.file_changed = false;
    }

    /// Asks the worker about the selected span once a frame until it
    /// answers, then keeps the answer (and the wake chain, followed through
    /// the detail loaded then) and lets the worker release what it held for
    /// it. What the side panel shows: loading, the answer, or nothing (a
    /// fold block, a summary bucket).
    fn answer_selection(&mut self) {
        let Some((picked, _)) = self.state.selected() else {
            self.answered = None;
            if let Some(session) = &self.session {
                session.worker.unpin();
            }
            return;
        };
        if let Some(moved) = self
            .session
            .as_ref()
            .and_then(|s| details::on_its_row(&s.worker, picked))
        {
            self.state.select(moved);
            return;
        }
        let ready = |a: &Answered| matches!(a.details, SpanQuery::Ready(_));
        if self
            .answered
            .as_ref()
            .is_some_and(|a| &a.picked == picked && ready(a))
        {
            return;
        }
        let query = self.session.as_ref().and_then(|s| {
            let details = details::query(&s.worker, picked)?;
            let chain = match &details {
                SpanQuery::Ready(d) => {
                    s.worker.unpin();
                    wake_chain::follow(&s.worker, d)
                }
                _ => (Vec::new(), true),
            };
            Some((details, chain))
        });
        self.answered = query.map(|(details, chain)| Answered {
            picked: picked.clone(),
            details,
            chain,
        });
    }

    fn apply(&mut self, command: Command, ctx: &egui::Context) {
        match command {
            Command::Open(source) => self.open(source, ctx),
            Command::ShowOpenDialog => {
                let current = self.current_path().map(std::path::Path::to_path_buf);
                self.opener.show_dialog(current.as_deref());
            }
            Command::Reload => {
                if let Some(session) = &self.session {
                    self.open(session.loaded.source.clone(), ctx);
                }
            }
            Command::ToggleHelp => self.help = !self.help,
            Command::Escape if self.help => self.help = false,
            Command::Escape => {
                self.state.clear_selection();
                self.state.clear_selected();
            }
            Command::CloseDetails => self.state.clear_selected(),
            Command::RevealLane(key) => self.state.reveal(key),
            Command::ShowLife(key) => self.show_life(key, ctx),
            Command::ZoomToSelection => {
                if let Some((start, end)) = self.state.selection() {
                    self.apply(Command::View(ViewCommand::Show { start, end }), ctx);
                }
            }
            Command::DismissError => self.notice = None,
            Command::Quit => ctx.send_viewport_cmd(ViewportCommand::Close),
            Command::View(command) => {
                let now = ctx.input(|i| i.time);
                self.view.apply(command, now);
            }
            Command::TogglePanel(tab) => self.panel.toggle(tab),
            Command::StepOutlier(forward) => {
                let request = self
                    .session
                    .as_ref()
                    .and_then(|s| self.panel.step(&s.analysis, s.worker.timeline(), forward));
                if let Some(request) = request {
                    self.apply(panel_command(request, self.view.origin()), ctx);
                }
            }
            Command::StepSpan(forward) => self.step_span(forward, ctx),
            Command::StepLane(down) => self.step_lane(down),
            Command::FilterLanes(text) => self.state.filter_mut().set_text(&text),
            Command::HideSystem(hide) => self.state.filter_mut().set_hide_system(hide),
            Command::FocusFilter => {
                ctx.memory_mut(|m| m.request_focus(egui::Id::unique(FILTER_ID)));
            }
            Command::ShowPicked(picked) => {
                let (start, end) = picked.zoom_range(self.view.origin());
                self.apply(Command::View(ViewCommand::Show { start, end }), ctx);
                self.state.reveal(picked.lane);
                self.state.select(picked);
            }
        }
        ctx.request_repaint();
    }

    fn current_path(&self) -> Option<&std::path::Path> {
        match &self.session.as_ref()?.loaded.source {
            Source::File(path) => Some(path),
            Source::Bundled => None,
        }
    }

    fn menu_bar(&self, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                if ui
                    .add(egui::Button::new("Open…").shortcut_text("Ctrl+O"))
                    .clicked()
                {
                    commands.push(Command::ShowOpenDialog);
                }
                ui.menu_button("Open Recent", |ui| {
                    if self.opener.recent().is_empty() {
                        ui.weak("No recent files");
                    }
                    for path in self.opener.recent() {
                        if ui.button(path.display().to_string()).clicked() {
                            commands.push(Command::Open(Source::File(path.clone())));
                        }
                    }
                });
                if ui.button("Open Bundled Sample").clicked() {
                    commands.push(Command::Open(Source::Bundled));
                }
                let reload = egui::Button::new("Reload").shortcut_text("F5");
                if ui.add_enabled(self.session.is_some(), reload).clicked() {
                    commands.push(Command::Reload);
                }
                ui.separator();
                if ui
                    .add(egui::Button::new("Quit").shortcut_text("Ctrl+Q"))
                    .clicked()
                {
                    commands.push(Command::Quit);
                }
            });
            ui.menu_button("View", |ui| {
                let (back, forward) = self.view.can_go();
                let items = [
                    ("Whole Trace", "Home", true, ViewCommand::Fit),
                    ("Back", "Alt+Left", back, ViewCommand::Back),
                    ("Forward", "Alt+Right", forward, ViewCommand::Forward),
                ];
                for (label, keys, enabled, command) in items {
                    let button = egui::Button::new(label).shortcut_text(keys);
                    if ui.add_enabled(enabled, button).clicked() {
                        commands.push(Command::View(command));
                    }
                }
                let zoom = egui::Button::new("Zoom to Selection").shortcut_text("Z");
                if ui
                    .add_enabled(self.state.selection().is_some(), zoom)
                    .clicked()
                {
                    commands.push(Command::ZoomToSelection);
                }
                let command_line = self.command_line();
                let copy = egui::Button::new("Copy Command Line");
                let copy = ui.add_enabled(command_line.is_some(), copy).on_hover_text(
                    "A gotv command that opens this trace at this view: to share it or note it down",
                );
                if let (true, Some(command_line)) = (copy.clicked(), command_line) {
                    ui.ctx().copy_text(command_line);
                }
                ui.separator();
                self.analysis_menu(ui, commands);
            });
            ui.menu_button("Help", |ui| {
                if ui
                    .add(egui::Button::new("Shortcuts and Colours").shortcut_text("?"))
                    .clicked()
                {
                    commands.push(Command::ToggleHelp);
                }
            });
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                self.lane_filter(ui, commands);
            });
        });
    }

    /// The goroutine filter: the "Hide runtime" toggle, its text field (the
    /// syntax in its tooltip) and what its terms found (right to left).
    fn lane_filter(&self, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
        let mut hide = self.state.filter().hide_system();
        let toggle = ui
            .checkbox(&mut hide, "Hide runtime")
            .on_hover_text("Hide goroutines started in package runtime");
        if toggle.changed() {
            commands.push(Command::HideSystem(hide));
        }
        let mut text = self.state.filter().text().to_owned();
        let edit = egui::TextEdit::singleline(&mut text)
            .id(egui::Id::unique(FILTER_ID))
            .hint_text("Filter: function, g:123, >10ms, stack:, state: (Ctrl+F)")
            .desired_width(FILTER_WIDTH);
        if ui
            .add(edit)
            .on_hover_ui(shortcuts::filter_help_ui)
            .changed()
        {
            commands.push(Command::FilterLanes(text));
        }
        let scans = self.session.as_ref().map(|s| &s.filter_scans);
        filter_scan::status_ui(ui, self.state.filter(), scans, self.goroutines_shown());
    }

    /// How many goroutine lanes the filter shows, when it is active.
    fn goroutines_shown(&self) -> Option<usize> {
        self.timeline()?;
        let shown = self.state.goroutines_laid_out().unwrap_or(0);
        self.state.filter().is_active().then_some(shown)
    }

    /// The View menu's entries of the analysis panel.
    fn analysis_menu(&self, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
        let open = self.panel.open();
        for (tab, label, key) in [
            (Tab::Outliers, "Outliers", "L"),
            (Tab::Profiles, "Latency Profiles", "P"),
            (Tab::Goroutines, "Goroutine Analysis", "G"),
            (Tab::Range, "Selected Range", "R"),
            (Tab::Mmu, "Minimum Mutator Utilisation", "M"),
        ] {
            let button = egui::Button::selectable(open == Some(tab), label).shortcut_text(key);
            if ui.add(button).clicked() {
                commands.push(Command::TogglePanel(tab));
            }
        }
        let analysed = self.outliers_ready();
        for (label, key, forward) in [
            ("Next Outlier", "N", true),
            ("Previous Outlier", "Shift+N", false),
        ] {
            let button = egui::Button::new(label).shortcut_text(key);
            if ui.add_enabled(analysed, button).clicked() {
                commands.push(Command::StepOutlier(forward));
            }
        }
    }

    /// The analysis panel under the timeline, if open. A new selection
    /// (once the drag ends) opens its range tab.
    fn analysis_panel(&mut self, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
        let Some(session) = &self.session else {
            return;
        };
        let origin = self.view.origin();
        let selection = self.state.selection();
        if !self.state.is_selecting() && selection != self.last_selection {
            self.last_selection = selection;
            if selection.is_some() {
                self.panel.show_tab(Tab::Range);
            }
        }
        let absolute = selection
            .filter(|_| !self.state.is_selecting())
            .map(|(a, b)| TimeSpan::new(origin + a as i64, origin + b.ceil() as i64));
        let state = &self.state;
        let names = &session.worker.timeline().names;
        self.panel
            .update(&session.worker, absolute, state.filter(), |lane| {
                state.shows(lane, names)
            });
        let timeline = session.worker.timeline();
        let file = (&session.loaded.source, &session.loaded.index);
        if let Some(request) = self
            .panel
            .show(ui, &session.analysis, timeline, origin, file)
        {
            commands.push(panel_command(request, origin));
        }
    }

    fn status_bar(&self, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
        // The right end first, so that it keeps its room however long the
        // rest gets (a damaged trace's notes, a wall clock to the
        // nanosecond): the rest fills what is left, its last item cut short.
        ui.horizontal(|ui| {
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if ui
                    .small_button("?")
                    .on_hover_text("Keyboard shortcuts")
                    .clicked()
                {
                    commands.push(Command::ToggleHelp);
                }
                if self.file_changed {
                    let hint = RichText::new("File changed on disk — F5 to reload")
                        .color(ui.visuals().warn_fg_color);
                    if ui.link(hint).clicked() {
                        commands.push(Command::Reload);
                    }
                }
                let left_to_right = egui::Layout::left_to_right(egui::Align::Center);
                ui.with_layout(left_to_right, |ui| self.status_items(ui));
            });
        });
    }

    /// The status bar left of its right end: the trace, its loading and
    /// analysis, the view, the selection, the cursor and the wall clock.
    fn status_items(&self, ui: &mut egui::Ui) {
        match (&self.session, &self.incoming) {
            (_, Some(incoming)) => {
                opening_spinner(ui, incoming.started);
                ui.label(format!("Opening {}…", incoming.source.name()));
            }
            (Some(session), None) => {
                let trace = &session.loaded;
                ui.strong(trace.source.name());
                ui.weak(format!(
                    "{} trace · {} · {} generations",
                    trace.version,
                    format_size(trace.size),
                    trace.generations
                ));
                if let Some(damage) = &trace.damage {
                    // Short: the status bar also holds the view, the
                    // cursor and the wall clock.
                    let text = RichText::new("Damaged: shown up to the damage")
                        .color(ui.visuals().warn_fg_color);
                    let why = format!("Only the part before the damage can be shown: {damage}");
                    ui.label(text).on_hover_text(why);
                }
                decoding_status(ui, session);
                analysis_panel::status(ui, &session.analysis, PROGRESS_WIDTH);
            }
            (None, None) => {
                ui.weak("No trace");
            }
        }
        let Some(timeline) = self.timeline() else {
            return;
        };
        ui.separator();
        let (start, end) = self.view.visible();
        ui.label(axis::format_range(start, end));
        if let Some((a, b)) = self.state.selection() {
            ui.separator();
            ui.label(format!("Selection {}", format_duration(b - a)));
        }
        if let Some(t) = self.state.hover() {
            ui.separator();
            let cursor = axis::format_time_in(t, end - start);
            ui.weak(format!("Cursor {cursor}"));
            if let Some(g) = generation_at(timeline, self.view.origin(), t) {
                ui.weak(format!("Generation {g}"));
            }
        }
        let at = self.state.hover().unwrap_or(start);
        if let Some(wall) = timeline.wall_clock(self.view.origin() + at.round() as i64) {
            ui.separator();
            let text = RichText::new(axis::format_wall(wall)).weak();
            ui.add(egui::Label::new(text).truncate()).on_hover_text(
                "Wall clock at the cursor, or at the left edge of the view \
                     (from the trace's clock snapshots, Go 1.25+)",
            );
        }
    }

    /// Whether the latency analyses come before the overview: while the
    /// panel shows what they find.
    fn analyses_first(&self) -> bool {
        self.panel.open().is_some_and(Tab::shows_latencies)
    }

    fn central(&mut self, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
        let first = self.analyses_first();
        if let Some(notice) = &self.notice {
            self.state.clear_hover();
            error_panel(ui, notice, self.session.is_some(), commands);
        } else if let Some(session) = &mut self.session {
            let output = timeline::show(ui, &self.view, &session.worker, &mut self.state);
            commands.extend(output.commands.into_iter().map(Command::View));
            session.worker.set_viewport(output.viewport);
            session.worker.set_analyses_first(first);
        } else if let Some(incoming) = &self.incoming {
            let since = incoming.started;
            ui.centered_and_justified(|ui| opening_spinner(ui, since));
        } else {
            ui.centered_and_justified(|ui| ui.spinner());
        }
    }

    fn overlays(&self, ctx: &egui::Context, commands: &mut Vec<Command>) {
        if self.help {
            let modal =
                egui::Modal::new(egui::Id::unique("gotv-shortcuts")).show(ctx, shortcuts::help_ui);
            if modal.should_close() {
                commands.push(Command::ToggleHelp);
            }
        }
        if ctx.input(|i| !i.raw.hovered_files.is_empty()) {
            let rect = ctx.content_rect();
            let painter = ctx.layer_painter(egui::LayerId::new(
                egui::Order::Foreground,
                egui::Id::unique("gotv-drop-hint"),
            ));
            painter.rect_filled(rect, 0.0, Color32::from_black_alpha(180));
            painter.text(
                rect.center(),
                Align2::CENTER_CENTER,
                "Drop a Go trace to open it",
                FontId::proportional(28.0),
                Color32::WHITE,
            );
        }
    }

    fn readiness(&self) -> Readiness {
        let loading = self.opener.loading().is_some() || self.incoming.is_some();
        match (self.timeline(), &self.notice, loading) {
            (_, _, true) => Readiness::Loading,
            (_, Some(_), false) => Readiness::Failed,
            (Some(timeline), None, false)
                if timeline.pending == 0
                    && self.panel_ready()
                    && self.state.filter().is_settled(self.view.origin()) =>
            {
                Readiness::Ready
            }
            _ => Readiness::Loading,
        }
    }

    /// Whether the analysis panel, if open, has what it shows.
    fn panel_ready(&self) -> bool {
        let analysis = self.session.as_ref().map(|s| &s.analysis);
        match (self.panel.open(), analysis) {
            (Some(tab), Some(task)) => {
                task.ready_for(tab) && !self.panel.computing(task.analysis())
            }
            _ => true,
        }
    }

    /// The side panel of the selected span, if one is selected.
    ///
    /// The panel opens once a double-click can no longer follow the click
    /// that selected the span: opening it at once would narrow the timeline
    /// under the pointer, and the second click of a double-click (zoom to
    /// the span) would land on another time.
    fn details_panel(&self, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
        let (Some((picked, since)), Some(timeline)) = (self.state.selected(), self.timeline())
        else {
            return;
        };
        let now = ui.input(|i| i.time);
        let delay = ui.ctx().options(|o| o.input_options.max_double_click_delay);
        let wait = since + delay - now;
        if wait > 0.0 {
            ui.ctx().request_repaint_after_secs(wait as f32);
            return;
        }
        let origin = self.view.origin();
        let no_chain = (Vec::new(), true);
        let details = match self.answered.as_ref().filter(|a| &a.picked == picked) {
            Some(a) => (Some(&a.details), &a.chain),
            None => (None, &no_chain),
        };
        // Drawn, a span may be cut where a detail window meets a summary.
        let picked = &match details.0 {
            Some(SpanQuery::Ready(d)) => picked.whole(d),
            _ => picked.clone(),
        };
        let trace = self.session.as_ref().and_then(|s| s.loaded.source.path());
        let panel = egui::Panel::right("details")
            .resizable(true)
            .default_size(DETAILS_WIDTH)
            .show(ui, |ui| {
                details::panel(ui, (picked, trace), timeline, origin, details)
            });
        match panel.inner {
            Some(PanelAction::Zoom) => {
                let (start, end) = picked.zoom_range(origin);
                commands.push(Command::View(ViewCommand::Show { start, end }));
            }
            Some(PanelAction::Close) => commands.push(Command::CloseDetails),
            Some(PanelAction::ShowChildren(g)) => {
                commands.push(Command::FilterLanes(format!("parent:G{g}")));
            }
            Some(PanelAction::Reveal(key)) => commands.push(Command::RevealLane(key)),
            Some(PanelAction::RevealAt(key, at)) => {
                let (start, end) = details::centred(self.view.visible(), at - origin);
                commands.push(Command::View(ViewCommand::Show { start, end }));
                commands.push(Command::RevealLane(key));
            }
            None => {}
        }
    }
}

impl eframe::App for GotvApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        self.poll(&ctx);
        self.answer_selection();

        let (keys, view_keys) = shortcuts::read(&ctx);
        let mut commands: Vec<Command> = keys.into_iter().map(from_key).collect();
        commands.extend(view_keys.into_iter().map(Command::View));
        let (start, end) = self.view.visible();
        let anchor = self.state.hover().unwrap_or((start + end) / 2.0);
        commands.extend(
            shortcuts::held(&ctx, anchor, end - start)
                .into_iter()
                .map(Command::View),
        );

        egui::Panel::top("menu").show(ui, |ui| self.menu_bar(ui, &mut commands));
        egui::Panel::bottom("status").show(ui, |ui| self.status_bar(ui, &mut commands));
        self.analysis_panel(ui, &mut commands);
        self.details_panel(ui, &mut commands);
        egui::CentralPanel::default().show(ui, |ui| self.central(ui, &mut commands));
        self.overlays(&ctx, &mut commands);

        for command in commands {
            self.apply(command, &ctx);
        }
        if let Some(timings) = &mut self.timings {
            timings.frame(self.session.as_ref());
        }
        let readiness = self.readiness();
        if let Some(job) = &mut self.screenshot
            && let Some(code) = job.step(&ctx, readiness)
        {
            self.exit_code.set(code);
        }
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        // A screenshot run must leave no trace in the user's settings.
        if self.screenshot.is_none() {
            self.opener.save(storage);
            analysis_panel::save_tab(storage, self.panel.open());
        }
    }

    fn raw_input_hook(&mut self, _ctx: &egui::Context, raw_input: &mut egui::RawInput) {
        // A screenshot must not depend on where the display's pointer happens
        // to be (Xvfb puts it in the middle of the window): no hover line, no
        // tooltip.
        if self.screenshot.is_some() {
            raw_input.events.retain(|e| {
                !matches!(
                    e,
                    egui::Event::PointerMoved(_)
                        | egui::Event::MouseMoved(_)
                        | egui::Event::PointerButton { .. }
                )
            });
        }
    }

    fn clear_color(&self, visuals: &egui::Visuals) -> [f32; 4] {
        visuals.panel_fill.to_normalized_gamma_f32()
    }
}

fn from_key(action: KeyAction) -> Command {
    match action {
        KeyAction::Open => Command::ShowOpenDialog,
        KeyAction::Reload => Command::Reload,
        KeyAction::ZoomToSelection => Command::ZoomToSelection,
        KeyAction::Escape => Command::Escape,
        KeyAction::ToggleHelp => Command::ToggleHelp,
        KeyAction::Quit => Command::Quit,
        KeyAction::ToggleOutliers => Command::TogglePanel(Tab::Outliers),
        KeyAction::ToggleProfiles => Command::TogglePanel(Tab::Profiles),
        KeyAction::ToggleGoroutines => Command::TogglePanel(Tab::Goroutines),
        KeyAction::ToggleRange => Command::TogglePanel(Tab::Range),
        KeyAction::ToggleMmu => Command::TogglePanel(Tab::Mmu),
        KeyAction::NextOutlier(forward) => Command::StepOutlier(forward),
        KeyAction::StepSpan(forward) => Command::StepSpan(forward),
        KeyAction::StepLane(down) => Command::StepLane(down),
        KeyAction::FocusFilter => Command::FocusFilter,
    }
}

/// What the app does for a request of the analysis panel; `origin` is
/// where the view's relative times count from.
fn panel_command(request: PanelRequest, origin: i64) -> Command {
    match request {
        PanelRequest::Show(picked) => Command::ShowPicked(picked),
        PanelRequest::Reveal(key) => Command::RevealLane(key),
        PanelRequest::ShowLife(key) => Command::ShowLife(key),
        PanelRequest::Zoom(start, end) => Command::View(ViewCommand::Show {
            start: (start - origin) as f64,
            end: (end - origin) as f64,
        }),
    }
}

/// Shows an error in words, with ways out. Generic over the message: the
/// decoder's errors will come through here too.
fn error_panel(ui: &mut egui::Ui, notice: &Notice, has_trace: bool, commands: &mut Vec<Command>) {
    ui.vertical_centered(|ui| {
        ui.add_space(ui.available_height() / 4.0);
        ui.label(
            RichText::new(&notice.title)
                .heading()
                .color(ui.visuals().error_fg_color),
        );
        ui.add_space(8.0);
        ui.label(&notice.message);
        ui.add_space(16.0);
        ui.horizontal(|ui| {
            // Centre the buttons: egui cannot centre a horizontal row by itself.
            let buttons_width = if notice.offer_open { 260.0 } else { 120.0 };
            ui.add_space((ui.available_width() - buttons_width).max(0.0) / 2.0);
            if notice.offer_open && ui.button("Open another file…").clicked() {
                commands.push(Command::ShowOpenDialog);
            }
            let back = if has_trace {
                "Back to the trace"
            } else {
                "Open the sample"
            };
            if ui.button(back).clicked() {
                commands.push(if has_trace {
                    Command::DismissError
                } else {
                    Command::Open(Source::Bundled)
                });
            }
        });
    });
}

/// Decoding progress and failures in the status bar: a bar while
/// generations are being decoded, a warning when some could not be.
fn decoding_status(ui: &mut egui::Ui, session: &Session) {
    let Progress { done, total } = session.worker.progress();
    if done < total {
        let bar = egui::ProgressBar::new(done as f32 / total.max(1) as f32)
            .desired_width(PROGRESS_WIDTH)
            .text(format!("Decoding {done}/{total} generations"));
        ui.add(bar);
    }
    let errors = session.worker.errors();
    if !errors.is_empty() {
        let text = match errors.len() {
            1 => "1 part could not be read".to_owned(),
            n => format!("{n} parts could not be read"),
        };
        let details: Vec<String> = errors
            .iter()
            .map(|e| match e.generation {
                Some(g) => format!("Generation {g}: {}", e.message),
                None => e.message.clone(),
            })
            .collect();
        ui.label(RichText::new(text).color(ui.visuals().error_fg_color))
            .on_hover_text(details.join("\n"));
    }
}

/// Index of the generation containing relative time `t`.
fn generation_at(timeline: &Timeline, origin: i64, t: f64) -> Option<usize> {
    let abs = origin.saturating_add(t as i64);
    let i = timeline
        .generations
        .partition_point(|g: &TimeSpan| g.end <= abs);
    timeline
        .generations
        .get(i)
        .filter(|g| g.start <= abs)
        .map(|_| i)
}

/// `4.2 KiB`, `118 MiB`.
pub(crate) fn format_size(bytes: u64) -> String {
    let mut value = bytes as f64;
    for unit in ["B", "KiB", "MiB", "GiB"] {
        if value < 1024.0 {
            return if unit == "B" {
                format!("{bytes} B")
            } else {
                format!("{value:.1} {unit}")
            };
        }
        value /= 1024.0;
    }
    format!("{value:.1} TiB")
}

/// How long opening a file goes on before a spinner says so. Indexing even
/// a gigabyte trace takes a fifth of a second, and a spinner repaints the
/// window every frame: under software rendering, that takes CPU from the
/// indexing the user waits for.
const SPINNER_DELAY: f64 = 0.5;

/// A spinner for an open that began at `since` (egui time), once it has
/// gone on for [`SPINNER_DELAY`].
fn opening_spinner(ui: &mut egui::Ui, since: f64) {
    let waited = ui.input(|i| i.time) - since;
    if waited >= SPINNER_DELAY {
        ui.spinner();
    } else {
        ui.ctx()
            .request_repaint_after_secs((SPINNER_DELAY - waited) as f32);
    }
}

/// `text` as one word for a POSIX shell: bare if it is made of characters
/// no shell treats specially, else in single quotes (a quote inside ends
/// the quoting, is escaped, and starts it again).
fn shell_quote(text: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-+:,@%".contains(c);
    if !text.is_empty() && text.chars().all(plain) {
        return text.to_owned();
    }
    format!("'{}'", text.replace('\'', "'\\''"))
}

#[cfg(test)]
mod tests {
    use super::shell_quote;

    #[test]
    fn paths_are_quoted_for_a_shell() {
        assert_eq!(shell_quote("/tmp/trace.out"), "/tmp/trace.out");
        assert_eq!(shell_quote("/tmp/my trace.out"), "'/tmp/my trace.out'");
        assert_eq!(shell_quote("/tmp/it's $HOME"), r"'/tmp/it'\''s $HOME'");
        assert_eq!(shell_quote(""), "''");
    }
}
