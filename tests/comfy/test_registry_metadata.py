"""What the Comfy Registry and packagers read: pyproject.toml's [tool.comfy] table, as ComfyUI's own parser
(comfy_config, the same definitions as comfy-cli's registry types) reads it, and the LICENSE file it declares.

Needs ComfyUI (``bash .ci/install_comfyui.sh``) for its parser and version.
"""

from __future__ import annotations

import os
import re
import sys
import tomllib

import pytest
from harness import DEFAULT_COMFY_DIR, REPO_ROOT, comfy_installed
from packaging.specifiers import SpecifierSet

#: The keys of [tool.comfy] the registry knows (comfy_config/types.py ComfyConfig, and requires-comfyui, which
#: comfy_config/config_parser.py reads from the same table).
REGISTRY_KEYS = {"PublisherId", "DisplayName", "Icon", "Models", "includes", "web", "banner_url", "requires-comfyui"}


def pyproject() -> dict:
    return tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())


def test_license_file_is_the_gpl_3_that_pyproject_declares():
    assert pyproject()["project"]["license"] == "GPL-3.0-or-later"
    text = (REPO_ROOT / "LICENSE").read_text()
    assert text.split()[:6] == ["GNU", "GENERAL", "PUBLIC", "LICENSE", "Version", "3,"]
    # The whole licence, not a notice: its terms end with these, and the appendix on applying them follows.
    for part in ("TERMS AND CONDITIONS", "END OF TERMS AND CONDITIONS", "How to Apply These Terms to Your New Programs",
                 "either version 3 of the License, or"):
        assert part in text, part
    assert len(text) > 30_000


def test_tool_comfy_has_only_registry_fields():
    comfy = pyproject()["tool"]["comfy"]
    assert set(comfy) <= REGISTRY_KEYS, set(comfy) - REGISTRY_KEYS
    assert re.fullmatch(r"[a-z0-9][a-z0-9-]*", comfy["PublisherId"])
    assert comfy["DisplayName"]
    # The registry shows the icon from a URL: the repository's own copy of web/icon.svg.
    repository = pyproject()["project"]["urls"]["Repository"]
    owner_repo = repository.removeprefix("https://github.com/")
    prefix = f"https://raw.githubusercontent.com/{owner_repo}/main/"
    assert comfy["Icon"].startswith(prefix)
    assert (REPO_ROOT / comfy["Icon"].removeprefix(prefix)).is_file()


def test_comfyui_reads_the_metadata_and_its_version_is_in_the_tested_range():
    if not comfy_installed():  # as conftest.py's comfy_server: an error under CI, skipped elsewhere
        message = "ComfyUI is not installed; run `bash .ci/install_comfyui.sh` from the repo root"
        (pytest.fail if os.environ.get("CI") else pytest.skip)(message)
    sys.path.insert(0, str(DEFAULT_COMFY_DIR))
    try:
        from comfy_config import config_parser
        from comfyui_version import __version__ as comfy_version
    finally:
        sys.path.remove(str(DEFAULT_COMFY_DIR))
    config = config_parser.extract_node_configuration(str(REPO_ROOT))
    comfy = pyproject()["tool"]["comfy"]
    assert config.tool_comfy.publisher_id == comfy["PublisherId"]
    assert config.tool_comfy.display_name == comfy["DisplayName"]
    assert config.tool_comfy.icon == comfy["Icon"]
    assert config.project.license.text == "GPL-3.0-or-later"
    assert config.project.urls.repository == pyproject()["project"]["urls"]["Repository"]
    tested = SpecifierSet(config.project.supported_comfyui_version)
    assert comfy_version == "0.3.75" and comfy_version in tested, (comfy_version, tested)
