//! The event data of a minidump that is not a stack: the crash as an
//! exception, modules as debug images, the `os` context, and Sentry's
//! names for systems and CPUs.

use ::minidump::system_info::{Cpu, Os};
use ::minidump::{MinidumpException, MinidumpSystemInfo};
use serde_json::{Map, Value, json};

use super::{DumpModule, truncated};
use crate::protocol::{Exception, Mechanism, Stacktrace};

/// The `os` context as Sentry writes it from a dump's system information.
pub(super) fn os_context(os: Os, version: &str, build: Option<&str>) -> Map<String, Value> {
    let mut context = Map::new();
    context.insert("type".to_owned(), json!("os"));
    if version != "0.0.0" {
        context.insert("version".to_owned(), json!(version));
    }
    if let Some(build) = build.filter(|build| !build.is_empty()) {
        context.insert("build".to_owned(), json!(truncated(build)));
    }
    let name = os_name(os);
    if !name.is_empty() {
        // Sentry's choice: a name alone is a raw description, to be parsed.
        let key = if context.len() > 1 {
            "name"
        } else {
            "raw_description"
        };
        context.insert(key.to_owned(), json!(name));
    }
    context
}

/// A module as a debug image, of the type of the dump's OS.
pub(super) fn image(module: &DumpModule, os: Os, cpu: Cpu) -> Value {
    let ty = match os {
        Os::Windows => "pe",
        Os::MacOs | Os::Ios => "macho",
        Os::Linux | Os::Android => "elf",
        _ => "symbolic",
    };
    let mut image = Map::new();
    image.insert("type".to_owned(), json!(ty));
    image.insert("code_file".to_owned(), json!(module.code_file));
    if let Some(code_id) = &module.code_id {
        image.insert("code_id".to_owned(), json!(code_id));
    }
    if let Some(debug_file) = &module.debug_file {
        image.insert("debug_file".to_owned(), json!(debug_file));
    }
    if let Some(debug_id) = &module.debug_id {
        image.insert("debug_id".to_owned(), json!(debug_id));
    }
    image.insert(
        "image_addr".to_owned(),
        json!(format!("0x{:x}", module.image_addr)),
    );
    image.insert("image_size".to_owned(), json!(module.image_size));
    image.insert("arch".to_owned(), json!(arch_name(cpu)));
    Value::Object(image)
}

/// The OS as Sentry names it.
fn os_name(os: Os) -> &'static str {
    match os {
        Os::Windows => "Windows",
        Os::MacOs => "macOS",
        Os::Ios => "iOS",
        Os::Linux => "Linux",
        Os::Solaris => "Solaris",
        Os::Android => "Android",
        Os::Ps3 => "PS3",
        Os::NaCl => "NaCl",
        Os::Unknown(_) => "",
    }
}

/// The CPU architecture as `symbolic` (and so our debug files) names it.
pub(super) fn arch_name(cpu: Cpu) -> &'static str {
    match cpu {
        Cpu::X86 => "x86",
        Cpu::X86_64 => "x86_64",
        Cpu::Ppc => "ppc",
        Cpu::Ppc64 => "ppc64",
        Cpu::Arm => "arm",
        Cpu::Arm64 => "arm64",
        Cpu::Mips => "mips",
        Cpu::Mips64 => "mips64",
        _ => "unknown",
    }
}

/// The exception of a crash: its type (the signal or exception name),
/// value, mechanism (with the signal or Mach exception, and the address
/// involved) and stack trace.
pub(super) fn crash_exception(
    exception: &MinidumpException<'_>,
    system: &MinidumpSystemInfo,
    stacktrace: Option<Stacktrace>,
) -> Exception {
    let reason = exception
        .get_crash_reason(system.os, system.cpu)
        .to_string();
    let mut parts = reason.split(" / ").map(str::trim);
    let name = parts.next().unwrap_or_default().to_owned();
    let detail = parts.next().filter(|part| !part.starts_with("0x"));
    let record = &exception.raw.exception_record;
    let mut meta = Map::new();
    match system.os {
        Os::Linux | Os::Android => {
            let mut signal = Map::new();
            signal.insert("number".to_owned(), json!(record.exception_code));
            // si_code is signed; the dump stores its bits.
            signal.insert(
                "code".to_owned(),
                json!(i32::from_ne_bytes(record.exception_flags.to_ne_bytes())),
            );
            signal.insert("name".to_owned(), json!(name));
            if let Some(detail) = detail {
                signal.insert("code_name".to_owned(), json!(detail));
            }
            meta.insert("signal".to_owned(), Value::Object(signal));
        }
        Os::MacOs | Os::Ios => {
            meta.insert(
                "mach_exception".to_owned(),
                json!({
                    "exception": record.exception_code,
                    "code": record.exception_flags,
                    "subcode": record.exception_address,
                    "name": name,
                }),
            );
        }
        _ => {}
    }
    let address = exception.get_crash_address(system.os, system.cpu);
    let mut mechanism = Mechanism {
        ty: Some("minidump".to_owned()),
        handled: Some(false),
        synthetic: Some(true),
        ..Mechanism::default()
    };
    if !meta.is_empty() {
        mechanism
            .other
            .insert("meta".to_owned(), Value::Object(meta));
    }
    mechanism.other.insert(
        "data".to_owned(),
        json!({"relevant_address": format!("0x{address:x}")}),
    );
    Exception {
        ty: Some(name),
        value: Some(format!("Fatal Error: {reason}")),
        thread_id: Some(json!(exception.get_crashing_thread_id())),
        mechanism: Some(mechanism),
        stacktrace,
        ..Exception::default()
    }
}
