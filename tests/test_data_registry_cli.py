import subprocess
import sys

import pytest
from data_helpers import plane_sample
from test_data_formats import write_tang2019_fixture

from humandepth.cli import main
from humandepth.data import open_dataset, write_samples
from humandepth.data.registry import expand_path, load_registry

REGISTRY = """datasets:
  - name: tang2019-real
    kind: external
    format: tang2019
    path: ${TEST_TANG:-$HUMANDEPTH_DATA/tang}
    description: d
    license: l
    citation: c
    obtain: copy the data/ folder of the authors' repository
  - name: scans
    kind: external
    format: scans
    path: /nonexistent/scans
    description: d
    license: l
    citation: c
    obtain: ask
"""


@pytest.fixture
def registry(tmp_path, monkeypatch):
    path = tmp_path / "datasets.yaml"
    path.write_text(REGISTRY)
    monkeypatch.setenv("HUMANDEPTH_REGISTRY", str(path))
    monkeypatch.setenv("HUMANDEPTH_DATA", str(tmp_path / "data"))
    monkeypatch.delenv("TEST_TANG", raising=False)
    return tmp_path


def test_expand_path(monkeypatch, tmp_path):
    monkeypatch.setenv("HUMANDEPTH_DATA", "/d")
    monkeypatch.delenv("NOPE", raising=False)
    assert str(expand_path("${NOPE:-$HUMANDEPTH_DATA/x}")) == "/d/x"
    assert str(expand_path("~/a")).startswith("/") and not str(expand_path("~/a")).startswith("~")
    with pytest.raises(ValueError, match="NOPE"):
        expand_path("$NOPE/x")


def test_shipped_registry_is_valid():
    reg = load_registry()
    assert {"tang2019-real", "thuman2.1", "customhumans", "2k2k"} <= set(reg)
    assert all(e.license and e.citation and e.obtain for e in reg.values())


def test_registered_name_absent_then_present(registry, capsys):
    with pytest.raises(FileNotFoundError, match="copy the data/ folder"):
        open_dataset("tang2019-real")
    with pytest.raises(KeyError, match="known: tang2019-real, scans"):
        open_dataset("nope")
    with pytest.raises(ValueError, match="scan collection"):
        open_dataset("scans")
    assert main(["datasets", "list"]) == 0
    assert "tang2019-real  external  tang2019  no" in capsys.readouterr().out
    write_tang2019_fixture(registry / "data" / "tang")
    assert len(open_dataset("tang2019-real")) == 2
    assert main(["datasets", "list"]) == 0
    assert "tang2019  yes" in capsys.readouterr().out


def test_cli_verify_and_export(tmp_path, capsys):
    root = write_samples(tmp_path / "ds", [plane_sample(i) for i in range(3)], name="planes", shard_size=2)
    assert main(["data", "verify", str(root)]) == 0
    assert "OK" in capsys.readouterr().out
    shard = root / "shards" / "shard-00001.h5"
    shard.write_bytes(shard.read_bytes()[:-100])  # truncated
    assert main(["data", "verify", str(root)]) == 1
    assert "shard shards/shard-00001.h5" in capsys.readouterr().out
    assert main(["data", "export", str(tmp_path / "missing"), "--out", str(tmp_path / "o")]) == 2
    assert "not found" in capsys.readouterr().err


def test_help_of_every_subcommand_has_an_example():
    def walk(parser, path):
        yield path, parser
        for action in parser._actions:
            if hasattr(action, "choices") and isinstance(action.choices, dict):
                for name, sub in action.choices.items():
                    yield from walk(sub, [*path, name])

    from humandepth.cli import build_parser

    for path, parser in walk(build_parser(), []):
        text = parser.format_help()
        assert "example" in text, f"`humandepth {' '.join(path)} --help` has no example"


def test_python_dash_m_entry_point():
    out = subprocess.run([sys.executable, "-m", "humandepth", "--help"], capture_output=True, text=True, check=True)
    assert "humandepth" in out.stdout and "datasets" in out.stdout
