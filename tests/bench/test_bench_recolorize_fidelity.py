"""The recolorize benchmark's CSV round trip and merge of a second run (e.g. recolorize-paper made in parallel)."""

import pytest

from bench.recolorize_fidelity import GALLERY, Row, merge_rows, read_csv, summarise, write_csv


def _row(case: str, kind: str, method: str, psnr: float) -> Row:
    return Row(case, kind, method, psnr_hole=psnr, ssim_hole=0.9, chroma_hole=4.0, luma_err_hole=1.0,
               psnr_image=30.0, seconds=2.5)


def test_csv_round_trip_keeps_values_and_command(tmp_path):
    rows = [_row("a", "hue", "raw", 20.0), _row("a", "hue", "recolorize-fast", 31.25)]
    rows.append(Row("b", "hue", "levin", error="RuntimeError: boom"))
    path = tmp_path / "rows.csv"
    strip = GALLERY / "recolorize_a.png"
    write_csv(path, rows, "python -m bench.recolorize_fidelity --limit 1", [("a", strip)])
    back, command, gallery = read_csv(path)
    assert command == "python -m bench.recolorize_fidelity --limit 1"
    assert gallery == [("a", strip)]
    assert [(r.case, r.method, r.psnr_hole, r.error) for r in back][:2] == [
        ("a", "raw", 20.0, ""), ("a", "recolorize-fast", 31.25, "")
    ]
    assert back[2].error == "RuntimeError: boom"


def test_merge_adds_missing_methods_and_refuses_other_cases(tmp_path):
    now = [_row("a", "hue", "raw", 20.0), _row("a", "hue", "recolorize-fast", 30.0), _row("b", "leak", "raw", 25.0)]
    paper = [_row("a", "hue", "raw", 20.0), _row("a", "hue", "recolorize-paper", 28.0),
             _row("a", "hue", "recolorize-fast", 1.0)]  # a stale duplicate: this run's row wins
    merged = merge_rows(now, paper, tmp_path / "paper.csv")
    assert [(r.case, r.method, r.psnr_hole) for r in merged[3:]] == [("a", "recolorize-paper", 28.0)]
    table = summarise(merged, None, ["raw", "recolorize-fast", "recolorize-paper"], cases={"a"})
    assert [line[0] for line in table] == ["raw", "recolorize-fast", "recolorize-paper"]
    assert [line[2] for line in table] == [20.0, 30.0, 28.0]  # hole PSNR over case "a" only
    assert table[2][7] == pytest.approx(8.0)  # ΔPSNR vs raw
    other = [_row("a", "hue", "raw", 21.5)]
    with pytest.raises(SystemExit, match="same --size, --seed"):
        merge_rows(now, other, tmp_path / "other.csv")


def test_report_only_renders_the_merged_rows_and_their_commands(tmp_path, capsys):
    from bench.recolorize_fidelity import main

    fast = tmp_path / "fast.csv"
    paper = tmp_path / "paper.csv"
    write_csv(fast, [_row("a", "hue", "raw", 20.0), _row("a", "hue", "recolorize-fast", 30.0),
                     _row("b", "hue", "raw", 22.0), _row("b", "hue", "recolorize-fast", 26.0)], "run-fast")
    write_csv(paper, [_row("a", "hue", "raw", 20.0), _row("a", "hue", "recolorize-paper", 27.5)], "run-paper")
    empty = tmp_path / "no-data"
    empty.mkdir()
    gallery = sorted(GALLERY.glob("*.png")) if GALLERY.is_dir() else []
    stamps = [p.stat().st_mtime_ns for p in gallery]
    main(["--report-only", "--add-csv", str(fast), "--add-csv", str(paper), "--kinds", "hue", "--no-write", "-q",
          "--data", str(empty)])  # nothing is loaded or run, so no data is needed
    assert [p.stat().st_mtime_ns for p in gallery] == stamps  # and no gallery strip is rewritten
    report = capsys.readouterr().out
    assert "| recolorize-fast | 2 | 28.00 |" in report  # mean over both cases
    assert "| recolorize-paper | 1 | 27.50 |" in report
    assert "### The 1 cases `recolorize-paper` ran on" in report
    assert "| recolorize-fast | 1 | 30.00 |" in report  # the same-cases table: case "a" only
    assert "- `run-fast`" in report and "- `run-paper`" in report


def test_cases_are_reported_by_half_of_the_dev_photos():
    from bench.recolorize_fidelity import case_half
    from bench.split import split_of

    # Synthetic cases are named photo/kind, MI-GAN cases subset/photo: the photo decides the half.
    assert case_half("mcm04/leak") == split_of("mcm04") == "held-out"
    assert case_half("mcm01/hue") == "tune"
    assert case_half("places2_256_freeform/mcm04") == "held-out"
    rows = [_row("mcm01/hue", "hue", "raw", 20.0), _row("mcm01/hue", "hue", "recolorize-learned", 30.0),
            _row("mcm04/hue", "hue", "raw", 20.0), _row("mcm04/hue", "hue", "recolorize-learned", 22.0)]
    tune = summarise(rows, None, ["raw", "recolorize-learned"], half="tune")
    held = summarise(rows, None, ["raw", "recolorize-learned"], half="held-out")
    assert tune[1][0] == "recolorize-learned" and tune[1][2] == 30.0
    assert held[1][2] == 22.0
