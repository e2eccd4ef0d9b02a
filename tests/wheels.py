"""Wheels the tests write themselves, so that installing one needs no package index."""
import zipfile
from pathlib import Path


def probe_wheel(folder: Path, name: str = "mlcycle-probe", version: str = "1.0") -> Path:
    """A minimal pure-Python wheel of `name` holding the module `name` with dashes as
    underscores, whose `__version__` is version."""
    module = name.replace("-", "_")
    folder.mkdir(parents=True, exist_ok=True)
    info = f"{module}-{version}.dist-info"
    files = {
        f"{module}/__init__.py": f'__version__ = "{version}"\n',
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\n"
                         "Tag: py3-none-any\n",
    }
    files[f"{info}/RECORD"] = "".join(f"{n},,\n" for n in [*files, f"{info}/RECORD"])
    path = folder / f"{module}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        for member, text in files.items():
            wheel.writestr(member, text)
    return path


def host_finds(module: str) -> bool:
    """Whether the service's own interpreter (the one running the tests) imports module."""
    import subprocess
    import sys

    probe = f"import importlib.util as u; print(u.find_spec({module!r}) is not None)"
    shown = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                           check=True)
    return shown.stdout.strip() == "True"


def remove_from_host(name: str, module: str) -> None:
    """Undo a failed test's damage: uninstall name from the service's interpreter if a
    job's install reached it, so that the shared venv stays as it was."""
    import subprocess
    import sys

    if host_finds(module):
        subprocess.run([sys.executable, "-m", "pip", "uninstall", "-y", name],
                       capture_output=True, check=False)
