"""Installs the hjdl Python package: a ctypes binding of the C library libhjdl (no compiled
extension). At build time the shared library built by CMake is copied into the package:
$HJDL_BUILD_DIR/libhjdl.so, else ../build/libhjdl.so next to this directory. When neither
exists the package relies on a libhjdl installed on the system (`cmake --install`), or on
$HJDL_LIBRARY at run time.

Offline install (no network needed; setuptools comes from Debian):
    pip install --no-build-isolation ./python
There is deliberately no pyproject.toml: with one, pip would create an isolated build
environment and try to download setuptools from PyPI.
"""

import os
import re
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def project_version():
    """The version in CMakeLists.txt's project(hjdl VERSION x.y.z)."""
    try:
        with open(os.path.join(ROOT, "CMakeLists.txt"), encoding="utf-8") as f:
            m = re.search(r"project\(\s*hjdl\s+VERSION\s+([0-9.]+)", f.read())
        if m:
            return m.group(1)
    except OSError:
        pass
    return "0.1.0"


def built_library():
    """The CMake-built libhjdl.so to bundle, or None."""
    dirs = []
    if os.environ.get("HJDL_BUILD_DIR"):
        dirs.append(os.environ["HJDL_BUILD_DIR"])
    dirs.append(os.path.join(ROOT, "build"))
    for d in dirs:
        p = os.path.join(d, "libhjdl.so")
        if os.path.exists(p):
            return os.path.realpath(p)
    return None


class BuildPy(build_py):
    """build_py that also copies libhjdl.so into the package directory."""

    def run(self):
        super().run()
        lib = built_library()
        dest = os.path.join(self.build_lib, "hjdl", "libhjdl.so")
        if lib:
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            shutil.copyfile(lib, dest)
            print(f"hjdl: bundled {lib}")
        else:
            print("hjdl: no CMake-built libhjdl.so found (set HJDL_BUILD_DIR); the package will "
                  "load the system's libhjdl (or $HJDL_LIBRARY)")


class BinaryDistribution(Distribution):
    """A platform wheel when it carries the shared library."""

    def has_ext_modules(self):
        return built_library() is not None


setup(
    name="hjdl",
    version=project_version(),
    description="Hamilton-Jacobi theory of deep learning: ctypes binding of libhjdl",
    long_description=open(os.path.join(HERE, "README.md"), encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    license="see the hjdl repository",
    packages=["hjdl"],
    package_data={"hjdl": ["py.typed"]},
    python_requires=">=3.8",
    install_requires=["numpy"],
    cmdclass={"build_py": BuildPy},
    distclass=BinaryDistribution,
    zip_safe=False,
)
