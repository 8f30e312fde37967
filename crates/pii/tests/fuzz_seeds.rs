//! Replays the `pii_analyze` fuzz target's seeds (`fuzz/seeds/pii_analyze/`,
//! bad inputs and crash reproducers included) on every test run.

use std::path::Path;

use amanah_pii::Analyzer;

#[test]
fn pii_analyze_seeds() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/pii_analyze");
    let analyzer = Analyzer::standard();
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let text = match std::str::from_utf8(&data) {
            Ok(s) => s,
            Err(e) => std::str::from_utf8(&data[..e.valid_up_to()]).unwrap(),
        };
        let mut last_end = 0;
        for d in analyzer.analyze(text) {
            assert!(d.start >= last_end, "{}", path.display());
            assert!(d.start < d.end && d.end <= text.len());
            assert!(text.is_char_boundary(d.start) && text.is_char_boundary(d.end));
            assert!((0.0..=1.0).contains(&d.score));
            last_end = d.end;
        }
        seen += 1;
    }
    assert!(seen >= 5, "seeds missing in {}", dir.display());
}
