"""The miner on a small source tree: one text written by two classes keeps both places and its first class, and
the matcher still knows a template whose trailing value was logged empty."""

from __future__ import annotations

import tomllib
from collections import Counter
from pathlib import Path

from diagnostics.catalogue import DATA_DIR, load_catalogue
from diagnostics.catalogue.mine import HEURISTICS_FILE, Heuristics, Mined, Tree, mine_release, update

AREAS = [{"name": "vmm", "classes": ["VirtualMachineManagerImpl"]}, {"name": "storage", "classes": ["VolumeApiServiceImpl"]}]
VMM = '''package com.cloud.vm;
public class VirtualMachineManagerImpl {
    void a(String vm) {
        logger.warn("Unable to migrate volume of the instance " + vm + " because the pool is in maintenance mode");
    }
}
'''
VOL = '''package com.cloud.storage;
public class VolumeApiServiceImpl {
    void b(String vol) {

        s_logger.error("Unable to migrate volume of the instance " + vol + " because the pool is in maintenance mode");
    }
}
'''


def _tree(tmp_path: Path) -> Tree:
    for rel, text in (("engine/src/main/java/com/cloud/vm/VirtualMachineManagerImpl.java", VMM),
                      ("server/src/main/java/com/cloud/storage/VolumeApiServiceImpl.java", VOL)):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text, encoding="utf-8")
    return Tree(str(tmp_path), None)


def test_a_text_two_classes_write_keeps_both_places(tmp_path: Path) -> None:
    mined: dict[str, Mined] = {}
    mine_release(_tree(tmp_path / "src"), "4.22", AREAS, mined, Counter())
    (entry,) = mined.values()
    assert sorted(path.rsplit("/", 1)[-1] for _, path in entry.sources) == ["VirtualMachineManagerImpl.java", "VolumeApiServiceImpl.java"]
    assert set(entry.variants) == {"VirtualMachineManagerImpl", "VolumeApiServiceImpl"}
    assert {v[1] for v in entry.variants.values()} == {"WARN", "ERROR"}


def test_a_catalogued_text_keeps_its_class_when_another_class_writes_it_too(tmp_path: Path) -> None:
    mined: dict[str, Mined] = {}
    mine_release(_tree(tmp_path / "src"), "4.22", AREAS, mined, Counter())
    out = tmp_path / "messages"
    out.mkdir()
    (out / "storage.toml").write_text(
        '[[message]]\nid = "storage.unable-to-migrate-volume-of-the-instance"\nclass = "VolumeApiServiceImpl"\n'
        'level = "ERROR"\ntemplate = "Unable to migrate volume of the instance {vol:text} because the pool is in maintenance mode"\n'
        'relevance = "failure"\ncategory = "storage"\n', encoding="utf-8")
    update(mined, ["4.22"], out, Heuristics(tomllib.loads(HEURISTICS_FILE.read_text(encoding="utf-8"))))
    (item,) = tomllib.loads((out / "storage.toml").read_text(encoding="utf-8"))["message"]
    assert (item["class"], item["level"]) == ("VolumeApiServiceImpl", "ERROR")
    assert "{vol:text}" in item["template"]
    assert "VirtualMachineManagerImpl.java 4.22:" in item["source"] and "VolumeApiServiceImpl.java 4.22:" in item["source"]
    assert not (out / "vmm.toml").exists()


def test_a_trailing_value_logged_empty_still_names_its_template() -> None:
    cat = load_catalogue()
    # CitrixResourceBase.handleVmStartFailure: "Unable to start " + vmName + " due to " + message, message empty and
    # the cause as the next line's trace (apache/cloudstack#6148); the trailing space is gone in the file
    assert cat.match("Unable to start v-67620-VM due to").template.id == "xen.unable-to-start-due-to"
    assert cat.match("Unable to start v-67620-VM due to ").template.id == "xen.unable-to-start-due-to"
    # a template that is only `literal {text}` does not take another template's whole text
    assert cat.match("Unexpected exception").template.id != "agentmgr.unexpected-exception"
    # the orchestrator's own text stays its own: the StartCommand timed out (AgentUnavailableException)
    assert cat.match("Unable to start s-1-VM").template.id == "vmm.unable-to-start"


def test_the_classes_sources_toml_names_are_in_the_catalogue() -> None:
    sources = tomllib.loads((DATA_DIR.parent / "sources.toml").read_text(encoding="utf-8"))
    by_class = Counter(t.cls for t in load_catalogue().templates)
    for cls in ("LibvirtConnection", "VolumeApiServiceImpl", "SecondaryStorageManagerImpl", "ConsoleProxyManagerImpl"):
        assert any(cls in area["classes"] for area in sources["area"]), cls
        assert by_class[cls] >= 4, cls
