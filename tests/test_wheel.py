"""The package works from an installed wheel, not only from the checkout."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_wheel_builds_and_queries_from_another_directory(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(REPO)],
                   check=True, timeout=300)
    wheel = next(wheels.glob("sarcoma_kg-*.whl"))
    env_dir = tmp_path / "venv"
    # The fresh environment sees this environment's installed dependencies (so the test
    # needs no network), but sarcoma-kg itself only from the wheel.
    # (No pip of its own, 4 s of ensurepip: this environment's pip installs into it with --python.)
    venv.create(env_dir, with_pip=False, system_site_packages=False)
    python = env_dir / "bin" / "python"
    site = subprocess.run([sys.executable, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    target_site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                 capture_output=True, text=True, check=True).stdout.strip()
    (Path(target_site) / "deps.pth").write_text(site + "\n", encoding="utf-8")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)],
                   check=True, timeout=300)
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    cli = env_dir / "bin" / "sarcoma-kg"
    env = {"PATH": f"{env_dir / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path)}
    located = subprocess.run([str(python), "-c", "import kg.resources as r; print(r.resource_path('queries'))"],
                             capture_output=True, text=True, cwd=workdir, env=env, check=True).stdout
    assert "_resources" in located and str(REPO) not in located, located
    build = subprocess.run([str(cli), "build"], check=False, capture_output=True, text=True, cwd=workdir, env=env, timeout=300)
    assert build.returncode == 0, build.stderr
    assert (workdir / "dist" / "sarcoma-kg.ttl").is_file()
    query = subprocess.run([str(cli), "query", "therapies-by-target", "-p", "target=pd-1"],
                           check=False, capture_output=True, text=True, cwd=workdir, env=env, timeout=120)
    assert query.returncode == 0, query.stderr
    assert "pembrolizumab" in query.stdout
