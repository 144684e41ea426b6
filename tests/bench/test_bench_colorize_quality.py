"""The colorization benchmark runs end to end on a tiny folder (baselines only, no BENCHMARKS.md write)."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from PIL import Image
from skimage import data

from bench import colorize_quality
from bench.colorize_quality import load_photo, main, parse_size


@pytest.fixture()
def photos(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    Image.fromarray(data.chelsea()).save(folder / "chelsea.png")
    Image.fromarray(data.coffee()).save(folder / "coffee.png")
    Image.fromarray(data.camera()).save(folder / "camera_gray.png")  # mode L: skipped
    gray_rgb = np.repeat(data.camera()[..., None], 3, axis=-1)
    Image.fromarray(gray_rgb).save(folder / "camera_rgb.png")  # gray content in an RGB file: skipped
    Image.fromarray(data.astronaut()).save(folder / "comic.png")  # a non-photo by name: skipped by default
    return folder


def test_parse_size_and_orientation(photos) -> None:
    assert parse_size("384") == 384
    assert parse_size("256x384") == (256, 384)
    landscape = load_photo(photos / "chelsea.png", (256, 384))
    assert landscape.shape == (1, 3, 256, 384)
    portrait_file = photos.parent / "portrait.png"
    Image.fromarray(data.chelsea().transpose(1, 0, 2)).save(portrait_file)
    assert load_photo(portrait_file, (256, 384)).shape == (1, 3, 384, 256)
    assert load_photo(photos / "coffee.png", 100).shape == (1, 3, 67, 100)
    assert load_photo(photos / "camera_gray.png", 100) is None
    assert load_photo(photos / "camera_rgb.png", 100) is None


def test_main_runs_baselines_and_writes_csv(photos, tmp_path, capsys, monkeypatch) -> None:
    written = {}
    monkeypatch.setattr(colorize_quality, "write_section", lambda name, md: written.update({name: md}))
    out_csv = tmp_path / "rows.csv"
    main(["--photos", str(photos), "--size", "48x64", "--methods", "levin,mean", "--csv", str(out_csv)])
    report = capsys.readouterr().out
    # chelsea is in the tune half, coffee in the held-out half (bench/split.py); "all" has both
    assert "| tune | rect | levin | 1 |" in report and "| held-out | free | mean | 1 |" in report
    assert "| all | rect | levin | 2 |" in report and "| all | free | mean | 2 |" in report
    assert written["colorize_quality"] == report.strip()
    with out_csv.open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 * 2 * 2  # images x masks x methods
    assert {r["image"] for r in rows} == {"chelsea", "coffee"}
    by = {(r["image"], r["mask"], r["method"]): r for r in rows}
    for name in ("chelsea", "coffee"):
        for kind in ("rect", "free"):
            lev, mean = by[(name, kind, "levin")], by[(name, kind, "mean")]
            assert float(lev["psnr_hole"]) < float(lev["psnr"])  # known pixels are exact
            assert float(lev["chroma_hole"]) < float(mean["chroma_hole"])


def test_main_rejects_unknown_method(photos) -> None:
    with pytest.raises(SystemExit, match="unknown method"):
        main(["--photos", str(photos), "--methods", "levin,magic", "--no-write"])


def test_fast_equals_levin_with_the_same_gamut_mapping_and_the_learned_pairing_is_reported(photos, capsys,
                                                                                             monkeypatch) -> None:
    # "above levin" must credit a method, not a post-processing step: fast and the gamut-mapped Levin are the same
    # solve, so fast is never counted above or below it; the clipped Levin is a separate, labelled row.
    monkeypatch.setattr(colorize_quality, "write_section", lambda name, md: None)
    main(["--photos", str(photos), "--size", "48x64", "--methods", "fast,learned,levin,levin-clip", "--masks", "rect",
          "--csv", str(photos.parent / "rows.csv")])
    report = capsys.readouterr().out
    with (photos.parent / "rows.csv").open() as f:
        rows = {(r["image"], r["method"]): float(r["psnr_hole"]) for r in csv.DictReader(f)}
    for name in ("chelsea", "coffee"):
        assert abs(rows[(name, "fast")] - rows[(name, "levin")]) < 0.01
    assert "| all | rect | fast | 2 |" in report and "0 up / 0 down" in report
    assert "| all | rect | levin-clip | 2 |" in report
    assert "What the learned correction earns" in report and "| all | rect | 2 |" in report
