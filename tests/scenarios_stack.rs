//! Every scenario in `scenarios/` passes on the seed stack (offline kit images), through the
//! built binary, exactly as CI users run them: `syncsim test scenarios/ --junit FILE`.
mod common;

use std::process::Command;

#[test]
#[ignore = "needs docker and the image kit"]
fn every_stack_scenario_passes_and_the_junit_report_lists_them_all() {
    let root = env!("CARGO_MANIFEST_DIR");
    common::ensure_kit();
    common::ensure_helm(); // scenarios/application-helm.yaml
    let scenarios: Vec<_> = std::fs::read_dir(format!("{root}/scenarios"))
        .expect("scenarios/")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "yaml"))
        .collect();
    assert!(
        scenarios.len() >= 8,
        "at least eight scenarios, found {}",
        scenarios.len()
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let junit = dir.path().join("scenarios.xml");
    let out = Command::new(env!("CARGO_BIN_EXE_syncsim"))
        .args(["test", &format!("{root}/scenarios"), "-j", "2", "--junit"])
        .arg(&junit)
        .output()
        .expect("run syncsim test");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    let xml = std::fs::read_to_string(&junit).expect("junit written");
    assert_eq!(xml.matches("<testcase").count(), scenarios.len(), "{xml}");
    assert!(!xml.contains("<failure"), "{xml}");
}
