"""./run on machines this one is not: a Raspberry Pi on plain Debian 12 or on Raspberry Pi OS, and a PC.

./run is the real script, copied into a checkout of its own; the Pi is a device-tree model file of the test's
(TURNERO_DEVICE_TREE_MODEL), and Debian's tools and python3 are stand-ins on PATH that keep a log and the
list of installed packages, so nothing is installed on this machine."""
import shutil
import subprocess
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
BASE = "mosquitto espeak-ng fonts-dejavu-core python3-venv gcc python3-dev linux-libc-dev"   # ./run's PACKAGES
DEBIAN_12 = [*BASE.split(), "systemd", "chromium",
             "chromium-driver", "libnss3-tools", "libreoffice-calc-nogui", "nginx-light", "postgresql"]
RASPBERRY_PI_OS = [*DEBIAN_12, "python3-lgpio"]
PI_4 = "Raspberry Pi 4 Model B Rev 1.4\0"   # as the firmware writes it

# Each stand-in logs how it was called; $MACHINE holds the log, the archive and what is installed.
STAND_INS = {
    "dpkg-query": """
        status=0   # like dpkg-query -W: a line per installed package, an error for any other
        for package; do
            [[ "$package" == -* ]] && continue
            if grep -qx "$package" "$MACHINE/installed"; then echo "$package:install ok installed"
            else echo "dpkg-query: no packages found matching $package" >&2; status=1; fi
        done
        exit $status""",
    "apt-cache": """
        [[ "$1" == show ]] && grep -qx "$2" "$MACHINE/archive" && exit 0
        echo "E: No packages found" >&2; exit 100""",
    "apt-get": """
        echo "apt-get $*" >>"$MACHINE/log"
        packages=(); installing=false
        for word; do
            [[ "$word" == install ]] && installing=true && continue
            $installing && [[ "$word" != -* ]] && packages+=("$word")
        done
        for package in "${packages[@]}"; do
            grep -qx "$package" "$MACHINE/archive" || { echo "E: Unable to locate package $package" >&2; exit 100; }
        done
        printf '%s\\n' "${packages[@]}" >>"$MACHINE/installed"
        """,
    "sudo": 'exec "$@"',
    "python3": """
        echo "python3 $*" >>"$MACHINE/log"
        if [[ "$1 $2" == "-m venv" ]]; then
            mkdir -p "${@: -1}/bin"
            printf '#!/bin/bash\\necho "venv/bin/python $*" >>"$MACHINE/log"\\n' >"${@: -1}/bin/python"
            printf '#!/bin/bash\\necho "venv/bin/turnero $*" >>"$MACHINE/log"\\n' >"${@: -1}/bin/turnero"
            chmod +x "${@: -1}/bin/python" "${@: -1}/bin/turnero"
        fi""",
}


class PlayedMachine:
    """A fresh machine with `archive` in its apt sources, and a checkout of turnero on it."""

    def __init__(self, folder: Path, archive: list[str], model: str | None):
        self.folder = folder
        self.checkout = folder / "turnero"
        self.checkout.mkdir(parents=True)
        for name in ("run", "pyproject.toml"):
            shutil.copy2(REPOSITORY / name, self.checkout / name)
        (folder / "archive").write_text("".join(f"{p}\n" for p in archive))
        (folder / "installed").write_text("")
        (folder / "log").write_text("")
        tools = folder / "bin"
        tools.mkdir()
        for name, body in STAND_INS.items():
            (tools / name).write_text(f"#!/bin/bash\n{body}\n")
            (tools / name).chmod(0o755)
        if model:
            (folder / "model").write_text(model)
        self.env = {"PATH": f"{tools}:/usr/bin:/bin", "MACHINE": str(folder), "HOME": str(folder),
                    "TURNERO_DEVICE_TREE_MODEL": str(folder / "model")}

    def run(self, *arguments: str) -> list[str]:
        """./run ARGUMENTS; what the stand-ins were asked to do."""
        before = len(self.log())
        result = subprocess.run([str(self.checkout / "run"), *arguments], env=self.env, capture_output=True,
                                text=True, timeout=60)
        assert result.returncode == 0, f"./run {' '.join(arguments)} exited {result.returncode}:\n{result.stderr}"
        return self.log()[before:]

    def log(self) -> list[str]:
        return (self.folder / "log").read_text().splitlines()

    def installed(self) -> set[str]:
        return set((self.folder / "installed").read_text().split())


def installs(log: list[str]) -> list[str]:
    return [line.split(" install ", 1)[1] for line in log if line.startswith("apt-get") and " install " in line]


def venvs(log: list[str]) -> list[str]:
    return [line for line in log if line.startswith("python3 -m venv")]


def pip(log: list[str]) -> list[str]:
    return [line.split(" -q ", 1)[1] for line in log if " -m pip install " in line]


def test_a_pi_on_plain_debian_gets_lgpio_from_pypi_into_its_venv(tmp_path):
    pi = PlayedMachine(tmp_path, DEBIAN_12, PI_4)
    log = pi.run("demo")
    assert installs(log) == [BASE]   # no python3-lgpio to ask for
    assert pi.installed() == set(BASE.split())
    assert venvs(log) == [f"python3 -m venv --clear {pi.checkout}/.venv"]            # its own site-packages only
    assert pip(log) == ["-e .[test] lgpio"]
    assert log[-1] == "venv/bin/turnero demo"


def test_a_pi_on_raspberry_pi_os_uses_its_python3_lgpio_through_the_system_site_packages(tmp_path):
    pi = PlayedMachine(tmp_path, RASPBERRY_PI_OS, PI_4)
    log = pi.run("demo")
    assert installs(log) == [BASE, "python3-lgpio"]
    assert venvs(log) == [f"python3 -m venv --clear --system-site-packages {pi.checkout}/.venv"]
    assert pip(log) == ["-e .[test]"]


@pytest.mark.parametrize("archive", [DEBIAN_12, RASPBERRY_PI_OS], ids=["plain Debian", "Raspberry Pi OS"])
def test_on_a_pi_a_second_run_installs_nothing_and_asks_apt_nothing(tmp_path, archive):
    pi = PlayedMachine(tmp_path, archive, PI_4)
    pi.run("demo")
    again = pi.run("demo")
    assert again == ["venv/bin/python -c ", "venv/bin/turnero demo"]


def test_the_demo_of_a_network_of_sites_gets_postgresql_and_the_one_site_demo_does_not(tmp_path):
    pc = PlayedMachine(tmp_path, DEBIAN_12, None)
    assert installs(pc.run("demo")) == [BASE]
    # PostgreSQL, and the browser that takes the screenshots of the central's page
    assert installs(pc.run("demo", "--sites", "2")) == ["postgresql chromium chromium-driver libnss3-tools"]


@pytest.mark.parametrize("model", [None, "QEMU Virt PlayedMachine\0"], ids=["no device tree", "another board"])
def test_a_machine_that_is_not_a_pi_gets_no_lgpio(tmp_path, model):
    pc = PlayedMachine(tmp_path, RASPBERRY_PI_OS, model)
    log = pc.run("tests", "-q")
    assert installs(log) == [" ".join(DEBIAN_12)]
    assert venvs(log) == [f"python3 -m venv --clear {pc.checkout}/.venv"]
    assert pip(log) == ["-e .[test]"]
    assert log[-1] == "venv/bin/python -m pytest -q"
