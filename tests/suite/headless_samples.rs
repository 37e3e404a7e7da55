//! `warden samples import|export`: labels in and out of the store, in every format.

use crate::common::warden;

use warden::cli::headless::{export_samples, import_samples};
use warden::import::samples::{self, Label, SampleFormat};
use warden_store::Store;

#[test]
fn samples_round_trip_through_a_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("w.db")).unwrap();
    let tsv = dir.path().join("set.tsv");
    std::fs::write(
        &tsv,
        "spam\tEarn 500$ a day, write me\\nin private\nham\thow do I configure the build?\nspam\tfree crypto signals t.me/x\n",
    )
    .unwrap();
    let done = import_samples(&store, &tsv, None, None, "mod:test", 100).unwrap();
    assert_eq!((done.added, done.duplicates), (3, 0));
    // Importing again adds nothing.
    let again = import_samples(&store, &tsv, None, None, "mod:test", 101).unwrap();
    assert_eq!((again.added, again.duplicates), (0, 3));
    let labels = store.reader().unwrap().all_labels().unwrap();
    assert!(
        labels
            .iter()
            .all(|l| l.origin == "import" && l.by == "mod:test")
    );

    let mut csv = Vec::new();
    assert_eq!(
        export_samples(&store, SampleFormat::Csv, None, &mut csv).unwrap(),
        3
    );
    let back = samples::parse(SampleFormat::Csv, std::str::from_utf8(&csv).unwrap(), None).unwrap();
    let original = samples::parse(
        SampleFormat::Tsv,
        &std::fs::read_to_string(&tsv).unwrap(),
        None,
    )
    .unwrap();
    assert_eq!(back, original);
    assert!(back[0].text.contains('\n'), "the escaped newline survives");

    let mut spam_lines = Vec::new();
    export_samples(
        &store,
        SampleFormat::Lines,
        Some(Label::Spam),
        &mut spam_lines,
    )
    .unwrap();
    assert_eq!(
        String::from_utf8(spam_lines).unwrap(),
        "Earn 500$ a day, write me in private\nfree crypto signals t.me/x\n"
    );
    let mut out = Vec::new();
    let err = export_samples(&store, SampleFormat::Lines, None, &mut out).unwrap_err();
    assert!(err.to_string().contains("--label"), "{err}");
}

#[test]
fn cli_imports_tg_spam_files_by_name_and_exports_tsv() {
    let dir = tempfile::tempdir().unwrap();
    let spam = dir.path().join("spam-samples.txt");
    std::fs::write(
        &spam,
        "buy followers cheap\n\nwork from home 300$ per day\n",
    )
    .unwrap();
    let out = warden(dir.path(), &["samples", "import", spam.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("2 samples added"));

    let plain = dir.path().join("mixed.txt");
    std::fs::write(&plain, "hello there\n").unwrap();
    let out = warden(dir.path(), &["samples", "import", plain.to_str().unwrap()]);
    assert!(
        !out.status.success(),
        "a lines file without a label is refused"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("spam or ham"));
    let out = warden(
        dir.path(),
        &[
            "samples",
            "import",
            plain.to_str().unwrap(),
            "--label",
            "ham",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = warden(dir.path(), &["samples", "export"]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "spam\tbuy followers cheap\nspam\twork from home 300$ per day\nham\thello there\n"
    );
    let out = warden(dir.path(), &["samples", "export", "--format", "xml"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("lines, tsv or csv"));
}
