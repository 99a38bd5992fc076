//! The Windows service: installing it with the service control manager (automatic,
//! delayed start; restarted 10 s, 60 s and 5 min after a failure; LocalSystem; the
//! absolute config path in its command line; the Event Log source; a service the
//! Windows installer registered completes these itself at its start), removing,
//! starting, stopping and querying it, and `service run`, the process the manager
//! starts: the daemon of `run`, with Stop, Shutdown and Preshutdown as its stop
//! request, StartPending → Running → StopPending (with checkpoints while copies
//! finish) → Stopped with the exit code, and the Event Log told what matters.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use windows_service::service::{
    ServiceAccess, ServiceAction, ServiceActionType, ServiceControl, ServiceControlAccept, ServiceErrorControl,
    ServiceExitCode, ServiceFailureActions, ServiceFailureResetPeriod, ServiceInfo, ServiceStartType, ServiceState,
    ServiceStatus, ServiceType,
};
use windows_service::service_control_handler::{self, ServiceControlHandlerResult, ServiceStatusHandle};
use windows_service::service_manager::{ServiceManager, ServiceManagerAccess};
use windows_service::{define_windows_service, service_dispatcher};

use super::eventlog::{self, EventLog, Level};
use super::{Account, Failed, ServiceResult};
use crate::config::Config;
use crate::engine::mode::Mode;
use crate::engine::supervisor::Supervisor;
use crate::rules::alert::{Change, Event};

const DISPLAY_NAME: &str = "cctv-mirror (CCTV recordings backup)";
const DESCRIPTION: &str =
    "Keeps a second, safe copy of the CCTV recordings on the backup disk for the retention period. \
     What it does is in its log folder; alerts also go to the Application event log.";

/// Windows error codes the service commands meet.
const SERVICE_DOES_NOT_EXIST: i32 = 1060;
const SERVICE_ALREADY_RUNNING: i32 = 1056;
const SERVICE_NOT_ACTIVE: i32 = 1062;
const SERVICE_CANNOT_ACCEPT_CTRL: i32 = 1061;
const SERVICE_EXISTS: i32 = 1073;
const NOT_STARTED_BY_SCM: i32 = 1063;

fn os_code(e: &windows_service::Error) -> Option<i32> {
    match e {
        windows_service::Error::Winapi(io) => io.raw_os_error(),
        _ => None,
    }
}

fn manager(access: ServiceManagerAccess) -> Result<ServiceManager, Failed> {
    ServiceManager::local_computer(None::<&str>, access).map_err(|e| {
        Failed::cannot_run(format!(
            "cannot reach the service manager: {e} (run the console as administrator)"
        ))
    })
}

pub fn install(cfg: &Config, name: &str, account: &Account) -> ServiceResult {
    let exe =
        std::env::current_exe().map_err(|e| Failed::cannot_run(format!("cannot find this program's path: {e}")))?;
    let mgr = manager(ServiceManagerAccess::CONNECT | ServiceManagerAccess::CREATE_SERVICE)?;
    let info = ServiceInfo {
        name: name.into(),
        display_name: if name == super::DEFAULT_NAME {
            DISPLAY_NAME.into()
        } else {
            format!("{DISPLAY_NAME}: {name}").into()
        },
        service_type: ServiceType::OWN_PROCESS,
        start_type: ServiceStartType::AutoStart,
        error_control: ServiceErrorControl::Normal,
        executable_path: exe.clone(),
        launch_arguments: vec![
            "service".into(),
            "run".into(),
            "--config".into(),
            cfg.file.clone().into_os_string(),
            "--name".into(),
            name.into(),
        ],
        dependencies: vec![],
        account_name: account.name.as_ref().map(Into::into),
        account_password: account.password.as_ref().map(Into::into),
    };
    let access = ServiceAccess::CHANGE_CONFIG | ServiceAccess::QUERY_STATUS;
    let service = mgr.create_service(&info, access).map_err(|e| match os_code(&e) {
        Some(SERVICE_EXISTS) => Failed::bad_usage(format!(
            "the service {name} is already installed; run `cctv-mirror service uninstall --name {name}` first"
        )),
        _ => Failed::cannot_run(format!("cannot create the service {name}: {}", describe(&e))),
    })?;
    let mut warnings = Vec::new();
    if let Err(e) = service.set_description(DESCRIPTION) {
        warnings.push(format!("cannot set the description: {}", describe(&e)));
    }
    warnings.extend(recovery(&service));
    if let Err(e) = eventlog::register(name, &exe) {
        warnings.push(format!("cannot register the Event Log source: {e}"));
    }
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    Ok(format!(
        "installed the service {name} as {}: starts at boot, restarted after a failure, config {}; start it now with `cctv-mirror service start`",
        account.name.as_deref().unwrap_or("LocalSystem"),
        cfg.file.display()
    ))
}

/// Sets the delayed start and the restarts after a failure (a failure exit included);
/// returns what the service manager refused, one line each.
fn recovery(service: &windows_service::service::Service) -> Vec<String> {
    let mut refused = Vec::new();
    let mut note = |what: &str, r: windows_service::Result<()>| {
        if let Err(e) = r {
            refused.push(format!("{what}: {}", describe(&e)));
        }
    };
    note(
        "cannot set a delayed automatic start (it starts at boot without delay)",
        service.set_delayed_auto_start(true),
    );
    note(
        "cannot set the restart-after-failure actions",
        service.update_failure_actions(restarts()),
    );
    note(
        "cannot apply the restart actions to a failure exit",
        service.set_failure_actions_on_non_crash_failures(true),
    );
    refused
}

/// A service registered by other means than `service install` (the Windows installer,
/// `sc create`) gets at its start what `service install` gives it: first its Event Log
/// source, when there is none ...
fn complete_registration(name: &str) {
    if !eventlog::is_registered(name) {
        if let Err(e) = std::env::current_exe().and_then(|exe| eventlog::register(name, &exe)) {
            tracing::debug!("{e}");
        }
    }
}

/// ... then, once its config loads, the delayed start and the restarts, when it has no
/// restart action at all (an operator's own are kept). What the service manager refuses
/// is only a debug line: `service install` is where such refusals are told.
fn complete_recovery(name: &str) {
    let Ok(service) = open(name, ServiceAccess::QUERY_CONFIG | ServiceAccess::CHANGE_CONFIG) else {
        return;
    };
    let has_restarts = service
        .get_failure_actions()
        .is_ok_and(|f| f.actions.is_some_and(|a| !a.is_empty()));
    if !has_restarts {
        for refused in recovery(&service) {
            tracing::debug!("{refused}");
        }
    }
}

/// Restart 10 s, 60 s, then 5 min after each failure; the count resets after a day.
fn restarts() -> ServiceFailureActions {
    let restart = |secs| ServiceAction {
        action_type: ServiceActionType::Restart,
        delay: Duration::from_secs(secs),
    };
    ServiceFailureActions {
        reset_period: ServiceFailureResetPeriod::After(Duration::from_secs(86_400)),
        reboot_msg: None,
        command: None,
        actions: Some(vec![restart(10), restart(60), restart(300)]),
    }
}

fn describe(e: &windows_service::Error) -> String {
    match e {
        windows_service::Error::Winapi(io) => io.to_string(),
        other => other.to_string(),
    }
}

fn open(name: &str, access: ServiceAccess) -> Result<windows_service::service::Service, Failed> {
    let mgr = manager(ServiceManagerAccess::CONNECT)?;
    mgr.open_service(name, access).map_err(|e| match os_code(&e) {
        Some(SERVICE_DOES_NOT_EXIST) => Failed::bad_usage(format!("the service {name} is not installed")),
        _ => Failed::cannot_run(format!("cannot open the service {name}: {}", describe(&e))),
    })
}

/// Polls the service's state until `want`, for at most `secs`.
fn wait_for(service: &windows_service::service::Service, want: ServiceState, secs: u64) -> Result<(), Failed> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let state = service.query_status().map(|s| s.current_state);
        match state {
            Ok(s) if s == want => return Ok(()),
            Ok(ServiceState::Stopped) if want == ServiceState::Running => {
                return Err(Failed::cannot_run(
                    "the service stopped at once; the Application event log and the log folder say why",
                ))
            }
            _ if Instant::now() > deadline => {
                return Err(Failed::cannot_run(format!(
                    "the service is still {state:?} after {secs} s"
                )));
            }
            _ => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}

pub fn uninstall(name: &str) -> ServiceResult {
    let service = open(
        name,
        ServiceAccess::QUERY_STATUS | ServiceAccess::STOP | ServiceAccess::DELETE,
    )?;
    let running = service
        .query_status()
        .is_ok_and(|s| s.current_state != ServiceState::Stopped);
    if running {
        let _ = service.stop();
        wait_for(&service, ServiceState::Stopped, 120)?;
    }
    service
        .delete()
        .map_err(|e| Failed::cannot_run(format!("cannot delete the service {name}: {}", describe(&e))))?;
    drop(service);
    if let Err(e) = eventlog::deregister(name) {
        eprintln!("warning: {e}");
    }
    Ok(format!(
        "{}removed the service {name}",
        if running { "stopped and " } else { "" }
    ))
}

/// `start` or `stop`, waiting until it is done.
pub fn control(name: &str, verb: &str) -> ServiceResult {
    let service = open(
        name,
        ServiceAccess::QUERY_STATUS | ServiceAccess::START | ServiceAccess::STOP,
    )?;
    let started = Instant::now();
    if verb == "start" {
        match service.start::<OsString>(&[]) {
            Err(e) if os_code(&e) == Some(SERVICE_ALREADY_RUNNING) => return Ok(format!("{name} is already running")),
            Err(e) => return Err(Failed::cannot_run(format!("cannot start {name}: {}", describe(&e)))),
            Ok(()) => wait_for(&service, ServiceState::Running, 120)?,
        }
    } else {
        let pid = service.query_status().ok().and_then(|s| s.process_id);
        match service.stop() {
            Err(e) if os_code(&e) == Some(SERVICE_NOT_ACTIVE) => return Ok(format!("{name} is not running")),
            // Already stopping (the service manager, an installer): wait for it all the same.
            Err(e) if os_code(&e) == Some(SERVICE_CANNOT_ACCEPT_CTRL) => {
                wait_for(&service, ServiceState::Stopped, 180)?
            }
            Err(e) => return Err(Failed::cannot_run(format!("cannot stop {name}: {}", describe(&e)))),
            Ok(_) => wait_for(&service, ServiceState::Stopped, 180)?,
        }
        if let Some(pid) = pid {
            wait_for_exit(pid, Duration::from_secs(30));
        }
    }
    let done = if verb == "start" { "running" } else { "stopped" };
    Ok(format!("{name} is {done} ({:.1} s)", started.elapsed().as_secs_f64()))
}

/// Waits until the process `pid` has exited (its program file free to replace or
/// remove), for at most `limit`; one that cannot be opened is already gone.
fn wait_for_exit(pid: u32, limit: Duration) {
    use windows_sys::Win32::Foundation::CloseHandle;
    use windows_sys::Win32::System::Threading::{OpenProcess, WaitForSingleObject, PROCESS_SYNCHRONIZE};
    // SAFETY: a handle from OpenProcess, waited on and closed once.
    unsafe {
        let h = OpenProcess(PROCESS_SYNCHRONIZE, 0, pid);
        if !h.is_null() {
            WaitForSingleObject(h, limit.as_millis() as u32);
            CloseHandle(h);
        }
    }
}

pub fn status(name: &str) -> ServiceResult {
    let service = open(name, ServiceAccess::QUERY_STATUS).map_err(|f| Failed::problems(f.why))?;
    let s = service
        .query_status()
        .map_err(|e| Failed::cannot_run(format!("cannot query {name}: {}", describe(&e))))?;
    let pid = s.process_id.map_or(String::new(), |p| format!(" (process {p})"));
    match s.current_state {
        ServiceState::Running => Ok(format!("{name}: running{pid}")),
        other => Err(Failed::problems(format!("{name}: {other:?}").to_lowercase())),
    }
}

/// The arguments of `service run`, handed to the service's main function.
static RUN: OnceLock<(PathBuf, String, bool)> = OnceLock::new();
/// The exit code the service reported, for the process's own.
static EXIT: AtomicU8 = AtomicU8::new(0);

define_windows_service!(ffi_service_main, service_main);

pub fn run(config: &Path, name: &str, verbose: bool) -> ExitCode {
    let _ = RUN.set((crate::config::absolute(config), name.to_string(), verbose));
    match service_dispatcher::start(name, ffi_service_main) {
        Ok(()) => ExitCode::from(EXIT.load(Ordering::SeqCst)),
        Err(e) if os_code(&e) == Some(NOT_STARTED_BY_SCM) => {
            eprintln!(
                "error: `service run` is what the Windows service manager starts; in a console, use `cctv-mirror run`"
            );
            ExitCode::from(crate::engine::exit::BAD_CONFIG)
        }
        Err(e) => {
            eprintln!("error: cannot run as a service: {}", describe(&e));
            ExitCode::from(crate::engine::exit::CANNOT_RUN)
        }
    }
}

fn service_main(_args: Vec<OsString>) {
    let Some((config, name, verbose)) = RUN.get().cloned() else {
        return;
    };
    complete_registration(&name);
    let events = EventLog::open(&name);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let stop_tx = Mutex::new(Some(stop_tx));
    let handler = move |control| match control {
        ServiceControl::Stop | ServiceControl::Shutdown | ServiceControl::Preshutdown => {
            if let Some(tx) = stop_tx.lock().unwrap_or_else(|e| e.into_inner()).take() {
                let _ = tx.send(());
            }
            ServiceControlHandlerResult::NoError
        }
        ServiceControl::Interrogate => ServiceControlHandlerResult::NoError,
        _ => ServiceControlHandlerResult::NotImplemented,
    };
    let handle = match service_control_handler::register(&name, handler) {
        Ok(h) => h,
        Err(e) => {
            if let Some(ev) = &events {
                ev.report(
                    Level::Error,
                    &format!("cctv-mirror cannot register with the service manager: {e}"),
                );
            }
            return;
        }
    };
    let manager = Arc::new(Manager::new(handle, events));
    manager.set(ServiceState::StartPending, Duration::from_secs(60));
    let code = match Config::load(&config) {
        Ok(cfg) => {
            complete_recovery(&name);
            let stop = async move {
                let _ = stop_rx.await;
            };
            crate::engine::app::run_to_end(cfg, Mode::Daemon { watch: true }, verbose, stop, manager.clone())
        }
        Err(e) => {
            manager.fatal(&format!(
                "cctv-mirror cannot start: {e}. To finish: write or fix {0} (docs/configuration.md), \
                 check it with `cctv-mirror check --config {0}`, then `cctv-mirror service start --name {name}`.",
                config.display()
            ));
            crate::engine::exit::BAD_CONFIG
        }
    };
    EXIT.store(code, Ordering::SeqCst);
    manager.finish(code);
}

/// The running service's side of the service manager and the Event Log.
struct Manager {
    handle: ServiceStatusHandle,
    events: Option<EventLog>,
    checkpoint: AtomicU32,
    /// Set once Stopped was reported: ends the checkpoint ticker.
    done: Arc<AtomicBool>,
}

impl Manager {
    fn new(handle: ServiceStatusHandle, events: Option<EventLog>) -> Manager {
        Manager {
            handle,
            events,
            checkpoint: AtomicU32::new(0),
            done: Arc::new(AtomicBool::new(false)),
        }
    }

    fn set(&self, state: ServiceState, wait_hint: Duration) {
        let pending = matches!(state, ServiceState::StartPending | ServiceState::StopPending);
        let accept = match state {
            ServiceState::Running => {
                ServiceControlAccept::STOP | ServiceControlAccept::SHUTDOWN | ServiceControlAccept::PRESHUTDOWN
            }
            _ => ServiceControlAccept::empty(),
        };
        let checkpoint = if pending {
            self.checkpoint.fetch_add(1, Ordering::SeqCst) + 1
        } else {
            0
        };
        let _ = self.handle.set_service_status(ServiceStatus {
            service_type: ServiceType::OWN_PROCESS,
            current_state: state,
            controls_accepted: accept,
            exit_code: ServiceExitCode::Win32(0),
            checkpoint,
            wait_hint: if pending { wait_hint } else { Duration::ZERO },
            process_id: None,
        });
    }

    fn event(&self, level: Level, text: &str) {
        if let Some(ev) = &self.events {
            ev.report(level, text);
        }
    }

    /// Stopped, with the process's exit code (0 is a clean stop).
    fn finish(&self, code: u8) {
        self.done.store(true, Ordering::SeqCst);
        let exit_code = if code == 0 {
            ServiceExitCode::Win32(0)
        } else {
            ServiceExitCode::ServiceSpecific(code.into())
        };
        let _ = self.handle.set_service_status(ServiceStatus {
            service_type: ServiceType::OWN_PROCESS,
            current_state: ServiceState::Stopped,
            controls_accepted: ServiceControlAccept::empty(),
            exit_code,
            checkpoint: 0,
            wait_hint: Duration::ZERO,
            process_id: None,
        });
    }
}

impl Supervisor for Manager {
    fn started(&self) {
        self.set(ServiceState::Running, Duration::ZERO);
        self.event(
            Level::Info,
            &format!("cctv-mirror {} started", crate::engine::version::VERSION),
        );
    }

    fn alerts_changed(&self, events: &[Event]) {
        for e in events {
            let a = &e.alert;
            let text = match e.change {
                Change::Raised => format!("alert {} raised: {}", a.kind, a.message),
                Change::Reminder => format!(
                    "alert {} still active since {}: {}",
                    a.kind,
                    a.since.format("%Y-%m-%d %H:%M:%S"),
                    a.message
                ),
                Change::Cleared => format!(
                    "alert {} cleared (it had lasted since {})",
                    a.kind,
                    a.since.format("%Y-%m-%d %H:%M:%S")
                ),
            };
            self.event(Level::Warning, &text);
        }
    }

    /// StopPending, then a new checkpoint every 2 s while copies finish or are discarded.
    fn stopping(&self) {
        self.set(ServiceState::StopPending, Duration::from_secs(10));
        let done = self.done.clone();
        let handle = self.handle;
        let checkpoint = self.checkpoint.load(Ordering::SeqCst);
        std::thread::spawn(move || {
            let mut n = checkpoint;
            while !done.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_secs(2));
                if done.load(Ordering::SeqCst) {
                    break;
                }
                n += 1;
                let _ = handle.set_service_status(ServiceStatus {
                    service_type: ServiceType::OWN_PROCESS,
                    current_state: ServiceState::StopPending,
                    controls_accepted: ServiceControlAccept::empty(),
                    exit_code: ServiceExitCode::Win32(0),
                    checkpoint: n,
                    wait_hint: Duration::from_secs(10),
                    process_id: None,
                });
            }
        });
    }

    fn stopped(&self) {
        self.event(Level::Info, "cctv-mirror stopped");
    }

    fn fatal(&self, what: &str) {
        self.event(Level::Error, what);
    }
}
