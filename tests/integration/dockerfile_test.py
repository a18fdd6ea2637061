"""deploy/Dockerfile's runtime stage installs every shared library the binary links:
each NEEDED entry of the built binary must come from a Debian package the runtime stage
lists, from one of their dependencies, or from an essential package of the base image.
(There is no Docker engine here to build the image; this catches a library added to the
build without its runtime package — as libmodbus once was.)"""
import os
import re
import subprocess
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
BINARY = os.environ.get("UC_BINARY", os.path.join(ROOT, "build", "src", "app", "unified-connector"))


def runtime_packages():
    text = open(os.path.join(ROOT, "deploy", "Dockerfile")).read()
    stages = re.split(r"^FROM ", text, flags=re.M)
    runtime = stages[-1]
    install = re.search(r"apt-get install[^\n]*?--no-install-recommends(.*?)&&\s*rm -rf", runtime, re.S)
    assert install, "no apt-get install in the runtime stage"
    return set(install.group(1).replace("\\", " ").split())


def closure(packages):
    """The packages plus everything they depend on (Depends/PreDepends, recursively)."""
    out = subprocess.run(["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests", "--no-conflicts",
                          "--no-breaks", "--no-replaces", "--no-enhances", *sorted(packages)],
                         capture_output=True, text=True, check=True).stdout
    names = set()
    for line in out.splitlines():
        line = line.strip().lstrip("|")
        if line.startswith(("Depends:", "PreDepends:")):
            line = line.split(":", 1)[1].strip()
        names.add(line.strip("<>").split(":")[0])
    return names


class DockerfileRuntimeTest(unittest.TestCase):
    def test_runtime_stage_provides_every_linked_library(self):
        needed = [l.split("[")[1].rstrip("]") for l in subprocess.run(
            ["readelf", "-d", BINARY], capture_output=True, text=True, check=True).stdout.splitlines()
            if "(NEEDED)" in l]
        self.assertIn("libc.so.6", needed)
        have = closure(runtime_packages())
        missing = []
        triplet = subprocess.run(["gcc", "-dumpmachine"], capture_output=True, text=True).stdout.strip()
        for lib in needed:
            # dpkg knows a library by the path its package installed (/lib or /usr/lib).
            owners = subprocess.run(["dpkg", "-S", f"/lib/{triplet}/{lib}", f"/usr/lib/{triplet}/{lib}"],
                                    capture_output=True, text=True).stdout
            pkgs = {o.split(":")[0] for o in owners.splitlines() if ":" in o}
            essential = any(subprocess.run(["dpkg-query", "-W", "-f=${Essential}", p], capture_output=True,
                                           text=True).stdout == "yes" for p in pkgs)
            if not (pkgs & have) and not essential:
                missing.append(f"{lib} (from {', '.join(sorted(pkgs)) or '?'})")
        self.assertEqual(missing, [], "deploy/Dockerfile's runtime stage lacks these libraries")


if __name__ == "__main__":
    unittest.main()
