"""The layout's rules, read from the source: imports only go down, the roles never import each other, nothing
of the product imports the development tooling or the tests, the contract imports nothing of the project, and
the site file reads without an MQTT library."""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# From the bottom up; a package may import its own modules and those of lower layers only.
LAYERS = (("appliance.contract",), ("appliance.site",), ("appliance.core",), ("appliance.records",),
          ("appliance.report",), ("appliance.web",),
          ("appliance.drivers", "appliance.screens"),
          ("appliance.kiosk", "appliance.desk", "appliance.display", "hub", "central"), ("appliance.ops",),
          ("appliance.dev",), ("appliance.cli",))


def package_of(module: str) -> str:
    return next(p for layer in LAYERS for p in layer if module == p or module.startswith(p + "."))


def layer_of(module: str) -> int:
    return next(i for i, layer in enumerate(LAYERS) if package_of(module) in layer)


def project_imports() -> list[tuple[str, str, int]]:
    """(importing module, imported module, line) for every import of the project's own code."""
    found = []
    for path in sorted([*ROOT.glob("appliance/**/*.py"), *ROOT.glob("hub/**/*.py"), *ROOT.glob("central/**/*.py")]):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            assert not (isinstance(node, ast.ImportFrom) and node.level), f"{module}:{node.lineno} imports relatively"
            if isinstance(node, ast.ImportFrom) and node.module in ("appliance", "hub", "central"):
                names = [f"{node.module}.{alias.name}" for alias in node.names]   # `from appliance import site`
            elif isinstance(node, ast.ImportFrom):
                names = [node.module]
            else:
                names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            found += [(module, name, node.lineno) for name in names
                      if name.split(".")[0] in ("appliance", "hub", "central", "tests", "bench")]
    return found


def test_every_module_belongs_to_a_layer_and_imports_only_down_or_within_its_package():
    wrong = []
    for module, imported, line in project_imports():
        if imported.split(".")[0] in ("tests", "bench"):
            wrong.append(f"{module}:{line} imports {imported}: the product never imports the tests")
        elif package_of(imported) != package_of(module) and layer_of(imported) >= layer_of(module):
            wrong.append(f"{module}:{line} imports {imported}, which is not below it")
    assert wrong == []


def test_the_contract_imports_nothing_of_the_project():
    assert [i for i in project_imports() if i[0].startswith("appliance.contract") and
            not i[1].startswith("appliance.contract")] == []


@pytest.mark.parametrize("module", ["appliance.site", "appliance.contract"])
def test_the_site_file_and_the_contract_read_without_mqtt_pygame_or_the_printer(module):
    blocked = ("paho", "pygame", "escpos", "gpiozero", "serial", "PIL")
    code = (f"import sys\nclass Blocked:\n    def find_spec(self, name, path=None, target=None):\n"
            f"        if name.split('.')[0] in {blocked!r}: raise ImportError('blocked: ' + name)\n"
            f"sys.meta_path.insert(0, Blocked())\nimport {module}\n"
            f"{module}.load({module}.EXAMPLE) if hasattr({module}, 'load') else None\n")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
